"""The privacy probe: looks for personal values in bytes and files, without revealing them.

A pilot lists the personal values it generated in its facts (a field excluded from every dump);
an evaluator builds a probe from them and asks it which values a blob or a file contains. The
probe's repr gives counts only, so it cannot leak into a log by accident.

All forms of all values are compiled into one regular expression shaped as a trie, so a file is read
once whatever the number of values (a run of 10,000 sessions probes ~30,000 values).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _forms(value: str) -> set[bytes]:
    """The byte forms a value may take in a blob or a text file: UTF-8, JSON-escaped, hex of UTF-8."""
    folded = value.casefold()
    raw = folded.encode("utf-8")
    escaped = json.dumps(folded)[1:-1].encode("ascii")
    # Haystacks are lower-cased, but the bytes a hex string encodes keep their case: one form per casing.
    hexes = {v.encode("utf-8").hex().encode("ascii") for v in (value, folded, value.upper(), value.title())}
    return {raw, escaped.lower(), *hexes}


def _trie_regex(words: list[bytes]) -> re.Pattern[bytes]:
    trie: dict[Any, Any] = {}
    for word in words:
        node = trie
        for byte in word:
            node = node.setdefault(byte, {})
        node[None] = True

    def render(node: dict[Any, Any]) -> bytes:
        branches = [re.escape(bytes([k])) + render(node[k]) for k in sorted(k for k in node if k is not None)]
        if not branches:
            return b""
        end = None in node
        if len(branches) == 1 and not end:
            return branches[0]
        body = b"(?:" + b"|".join(branches) + b")"
        return body + b"?" if end else body

    return re.compile(render(trie) or b"(?!)")


@dataclass(frozen=True)
class Hit:
    """Where a personal value was found: a place name and which of the probe's values (by index)."""

    where: str
    value_index: int


class PersonalValueProbe:
    """Holds personal values in memory only and reports where they appear."""

    def __init__(self, values: list[str] | tuple[str, ...] = ()) -> None:
        self._owner: dict[bytes, set[int]] = {}
        self._seen: dict[str, int] = {}
        self._pattern: re.Pattern[bytes] | None = None
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        folded = value.casefold()
        # Values shorter than 4 characters would match ordinary text and prove nothing.
        if len(folded) < 4 or folded in self._seen:
            return
        index = self._seen[folded] = len(self._seen)
        for form in _forms(value):
            self._owner.setdefault(form, set()).add(index)
        self._pattern = None

    def __len__(self) -> int:
        return len(self._seen)

    def __repr__(self) -> str:
        return f"<PersonalValueProbe values={len(self._seen)}>"

    __str__ = __repr__

    def scan_bytes(self, blob: bytes, where: str) -> list[Hit]:
        """Every value found in `blob` (case-insensitively where it is text), once each."""
        if not self._owner:
            return []
        if self._pattern is None:
            self._pattern = _trie_regex(sorted(self._owner))
        found: set[int] = set()
        for haystack in (blob.lower(), _decoded_lower(blob)):
            for match in self._pattern.finditer(haystack):
                text = match.group(0)
                # A match hides the shorter values inside it (a family name in a full name): look again.
                for form, owners in self._owner.items():
                    if form in text:
                        found |= owners
        return [Hit(where, i) for i in sorted(found)]

    def scan_file(self, path: Path, where: str | None = None) -> list[Hit]:
        return self.scan_bytes(path.read_bytes(), where or path.name)


def _decoded_lower(blob: bytes) -> bytes:
    # Case-folding must happen on text, not bytes, for accented capitals (É → é).
    return blob.decode("utf-8", errors="ignore").casefold().encode("utf-8")
