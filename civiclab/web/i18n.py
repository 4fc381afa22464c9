"""Which language a request gets, and the links to the same page in the others (the words stay in
each feature: `civiclab.desk.i18n`, `civiclab.survey.messages`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def choose_language(
    languages: Sequence[str], *, query: str | None, cookie: str | None, accept: str | None
) -> str:
    """`?lang=`, else the language chosen before (cookie), else the browser's Accept-Language.

    Args:
        languages: the languages offered, the first one the default.
        query: the `lang` query parameter, if any.
        cookie: the language cookie, if any.
        accept: the Accept-Language header, if any.
    """
    for choice in (query, cookie):
        if choice in languages:
            return str(choice)
    best, best_q = languages[0], -1.0
    for part in (accept or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if primary in languages and q > best_q:
            best, best_q = primary, q
    return best


def path_language(path: str, languages: Sequence[str]) -> str:
    """The language a path starts with (`/en/survey`), else the first one offered."""
    first = path.strip("/").split("/", 1)[0]
    return first if first in languages else languages[0]


def language_links(
    current: str, languages: Sequence[str], label: Callable[[str], str], href: Callable[[str], str]
) -> list[dict[str, str]]:
    """The links of the base template's language switch: every language offered but the current one."""
    return [{"code": code, "label": label(code), "href": href(code)} for code in languages if code != current]
