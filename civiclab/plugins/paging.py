"""A feed read page after page, by the link each page gives to the next (xAPI's `more`), within bounds.

The link comes from the server, so it is checked before it is followed:

- it stays on the origin of the first page (scheme, host and port). A relative link, which is what
  the xAPI specification makes `more`, always does; an absolute link to another origin is refused,
  so that the credentials a pilot sends to its server never reach another host;
- a link already followed, or a page holding only items already read (by id), means that the server
  loops: the read stops;
- so does a read past `CIVICLAB_LRS_MAX_PAGES` pages or `CIVICLAB_LRS_MAX_STATEMENTS` items (a
  learning record store is the feed civiclab's pilots read; the limits are its settings).

Each stop is a `PilotError` in one line that names the server and what to change: a run does not
go on with a part of the data nobody can size.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from civiclab.errors import PilotError
from civiclab.home import int_setting

if TYPE_CHECKING:
    import httpx

MAX_PAGES_SETTING = "CIVICLAB_LRS_MAX_PAGES"
MAX_ITEMS_SETTING = "CIVICLAB_LRS_MAX_STATEMENTS"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _shown(number: int) -> str:
    return f"{number:,}".replace(",", " ")


class PagedFeed:
    """The pages of one feed read so far, and the checks on each page and on each link to the next."""

    def __init__(self, where: str, first_url: str) -> None:
        """A feed about to be read.

        Args:
            where: the feed as errors name it, e.g. `LRS https://lrs.example/xAPI/statements`.
            first_url: the absolute URL of its first page, whose origin every page must share.
        """
        import httpx

        self.where = where
        self.first = httpx.URL(first_url)
        self.max_pages = int_setting(MAX_PAGES_SETTING)
        self.max_items = int_setting(MAX_ITEMS_SETTING)
        self.pages = 0
        self.items = 0
        self._followed = {str(self.first)}
        self._seen: set[int] = set()  # hashes of item ids: 8 bytes a statement, not its whole id

    def read(self, ids: Iterable[object]) -> None:
        """Count one page received, holding items with these ids (None for an item without one).

        Raises:
            PilotError: past the page or item cap, or when every item of a non-empty page was read before.
        """
        self.pages += 1
        if self.pages > self.max_pages:
            raise PilotError(
                f"{self.where}: more than {_shown(self.max_pages)} pages ({MAX_PAGES_SETTING}); "
                "narrow the read (since, until, activity) or raise the setting"
            )
        fresh = count = 0
        for item in ids:
            count += 1
            if not isinstance(item, str):
                fresh += 1  # an item without an id is reported by the parser, not taken for a repeat
                continue
            key = hash(item)
            if key not in self._seen:
                self._seen.add(key)
                fresh += 1
        self.items += count
        if self.items > self.max_items:
            raise PilotError(
                f"{self.where}: more than {_shown(self.max_items)} statements ({MAX_ITEMS_SETTING}); "
                "narrow the read (since, until, activity) or raise the setting"
            )
        if count and not fresh:
            raise PilotError(
                f"{self.where}: page {self.pages} holds only statements already read; the server loops, "
                "the read stops"
            )

    def follow(self, link: str) -> str:
        """The absolute URL of the next page, `link` resolved against the first page's URL.

        Raises:
            PilotError: the link leaves the first page's origin, or was followed already.
        """
        target = self.first.join(link)
        if _origin(target) != _origin(self.first):
            raise PilotError(
                f"{self.where}: page {self.pages} links its next page to another origin "
                f"({_shown_origin(target)}); only links on {_shown_origin(self.first)} are followed"
            )
        url = str(target)
        if url in self._followed:
            raise PilotError(
                f"{self.where}: page {self.pages} links back to a page already read; the server loops, "
                "the read stops"
            )
        self._followed.add(url)
        return url


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    port = url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme)
    return url.scheme, url.host, port


def _shown_origin(url: httpx.URL) -> str:
    scheme, host, port = _origin(url)
    return f"{scheme}://{host}:{port}"
