"""Redaction of personal data before anything is logged: e-mails, phones, NIR, IBAN, addresses, names.

The runner calls `redact` on every session record; pilots call `redact_text` on what they put in events.
Names are found where they are tagged (`<name>…</name>`), where the caller knows them (`extra_names`), and
where a text introduces a person (« je m'appelle … », « Mme … », "my name is …"): a capitalised run of
words after such a phrase. Recall and precision are measured on a labelled set (see the assistant pilot).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

_STREET = (
    r"(?:rue|avenue|av\.|boulevard|bd|place|chemin|all[ée]e|impasse|route|quai|cours|square|"
    r"r[ée]sidence|lotissement|hameau|lieu-dit|street|road)"
)
# Words that end an address written inside a sentence (« j'habite au 3 rue X depuis deux ans »).
_ADDRESS_STOP = r"et|and|pour|je|j'|svp|avec|depuis|from|since|merci|mon|ma|mes|my"

# A capitalised name word: "Aurélie", "Marie-Claire", "N'Diaye", "O'Neil".
_NAME_WORD = r"[A-ZÀ-Ý](?:[a-zà-ÿ]+|')(?:[\-'][A-ZÀ-Ý]?[a-zà-ÿ]+)*"
_NAME = rf"{_NAME_WORD}(?:[ ]{_NAME_WORD}){{0,3}}"
# Phrases after which a capitalised run of words is a person's name. Case-insensitive triggers only:
# the name itself must be capitalised, so « je suis locataire » is not a name.
_NAME_INTRO = (
    r"(?i:je m['’]appelle|je me nomme|je suis|moi c['’]est|c['’]est|ici|my name is|this is|i['’]m|"
    r"madame|monsieur|mademoiselle|mme|mlle|m\.|mr\.?|mrs\.?|ms\.?|dr\.?|ma[ ]fille|mon[ ]fils|"
    r"mon[ ]mari|ma[ ]femme|mon[ ]conjoint|ma[ ]conjointe|mon[ ]épouse|mon[ ]époux|ma[ ]mère|mon[ ]père|"
    r"ma[ ]sœur|ma[ ]soeur|mon[ ]frère|au[ ]nom[ ]de|my[ ]wife|my[ ]husband)"
)

# Order matters: longer, more specific patterns first, so an IBAN is not read as a phone number.
# A pattern with a group named `v` redacts only that group (the trigger phrase stays readable).
PATTERNS: dict[str, re.Pattern[str]] = {
    "NAME": re.compile(r"<name>(.*?)</name>", re.IGNORECASE | re.DOTALL),
    "EMAIL": re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"),
    "IBAN": re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b"),
    "NIR": re.compile(
        r"(?<!\d[.,])\b[12][ .]?\d{2}[ .]?(?:0[1-9]|1[0-2]|[2-9]\d)[ .]?(?:\d{2}|2[AB])[ .]?\d{3}[ .]?\d{3}(?:[ .]?\d{2})?\b"
    ),
    "PHONE": re.compile(
        r"(?<![\w+])(?<!\d[.,])(?:(?:\+|00)33[ .\-]?(?:\(0\))?[ .\-]?[1-9]|0[1-9])(?:[ .\-]?\d{2}){4}\b"
        r"|(?<![\w+])(?<!\d[.,])(?:\+|00)(?!33)[1-9]\d{0,2}[ .\-]?\(?\d{1,4}\)?(?:[ .\-]?\d{2,4}){1,5}\b"
    ),
    "ADDRESS": re.compile(
        r"\b\d{1,4}(?:[ ]?(?:bis|ter))?,?[ ]+" + _STREET + r"[ ]+[^\n,;.?!]{2,60}?"
        r"(?:(?:,[ ]*|[ ]+)\d{5}(?:[ ]+[A-ZÀ-Ý][\w\-' ]{1,40}?)?)?"
        r"(?=$|[\n,;.?!)]|[ ](?:" + _ADDRESS_STOP + r")\b)"
        r"|\b\d{5}[ ]+[A-ZÀ-Ý][A-Za-zÀ-ÿ\-']{2,}(?:[ \-][A-ZÀ-Ý][A-Za-zÀ-ÿ\-']+)*\b",
        re.IGNORECASE,
    ),
    "PERSON": re.compile(rf"(?<![\w])(?:{_NAME_INTRO})[ ,:]+(?P<v>{_NAME})\b"),
}
# What each pattern reports: the introduced-person pattern is a NAME like the tagged one.
KIND_OF = {"PERSON": "NAME"}


@dataclass(frozen=True)
class Finding:
    """One personal value found in a text: its kind and where it was."""

    kind: str
    start: int
    end: int
    value: str


def find_personal_data(text: str, extra_names: tuple[str, ...] = ()) -> list[Finding]:
    """Every personal value in `text`, without overlaps, in reading order.

    Args:
        text: any text a citizen or a system wrote.
        extra_names: names known to belong to the person (e.g. tagged in a scenario), found anywhere.
    """
    taken: list[tuple[int, int]] = []
    findings: list[Finding] = []

    def take(kind: str, start: int, end: int) -> None:
        if start >= end or any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        findings.append(Finding(kind, start, end, text[start:end]))

    for name in extra_names:
        if name:
            for match in re.finditer(re.escape(name), text, re.IGNORECASE):
                take("NAME", *match.span())
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            start, end = match.span("v") if "v" in pattern.groupindex else match.span()
            take(KIND_OF.get(kind, kind), start, end)
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
        return _redact_string(value, extra_names)
    if isinstance(value, dict):
        return {k: redact(v, extra_names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, extra_names) for v in value]
    return value


_INTRO_HINT = re.compile(_NAME_INTRO + r"[ ,:]+[A-ZÀ-Ý]")


@functools.lru_cache(maxsize=1 << 16)
def _redact_string(text: str, extra_names: tuple[str, ...]) -> str:
    # Cached: logs repeat the same short strings (step ids, channels, verdicts) hundreds of
    # thousands of times; each distinct string is scanned once per process.
    return redact_text(text, extra_names) if _may_hold_personal_data(text, extra_names) else text


_SUSPECT = re.compile(r"[@<\d]")


def _may_hold_personal_data(text: str, extra_names: tuple[str, ...] = ()) -> bool:
    # A cheap pre-filter: most event strings (ids, step names, verdicts) hold no digits, '@', tags,
    # or a capitalised word after a phrase introducing a person. One C-level regex scan each.
    if len(text) <= 4:
        return False
    if extra_names or _SUSPECT.search(text) is not None:
        return True
    return _INTRO_HINT.search(text) is not None
