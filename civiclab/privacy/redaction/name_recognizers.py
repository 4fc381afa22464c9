"""The recognizers of names by dictionary: a known first name and what follows, a known surname alone.

Both read spaCy's tags (from Presidio's NLP artifacts) to tell « Barbier m'a dit » (a person) from a
capitalised word opening a sentence, and the words around a name to tell « l'école Jules Ferry » or
"Park Road" (places) from people.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from civiclab.privacy.redaction.names import (
    CAPITALISED,
    FIRST_NAME_SCORE,
    LANGUAGE,
    NOT_A_PERSON,
    NOT_NAME,
    PARTICLES,
    PLACE_NOUNS,
    STREET_WORDS,
    SURNAME_SCORE,
    WORD,
    ends_in_street,
    first_names,
    is_first_name,
    is_surname,
    names_a_place,
    surnames,
    words,
)

_ELIDED = re.compile(r"[dljnmst][’']")
_DETERMINERS = frozenset(
    words(
        """mon ma mes ton ta tes son sa ses notre votre leur leurs le la les un une des du ce cet cette ces the
        a an my your his her their our this that these those"""
    )
)


def _after_determiner(text: str, index: int) -> bool:
    previous = WORD.findall(text[max(0, index - 12) : index])
    return bool(previous) and previous[-1].lower() in _DETERMINERS


NOT_NAME_TAGS = frozenset({"VERB", "AUX", "ADP", "DET", "PRON", "NUM", "CCONJ", "SCONJ"})


def _tokens_within(nlp_artifacts: Any, start: int, end: int) -> Any:
    """The spaCy tokens that start inside text[start:end], found by bisection (not a scan of the text)."""
    tokens = getattr(nlp_artifacts, "tokens", None)
    indices = getattr(nlp_artifacts, "tokens_indices", None)
    if tokens is None or indices is None:
        return ()
    return tokens[bisect.bisect_left(indices, start) : bisect.bisect_left(indices, end)]


def _tagged_as_non_name(nlp_artifacts: Any, start: int, end: int) -> bool:
    """Whether the spaCy tagger reads a word of text[start:end] as a verb, adverb, number… (« ans coûte »)."""
    return any(
        t.pos_ in NOT_NAME_TAGS and t.lower_ not in PARTICLES
        for t in _tokens_within(nlp_artifacts, start, end)
    )


def _tagged_as_proper_noun(nlp_artifacts: Any, start: int, end: int) -> bool:
    """Whether the tagger reads a word of text[start:end] as a proper noun (or a foreign word).

    A lower-case first name is only a guess (« cas de perte », « bac jaune » are in the dictionary
    too); the guess stands when the tagger agrees that it is a name.
    """
    return any(
        t.pos_ in ("PROPN", "X") for t in _tokens_within(nlp_artifacts, start, end)
    ) and not _tagged_as_non_name(nlp_artifacts, start, end)


def _known_surnames_end(following: list[re.Match[str]], family: frozenset[str]) -> int:
    """Where the known surnames after a first name end (0: none), particles between them allowed."""
    end = 0
    for word in following:
        if is_surname(word.group(), family):
            end = word.end()
        elif word.group().lower() not in PARTICLES:
            break
    return end


def first_name_recognizer() -> Any:
    """A known first name followed by a surname, as a Presidio recognizer."""
    from presidio_analyzer import EntityRecognizer, RecognizerResult
    from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP
    from spacy.lang.fr.stop_words import STOP_WORDS as FR_STOP

    stop = frozenset(FR_STOP | EN_STOP | NOT_NAME) - PARTICLES

    class FirstNameRecognizer(EntityRecognizer):  # type: ignore[misc]
        """A known first name followed by a surname, in any case (« loïc tran », "Hamish McAllister")."""

        def load(self) -> None:
            first_names()
            surnames()

        def analyze(
            self, text: str, entities: list[str], nlp_artifacts: Any = None
        ) -> list[RecognizerResult]:
            names, family = first_names(), surnames()
            words = list(WORD.finditer(text))
            results = []
            i = 0
            while i < len(words):
                first = words[i].group()
                # « Ville de Belleval »: a first name that is also a place noun opens a place name;
                # a lower-case guess needs a name of 4 letters or more (« jai peur », « til »).
                if (
                    not is_first_name(first, names)
                    or first.lower() in PLACE_NOUNS
                    or (
                        first.islower()
                        and len(first) < 4
                        and not (i + 1 < len(words) and is_surname(words[i + 1].group(), family))
                    )
                ):
                    i += 1
                    continue
                capital = first[0].isupper()
                j, end, following = i + 1, words[i].end(), 0
                while j < len(words) and following < 3 and text[words[j - 1].end() : words[j].start()] == " ":
                    w = words[j].group()
                    if w.lower() in PARTICLES and j + 1 < len(words):
                        j += 1
                        continue
                    # In lower case a name is only guessed; « mon avis d'imposition » is not one.
                    fits = (
                        CAPITALISED.match(w) is not None
                        if capital
                        else w.islower() and w not in stop and not _ELIDED.match(w)
                    )
                    if not fits or w.lower() in NOT_A_PERSON or w.lower() in STREET_WORDS:
                        break
                    following += 1
                    end = words[j].end()
                    j += 1
                # A lower-case name is a guess: the tagger must agree, or every word after the first
                # name must be a known surname (« olivier masson », which the tagger reads as nouns).
                guessed = not capital
                if guessed and following and not _tagged_as_proper_noun(nlp_artifacts, words[i].start(), end):
                    end = _known_surnames_end(words[i + 1 : j], family)
                    following = int(end > 0)
                if (
                    following
                    and not names_a_place(text, words[i].start())
                    and not ends_in_street(text, end)
                    and not (guessed and _after_determiner(text, words[i].start()))
                ):
                    results.append(RecognizerResult("NAME", words[i].start(), end, FIRST_NAME_SCORE))
                i = max(j, i + 1)
            return results

    return FirstNameRecognizer(
        supported_entities=["NAME"], supported_language=LANGUAGE, name="civiclab first name"
    )


_SENTENCE_END = re.compile(r"(?:^|[.!?:;\n«\"(])\s*$")
_TITLE_CASE = re.compile(r"^(?:[A-ZÀ-Ýd][’'])?[A-ZÀ-Ý][a-zà-ÿ]+(?:[\-’'][A-ZÀ-Ýa-zà-ÿ][a-zà-ÿ]+)*$")


def _run_start(words: list[re.Match[str]], i: int, text: str) -> int:
    """The index of the first word of the run of capitalised words that word i ends (« Jules Ferry »).

    At most 4 words back: a name is no longer, and a text of capitalised words stays linear. A place
    noun (« L'école », "Salle") ends the run: what follows it is named after a person, not one.
    """
    first = max(0, i - 4)
    while (
        i > first
        and text[words[i - 1].end() : words[i].start()] == " "
        and words[i - 1].group()[:1].isupper()
        and re.split("[’']", words[i - 1].group().lower())[-1] not in PLACE_NOUNS
    ):
        i -= 1
    return i


def surname_recognizer() -> Any:
    """A known surname alone, capitalised (« J'ai parlé avec Lemoine », "I spoke to Bennett")."""
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class SurnameRecognizer(EntityRecognizer):  # type: ignore[misc]
        """A capitalised known surname, unless it names a place or is a common word opening a sentence."""

        def load(self) -> None:
            surnames()

        def analyze(
            self, text: str, entities: list[str], nlp_artifacts: Any = None
        ) -> list[RecognizerResult]:
            family, names = surnames(), first_names()
            words = list(WORD.finditer(text))
            results = []
            for i, word in enumerate(words):
                w = word.group()
                if (
                    not w[:1].isupper()
                    or not is_surname(w, family)
                    or not _TITLE_CASE.match(w)
                    or w.lower() in NOT_A_PERSON
                ):
                    continue
                start, end = word.span()
                run = _run_start(words, i, text)
                if run < i and is_first_name(words[i - 1].group(), names):
                    continue  # « Marie Dupont »: the first-name recognizer finds the whole name
                # « l'école Jules Ferry » (the run after a place noun), « the Mayor » (after a
                # determiner a capitalised word is a title or a thing).
                if (
                    names_a_place(text, words[run].start())
                    or ends_in_street(text, end)
                    or _after_determiner(text, words[run].start())
                ):
                    continue
                # A capitalised word opening a sentence is a name only when the tagger reads it as one and
                # no noun follows it (« Case reference CR-118 », "Grace periods apply").
                opening = _SENTENCE_END.search(text, max(0, start - 3), start) is not None
                if _tagged_as_non_name(nlp_artifacts, start, end) or (
                    opening
                    and (
                        not _tagged_as_proper_noun(nlp_artifacts, start, end)
                        or any(t.pos_ in ("NOUN", "ADJ") for t in _tokens_within(nlp_artifacts, end, end + 2))
                    )
                ):
                    continue
                results.append(RecognizerResult("NAME", start, end, SURNAME_SCORE))
            return results

    return SurnameRecognizer(
        supported_entities=["NAME"], supported_language=LANGUAGE, name="civiclab surname"
    )
