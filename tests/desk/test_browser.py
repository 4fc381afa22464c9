"""The desk in a real Chromium: a member logs in, reads, compares and signs from the keyboard;
`civiclab verify` then shows the signed review; axe-core finds no violation on any page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import axe_violations, chromium, served
from tests.desk.conftest import PASSWORDS, DeskStore

pytestmark = pytest.mark.browser  # Chromium and axe-core: see tests/tools.py


@pytest.fixture
def base_url(desk_app: Any) -> Iterator[str]:
    with served(desk_app, "desk") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def focused(page: Any) -> str:
    return str(page.evaluate("() => document.activeElement.id || document.activeElement.tagName"))


def tab_to(page: Any, element_id: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page) == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}; focus is on {focused(page)}")


def test_member_reads_compares_signs_and_verify_shows_it(
    base_url: str, browser: Any, desk_store: DeskStore
) -> None:
    from civiclab.evidence.verify.verification import verify
    from civiclab.store.tracker import Tracker

    first, second, _ = desk_store.runs
    context = browser.new_context(bypass_csp=True)  # lets the test inject axe; users keep the CSP
    page = context.new_page()
    problems: dict[str, list[str]] = {}

    page.goto(f"{base_url}/runs")  # no session: the login page
    assert page.url.startswith(f"{base_url}/login")
    problems["login"] = axe_violations(page)
    tab_to(page, "username")
    page.keyboard.type("alice")
    tab_to(page, "password")
    page.keyboard.type("wrong password!")
    page.keyboard.press("Enter")
    page.wait_for_selector("#login-error")
    problems["login, wrong password"] = axe_violations(page)
    tab_to(page, "username")
    page.keyboard.type("alice")
    tab_to(page, "password")
    page.keyboard.type(PASSWORDS["alice"])
    page.keyboard.press("Enter")
    page.wait_for_selector("table#runs")
    problems["runs"] = axe_violations(page)

    # Choose two runs with the keyboard and compare them.
    for run in (first, second):
        tab_to(page, f"pick-{run}")
        page.keyboard.press("Space")
    tab_to(page, "compare-button")
    page.keyboard.press("Enter")
    page.wait_for_selector("iframe.report")
    assert "/compare" in page.url
    frame = page.frame_locator("iframe.report")
    frame.locator("table").first.wait_for()
    problems["compare"] = axe_violations(page)
    page.goto(f"{base_url}/compare/report.html?run={first}&run={second}")
    problems["compare report"] = axe_violations(page)

    # Read the scorecard of the first run.
    page.goto(f"{base_url}/runs/{first}?lang=en")
    page.frame_locator("iframe.report").locator("h2#changes").wait_for()
    problems["run"] = axe_violations(page)
    page.goto(f"{base_url}/runs/{first}/report.html")
    assert "Changes since the previous run" in page.inner_text("body")
    problems["scorecard report"] = axe_violations(page)
    page.goto(f"{base_url}/runs/{first}/dimensions")
    problems["dimensions"] = axe_violations(page)

    # Sign a review, keyboard only.
    page.goto(f"{base_url}/runs/{first}")
    before = len(verify(Tracker(desk_store.uri), first, desk_store.trust).reviews)
    tab_to(page, "decision-approve")
    page.keyboard.press("ArrowDown")  # radio group: arrows move to "revise" and check it
    assert page.is_checked("#decision-revise")
    tab_to(page, "review-comment")
    page.keyboard.type("Good evidence; see the territorial gap.")
    tab_to(page, "review-conditions")
    page.keyboard.type("publish the survey results")
    tab_to(page, "review-password")
    page.keyboard.type(PASSWORDS["alice"])
    page.keyboard.press("Enter")
    page.wait_for_selector("p.success")
    assert "line" in page.inner_text("p.success")
    assert "alice" in page.inner_text("#main")
    problems["run after signing"] = axe_violations(page)

    result = verify(Tracker(desk_store.uri), first, desk_store.trust)
    assert result.ok, result.table()
    assert len(result.reviews) == before + 1
    assert (result.reviews[-1].decision, result.reviews[-1].trusted) == ("revise", True)

    # The next visitor (a viewer) sees the signed review.
    other = browser.new_context(bypass_csp=True).new_page()
    other.goto(f"{base_url}/login")
    other.fill("#username", "vera")
    other.fill("#password", PASSWORDS["vera"])
    other.keyboard.press("Enter")
    other.wait_for_selector("table#runs")
    other.goto(f"{base_url}/runs/{first}")
    assert "publish the survey results" in other.inner_text("#reviews ~ div")
    problems["run, viewer"] = axe_violations(other)
    other.goto(f"{base_url}/runs/does-not-exist")
    problems["error page"] = axe_violations(other)
    assert {k: v for k, v in problems.items() if v} == {}


def test_runs_list_run_page_and_upload_have_no_violation(
    base_url: str, browser: Any, desk_store: DeskStore, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SYNTHETIC column and filter, the committee's sentence, an ignored review, and the upload form
    (refused, then accepted), in both languages: axe-core finds no violation."""
    from civiclab.cli import main
    from civiclab.desk.accounts import passphrase_variable
    from civiclab.evidence.review import add_review
    from civiclab.evidence.verify.verification import verify
    from civiclab.store.tracker import Tracker
    from tests.reviewer_keys import reviewer_key

    run = desk_store.runs[1]
    tracker = Tracker(desk_store.uri)
    add_review(tracker, run, key=reviewer_key("desk-outsider"), reviewer="carol", decision="approve")
    monkeypatch.setenv(passphrase_variable("desk-carol"), PASSWORDS["carol"])
    signed = tmp_path / "review.json"
    args = ["--tracking-uri", desk_store.uri, "review", run, "--key", "desk-carol", "--decision", "revise"]
    assert main([*args, "--condition", "a counter in every town", "--out", str(signed)]) == 0
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"payload": "not a review"}')

    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(f"{base_url}/login")
    page.fill("#username", "carol")
    page.fill("#password", PASSWORDS["carol"])
    page.keyboard.press("Enter")
    page.wait_for_selector("table#runs")
    problems: dict[str, list[str]] = {}
    for lang in ("en", "fr"):
        page.goto(f"{base_url}/runs?synthetic=yes&lang={lang}")
        assert page.locator("table#runs .status-synthetic").count() >= 3
        problems[f"runs, synthetic, {lang}"] = axe_violations(page)
        page.goto(f"{base_url}/runs/{run}?lang={lang}")
        assert page.locator("#committee-words").inner_text()
        problems[f"run with an ignored review, {lang}"] = axe_violations(page)

    page.goto(f"{base_url}/runs/{run}?lang=en")
    page.set_input_files("#review-file", str(garbage))
    page.click("form[enctype] button")
    page.wait_for_selector("p.problem")
    assert "The review was not recorded: not a DSSE envelope" in page.inner_text("p.problem")
    problems["upload refused"] = axe_violations(page)
    page.set_input_files("#review-file", str(signed))
    page.click("form[enctype] button")
    page.wait_for_selector("p.success")
    assert "Review uploaded" in page.inner_text("p.success")
    assert "a counter in every town" in page.inner_text("#main")
    problems["run after upload"] = axe_violations(page)
    result = verify(tracker, run, desk_store.trust)
    assert result.ok and (result.reviews[-1].signer, result.reviews[-1].decision) == ("carol", "revise")
    assert {k: v for k, v in problems.items() if v} == {}
