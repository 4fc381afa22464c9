"""Reading an `application/x-www-form-urlencoded` body quickly, as Starlette would read it.

A survey's last page posts every answer of every page (some forty fields). Starlette's form parser
feeds the body through python-multipart's callbacks and unquotes each name and value; here the body
is split once and the names a page of ours sends, known in advance in their encoded form, are looked
up instead of decoded. The result is the same list of (name, value) pairs, in the order sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote_plus, unquote_plus

URLENCODED = "application/x-www-form-urlencoded"


class TooManyFields(ValueError):
    """More fields than the form allows: the body is refused before any value is decoded."""


class UrlencodedReader:
    """Decodes form bodies whose usual field names are known; other names are decoded as usual."""

    def __init__(self, names: Iterable[str], max_fields: int) -> None:
        self.max_fields = max_fields
        self._names = {quote_plus(name): name for name in names}

    def pairs(self, body: bytes) -> list[tuple[str, str]]:
        """The (name, value) pairs of `body`, as Starlette's `request.form()` gives them.

        Bytes are read as latin-1 before unquoting, as Starlette does; empty pairs are skipped.

        Raises:
            TooManyFields: more than `max_fields` pairs.
        """
        text = body.decode("latin-1")
        if not text:
            return []
        parts = text.split("&")
        if len(parts) > self.max_fields:
            raise TooManyFields(f"too many fields ({len(parts)})")
        names = self._names
        out: list[tuple[str, str]] = []
        for part in parts:
            if not part:
                continue
            raw_name, _, raw_value = part.partition("=")
            name = names.get(raw_name)
            if name is None:
                name = unquote_plus(raw_name)
            value = unquote_plus(raw_value) if ("%" in raw_value or "+" in raw_value) else raw_value
            out.append((name, value))
        return out


def is_urlencoded(content_type: str | None) -> bool:
    """Whether a Content-Type header names a urlencoded form (parameters such as charset ignored)."""
    return (content_type or "").split(";", 1)[0].strip().lower() == URLENCODED
