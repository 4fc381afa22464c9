"""What the desk and the survey form share (civiclab.web): CSRF anchors, sliding windows, languages."""

from __future__ import annotations

import pytest

from civiclab.web.csrf import CsrfTokens
from civiclab.web.i18n import choose_language, language_links, path_language
from civiclab.web.limits import SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_checks_only_with_the_anchor_it_was_made_for() -> None:
    tokens = CsrfTokens()
    mine, theirs = CsrfTokens.new_anchor(), CsrfTokens.new_anchor()
    assert tokens.check(mine, tokens.token(mine))
    assert not tokens.check(theirs, tokens.token(mine))
    assert not tokens.check(None, tokens.token(mine)) and not tokens.check(mine, None)
    assert not CsrfTokens().check(mine, tokens.token(mine))  # another application's secret
    assert CsrfTokens.usable_anchor(mine)
    assert not any(CsrfTokens.usable_anchor(v) for v in (None, "", "short", "a b" * 10, "x" * 129))


def test_a_sliding_window_allows_the_limit_then_waits_until_the_oldest_event_leaves() -> None:
    clock = Clock()
    window = SlidingWindow(60.0, clock=clock)
    assert [window.allow("10.0.0.1", 3) for _ in range(4)] == [True, True, True, False]
    assert window.allow("10.0.0.2", 3)  # another key has its own count
    clock.now += 20
    assert window.wait("10.0.0.1", 3) == pytest.approx(40.0)
    clock.now += 40
    assert window.wait("10.0.0.1", 3) == 0.0 and window.allow("10.0.0.1", 3)
    window.add("user:ana")
    window.forget("user:ana")
    assert window.wait("user:ana", 1) == 0.0


def test_a_bounded_window_forgets_the_least_recently_seen_key() -> None:
    window = SlidingWindow(60.0, max_keys=2, clock=Clock())
    for key in ("a", "b", "a", "c"):  # `b` is now the least recently seen: forgotten for `c`
        window.add(key)
    assert window.wait("a", 2) > 0 and window.wait("b", 1) == 0.0


def test_the_language_is_the_query_then_the_cookie_then_the_best_accepted() -> None:
    offered = ("fr", "en")
    assert choose_language(offered, query="en", cookie="fr", accept="fr") == "en"
    assert choose_language(offered, query="de", cookie="en", accept="fr") == "en"
    assert choose_language(offered, query=None, cookie=None, accept="de, en-GB;q=0.8, fr;q=0.5") == "en"
    assert choose_language(offered, query=None, cookie=None, accept="en;q=x, fr;q=0.1") == "fr"
    assert choose_language(offered, query=None, cookie=None, accept=None) == "fr"
    assert [path_language(p, offered) for p in ("/en/survey", "/de/", "/", "")] == ["en", "fr", "fr", "fr"]
    links = language_links("fr", offered, str.upper, lambda code: f"/{code}/")
    assert links == [{"code": "en", "label": "EN", "href": "/en/"}]
