"""The fast urlencoded reader gives exactly what Starlette's form parser gives, for any body."""

from __future__ import annotations

import asyncio
from urllib.parse import quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers
from starlette.formparsers import FormParser

from civiclab.web.formbody import TooManyFields, UrlencodedReader, is_urlencoded

KNOWN = ["SUS[SQ001]", "SUS[SQ002]", "FB[SQ001]", "csrf_token", "code", "page"]


def starlette_pairs(body: bytes) -> list[tuple[str, str]]:
    """The reference: Starlette's own parser, as `request.form()` runs it."""

    async def stream():  # type: ignore[no-untyped-def]
        yield body
        yield b""

    parser = FormParser(Headers({"content-type": "application/x-www-form-urlencoded"}), stream())
    form = asyncio.run(parser.parse())
    return [(k, str(v)) for k, v in form.multi_items()]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"SUS%5BSQ001%5D=4&SUS%5BSQ002%5D=5&code=ABCD-EFGH-JKMN&page=3",
        b"FB%5BSQ001%5D=R%C3%A9ponse+libre+%26+claire%2B&csrf_token=ab",
        b"a=1&&b=2&",  # empty pairs are skipped
        b"lonely&x=",  # a name without a value
        b"SUS[SQ001]=4",  # brackets not encoded, as a hand-made client may send
        "caf\xe9=\xe9t\xe9".encode("latin-1"),  # raw bytes, read as latin-1 like Starlette does
        b"x=%ZZ&y=%",  # broken escapes stay as they are
    ],
)
def test_reader_matches_starlette_on_worked_examples(body: bytes) -> None:
    assert UrlencodedReader(KNOWN, 100).pairs(body) == starlette_pairs(body)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.sampled_from(KNOWN), st.text(max_size=12)),
            st.text(max_size=20),
        ),
        max_size=12,
    )
)
def test_reader_matches_starlette_on_any_form(fields: list[tuple[str, str]]) -> None:
    body = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in fields).encode()
    assert UrlencodedReader(KNOWN, 100).pairs(body) == starlette_pairs(body)


def test_too_many_fields_are_refused_before_decoding() -> None:
    with pytest.raises(TooManyFields):
        UrlencodedReader(KNOWN, 3).pairs(b"a=1&b=2&c=3&d=4")


def test_content_type_with_a_charset_is_urlencoded() -> None:
    assert is_urlencoded("application/x-www-form-urlencoded; charset=UTF-8")
    assert not is_urlencoded("multipart/form-data; boundary=x")
    assert not is_urlencoded(None)
