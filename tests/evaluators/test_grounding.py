"""Semantic groundedness with the packaged MiniLM model: meaning and negation, beside the lexical score."""

from __future__ import annotations

import re

import pytest

from civiclab.text.knowledge import load_knowledge_base, passages
from civiclab.text.words import sentences
from evaluators.assistant import groundedness
from evaluators.grounding import SemanticGrounder, answer_sentences, negations
from tests.pilots.assistant_support import DATA


@pytest.fixture(scope="module")
def kb() -> dict[str, str]:
    return {p.id: p.content for p in passages(load_knowledge_base(DATA / "knowledge_base.yaml"))}


@pytest.fixture(scope="module")
def grounder(kb: dict[str, str]) -> SemanticGrounder:
    return SemanticGrounder(kb)


def _copied(kb: dict[str, str]) -> tuple[str, str]:
    """A passage id and one of its sentences without negation, copied word for word."""
    for pid, text in kb.items():
        for sentence in sentences(text)[1:]:
            if negations(sentence) == 0 and len(sentence.split()) > 8:
                return pid, sentence
    raise AssertionError("no plain sentence in the knowledge base")


def test_ne_pas_in_front_of_a_copied_passage_is_grounded_lexically_but_not_semantically(
    kb: dict[str, str], grounder: SemanticGrounder
) -> None:
    pid, sentence = _copied(kb)
    negated = "Ne pas " + sentence[0].lower() + sentence[1:]
    turn = {"answer": negated, "retrieved": [{"passage": pid, "sheet": pid.split(".")[0]}]}
    assert groundedness(turn, kb, 0.7) == 1.0  # the lexical score is fooled: every word is in the passage
    assert grounder.score(negated, {pid}) == 0.0
    assert grounder.score(negated) == 0.0  # nor does any other sentence of the knowledge base say it
    assert grounder.score(sentence, {pid}) == 1.0


def test_an_invented_claim_is_not_grounded(grounder: SemanticGrounder) -> None:
    assert grounder.score("Pour obtenir un passeport il faut d'abord adopter un chat noir au refuge.") == 0.0


def test_an_answer_is_split_into_claims_without_its_citation_lead() -> None:
    answer = "D'après la fiche « Aide au logement » [S01] : Les étudiants y ont droit. Il faut un dossier."
    assert answer_sentences(answer) == ["Les étudiants y ont droit.", "Il faut un dossier."]


@pytest.mark.parametrize(
    ("text", "count"),
    [("Il ne faut pas venir.", 1), ("You cannot come and never will.", 2), ("Les pièces à fournir.", 0)],
)
def test_negation_words_are_counted(text: str, count: int) -> None:
    assert negations(text) == count


@pytest.mark.parametrize(
    ("said", "opposite"),
    [("gratuit", "payant"), ("avant", "après"), ("moins de", "plus de")],
)
def test_an_antonym_in_a_copied_passage_is_not_grounded_semantically(
    kb: dict[str, str], grounder: SemanticGrounder, said: str, opposite: str
) -> None:
    """Issue 23: negation without a negation word (« payant » for « gratuit ») passed as grounded."""
    pid, sentence = next(
        (pid, s)
        for pid, text in kb.items()
        for s in sentences(" ".join(text.split()))
        if re.search(rf"\b{said}\b", s) and not re.search(rf"\b{opposite}\b", s) and negations(s) == 0
    )
    flipped = re.sub(rf"\b{said}\b", opposite, sentence, count=1)
    assert grounder.score(sentence, {pid}) == 1.0
    assert grounder.score(flipped, {pid}) == 0.0
