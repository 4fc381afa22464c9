"""Statements pulled from a Learning Record Store through the xAPI Statements API.

`GET {url}/statements` with the `X-Experience-API-Version` header, following each page's `more`
link (an IRL resolved against the LRS, xAPI Communication 2.1.3), with HTTP Basic auth from an
environment variable holding `user:password` (never stored, never logged). Filters an LRS does
not implement (Ralph ignores `registration`) are applied again here, so the result is the same.

What the LRS sends is bounded (`civiclab.PagedFeed`, `civiclab.bound_replies`): a `more` link to
another origin is refused (the credentials go to the LRS only), a link back to a page already read
or a page of statements already read stops the read, as do the page and statement caps
(`CIVICLAB_LRS_MAX_PAGES`, `CIVICLAB_LRS_MAX_STATEMENTS`) and a page past `CIVICLAB_MAX_REPLY_BYTES`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from civiclab import PagedFeed, PilotError, bound_replies
from pilots.journey.sources import Provenance

log = logging.getLogger(__name__)
CONTEXT_KINDS = ("parent", "grouping", "category", "other")


class LrsParams(Provenance):
    """`pilot.params.lrs`: where and what to read (and, with `synthetic`, whether it is real)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://", description="the xAPI endpoint, e.g. https://lrs.example/xAPI/")
    auth_env: str | None = Field(
        default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="variable holding user:password"
    )
    since: dt.datetime | None = Field(default=None, description="statements stored after this instant")
    until: dt.datetime | None = Field(default=None, description="statements stored at or before this instant")
    activity: str | None = Field(
        default=None, description="only statements about this activity (or in its context)"
    )
    registration: str | None = Field(
        default=None, pattern=r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"
    )
    version: Literal["1.0.3", "2.0.0"] = "1.0.3"
    page_size: int = Field(default=500, ge=1, le=10_000, description="the `limit` asked per page")
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    retries: int = Field(default=3, ge=0, le=10)

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def statements_url(url: str) -> str:
    base = url.rstrip("/")
    return base if base.endswith("/statements") else base + "/statements"


def _credentials(params: LrsParams) -> tuple[str, str] | None:
    if params.auth_env is None:
        return None
    value = os.environ.get(params.auth_env)
    if not value or ":" not in value:
        raise PilotError(
            f"LRS {params.url}: environment variable {params.auth_env} must hold user:password"
            + (" (it is not set)" if not value else "")
        )
    user, _, password = value.partition(":")
    return user, password


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _wanted(st: Any, params: LrsParams) -> bool:
    """The filters again, client side: a statement the LRS should not have returned is skipped."""
    if not isinstance(st, dict):
        return True  # kept, so the parser reports it
    registration = str(_dict(st.get("context")).get("registration", "")).lower()
    if params.registration is not None and registration != params.registration.lower():
        return bool(_dict(st.get("object")).get("objectType") == "StatementRef")  # voidings have none
    if params.activity is not None:
        obj = _dict(st.get("object"))
        if obj.get("objectType") == "StatementRef" or obj.get("id") == params.activity:
            return True
        related = _dict(_dict(st.get("context")).get("contextActivities"))
        for kind in CONTEXT_KINDS:
            items = related.get(kind)
            items = items if isinstance(items, list) else [items]
            if any(isinstance(a, dict) and a.get("id") == params.activity for a in items):
                return True
        return False
    return True


class _Progress:
    """Statements read so far, on one stderr line, only on a terminal."""

    def __init__(self, url: str) -> None:
        self.enabled = sys.stderr.isatty()
        self.url = url
        self._last = 0.0

    def __call__(self, read: int, pages: int, done: bool = False) -> None:
        if not self.enabled or (not done and time.monotonic() - self._last < 0.2):
            return
        self._last = time.monotonic()
        sys.stderr.write(f"\rLRS {self.url}: {read} statements, {pages} pages" + ("\n" if done else ""))
        sys.stderr.flush()


def read_lrs(params: LrsParams, on_page: Callable[[int], None] | None = None) -> Iterator[Any]:
    """Every statement the LRS returns for the filters, page after page.

    Raises:
        PilotError: the LRS is unreachable, refuses the credentials or answers something else.
    """
    import httpx

    url = statements_url(params.url)
    query: dict[str, str] = {"limit": str(params.page_size)}
    if params.since is not None:
        query["since"] = params.since.isoformat()
    if params.until is not None:
        query["until"] = params.until.isoformat()
    if params.activity is not None:
        query["activity"] = params.activity
        query["related_activities"] = "true"
    if params.registration is not None:
        query["registration"] = params.registration
    auth = _credentials(params)
    progress = _Progress(url)
    read = 0
    first_url = str(httpx.URL(url).copy_merge_params(query))
    next_url: str | None = first_url
    feed = PagedFeed(f"LRS {url}", first_url)
    client = httpx.Client(
        timeout=httpx.Timeout(params.timeout_s),
        headers={"X-Experience-API-Version": params.version, "Accept": "application/json"},
        auth=auth,
        follow_redirects=True,  # httpx drops the credentials on a redirect to another origin
    )
    with bound_replies(client, f"LRS {url}"):
        while next_url is not None:
            page = _get_page(client, next_url, params)
            statements = page.get("statements")
            if not isinstance(statements, list):
                raise PilotError(
                    f"LRS {url}: a page without a `statements` list (not an xAPI StatementResult)"
                )
            feed.read(st.get("id") if isinstance(st, dict) else None for st in statements)
            for st in statements:
                if _wanted(st, params):
                    read += 1
                    yield st
            progress(read, feed.pages)
            if on_page is not None:
                on_page(read)
            more = page.get("more")
            # An empty page ends the read even if the LRS offers `more` (Ralph does at exact multiples).
            next_url = feed.follow(more) if isinstance(more, str) and more and statements else None
    progress(read, feed.pages, done=True)
    log.info("LRS %s: %d statements in %d pages", url, read, feed.pages)


def _get_page(client: Any, url: str, params: LrsParams) -> dict[str, Any]:
    import httpx

    where = statements_url(params.url)
    last = ""
    for attempt in range(params.retries + 1):
        if attempt:
            time.sleep(min(8.0, 0.5 * 2 ** (attempt - 1)))
        try:
            response = client.get(url)
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}"
            continue
        if response.status_code in (429, 502, 503, 504):
            last = f"HTTP {response.status_code}"
            continue
        if response.status_code in (401, 403):
            raise PilotError(
                f"LRS {where}: HTTP {response.status_code}, the credentials in "
                f"{params.auth_env or '(no auth_env)'} were refused"
            )
        if response.status_code != 200:
            raise PilotError(f"LRS {where}: HTTP {response.status_code} on GET statements")
        try:
            data = response.json()
        except ValueError:
            raise PilotError(f"LRS {where}: the answer is not JSON") from None
        if not isinstance(data, dict):
            raise PilotError(f"LRS {where}: the answer is not an xAPI StatementResult")
        return data
    raise PilotError(f"LRS {where}: unreachable after {params.retries + 1} tries ({last})")
