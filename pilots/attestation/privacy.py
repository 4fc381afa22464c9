"""The privacy probe: looks for the documents' personal values in bytes and files, without revealing them.

The pilot fills a probe with every personal value it generated; evaluators receive the probe (never
the values) through the run facts and ask it how many values a blob or a file contains. The probe's
repr and its JSON form give counts only, so it cannot leak into a log by accident.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


def _forms(value: str) -> set[bytes]:
    """The byte forms a value may take in a blob or a text file: UTF-8, JSON-escaped, hex of UTF-8."""
    folded = value.casefold()
    raw = folded.encode("utf-8")
    escaped = json.dumps(folded)[1:-1].encode("ascii")
    # Hex is matched against lower-cased haystacks, but the bytes it encodes keep their case.
    hexes = {v.encode("utf-8").hex().encode("ascii") for v in (value, folded, value.upper(), value.title())}
    return {raw, escaped, *hexes}


@dataclass(frozen=True)
class Hit:
    """Where a personal value was found: a place name and which of the probe's values (by index)."""

    where: str
    value_index: int


class PersonalValueProbe:
    """Holds personal values in memory only and reports where they appear."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: list[str] = []
        self._forms: list[set[bytes]] = []
        self._seen: set[str] = set()
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        folded = value.casefold()
        # Values shorter than 4 characters would match ordinary text and prove nothing.
        if len(folded) < 4 or folded in self._seen:
            return
        self._seen.add(folded)
        self._values.append(folded)
        self._forms.append(_forms(value))

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"<PersonalValueProbe values={len(self._values)}>"

    __str__ = __repr__

    def scan_bytes(self, blob: bytes, where: str) -> list[Hit]:
        """Every value found in `blob` (matched case-insensitively where it is text)."""
        haystacks = (blob.lower(), _decoded_lower(blob))
        hits: list[Hit] = []
        for index, forms in enumerate(self._forms):
            if any(form in hay for hay in haystacks for form in forms):
                hits.append(Hit(where, index))
        return hits

    def scan_file(self, path: Path, where: str | None = None) -> list[Hit]:
        return self.scan_bytes(path.read_bytes(), where or path.name)


def _decoded_lower(blob: bytes) -> bytes:
    # Case-folding must happen on text, not bytes, for accented capitals (É → é).
    return blob.decode("utf-8", errors="ignore").casefold().encode("utf-8")
