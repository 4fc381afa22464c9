"""Redaction of personal data before anything is logged: e-mails, phones, NIR, IBAN, addresses, names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_STREET = (
    r"(?:rue|avenue|av\.|boulevard|bd|place|chemin|all[ée]e|impasse|route|quai|cours|square|"
    r"r[ée]sidence|lotissement|hameau|lieu-dit|street|road)"
)

# Order matters: longer, more specific patterns first, so an IBAN is not read as a phone number.
PATTERNS: dict[str, re.Pattern[str]] = {
    "NAME": re.compile(r"<name>(.*?)</name>", re.IGNORECASE | re.DOTALL),
    "EMAIL": re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"),
    "IBAN": re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b"),
    "NIR": re.compile(
        r"\b[12][ .]?\d{2}[ .]?(?:0[1-9]|1[0-2]|[2-9]\d)[ .]?(?:\d{2}|2[AB])[ .]?\d{3}[ .]?\d{3}(?:[ .]?\d{2})?\b"
    ),
    "PHONE": re.compile(
        r"(?<![\w+])(?:(?:\+|00)33[ .\-]?(?:\(0\))?[ .\-]?[1-9]|0[1-9])(?:[ .\-]?\d{2}){4}\b"
        r"|(?<![\w+])(?:\+|00)(?!33)[1-9]\d{0,2}[ .\-]?\(?\d{1,4}\)?(?:[ .\-]?\d{2,4}){2,5}\b"
    ),
    "ADDRESS": re.compile(
        r"\b\d{1,4}(?:[ ]?(?:bis|ter))?,?[ ]+" + _STREET + r"[ ]+[^\n,;.?!]{2,60}?"
        r"(?:(?:,[ ]*|[ ]+)\d{5}(?:[ ]+[A-ZÀ-Ý][\w\-' ]{1,40}?)?)?(?=$|[\n,;.?!]|[ ](?:et|and|pour|je|j'|svp)\b)"
        r"|\b\d{5}[ ]+[A-ZÀ-Ý][A-Za-zÀ-ÿ\-']{2,}(?:[ \-][A-ZÀ-Ý][A-Za-zÀ-ÿ\-']+)*\b",
        re.IGNORECASE,
    ),
}


@dataclass(frozen=True)
class Finding:
    """One personal value found in a text: its kind and where it was."""

    kind: str
    start: int
    end: int
    value: str


def find_personal_data(text: str, extra_names: tuple[str, ...] = ()) -> list[Finding]:
    """Every personal value in `text`, without overlaps, in reading order."""
    taken: list[tuple[int, int]] = []
    findings: list[Finding] = []
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            findings.append(Finding(kind, start, end, match.group(0)))
    for name in extra_names:
        if not name:
            continue
        for match in re.finditer(re.escape(name), text, re.IGNORECASE):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            findings.append(Finding("NAME", start, end, match.group(0)))
    return sorted(findings, key=lambda f: f.start)


def redact_text(text: str, extra_names: tuple[str, ...] = ()) -> str:
    """`text` with each personal value replaced by its kind in brackets, e.g. `[EMAIL]`."""
    findings = find_personal_data(text, extra_names)
    if not findings:
        return text
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
        return redact_text(value, extra_names) if _may_hold_personal_data(value) else value
    if isinstance(value, dict):
        return {k: redact(v, extra_names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, extra_names) for v in value]
    return value


def _may_hold_personal_data(text: str) -> bool:
    # A cheap pre-filter: most event strings (ids, step names, verdicts) hold no digits, '@' or tags.
    return len(text) > 4 and (any(c.isdigit() for c in text) or "@" in text or "<" in text)
