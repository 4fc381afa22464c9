"""The form in a real Chromium: keyboard only, the error summary, and axe-core on every page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from civiclab.survey.web import create_app
from tests.browser import axe_violations, chromium, served
from tests.survey.conftest import EXPERIMENT, SurveyServer

pytestmark = pytest.mark.browser  # Chromium and axe-core: see tests/tools.py


@pytest.fixture
def base_url(survey: SurveyServer) -> Iterator[str]:
    with served(create_app(survey.ctx, survey.store), "survey server") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def axe_problems(page: Any) -> list[str]:
    """Serious and critical axe-core violations of the page (WCAG 2.1 A/AA rules and best practice)."""
    return axe_violations(page, ("serious", "critical"))


def active(page: Any) -> dict[str, str]:
    return page.evaluate(
        "() => ({id: document.activeElement.id, tag: document.activeElement.tagName, "
        "text: document.activeElement.textContent.trim(), value: document.activeElement.value || ''})"
    )


def tab_until(page: Any, predicate: Any, limit: int = 30) -> dict[str, str]:
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = active(page)
        if predicate(element):
            return element
    raise AssertionError(f"Tab never reached the expected control; focus is on {active(page)}")


def answer_page_with_keyboard(page: Any, choices: dict[str, int]) -> None:
    """Answer each Likert group from the keyboard: Tab into the group, Space, then arrow keys."""
    for group, value in choices.items():
        tab_until(page, lambda e, g=group: e["id"].startswith(f"{g}-"))
        page.keyboard.press("Space")
        for _ in range(value - 1):
            page.keyboard.press("ArrowRight")
        assert page.evaluate(f"() => document.querySelector('input[id^=\"{group}-\"]:checked').value") == str(
            value
        )


def test_keyboard_only_participant_with_error_summary_and_axe_on_every_page(
    survey: SurveyServer, base_url: str, browser: Any
) -> None:
    code = survey.store.create_invitations(EXPERIMENT, 1)[0]
    context = browser.new_context(bypass_csp=True)  # lets the test inject axe; users keep the CSP
    page = context.new_page()
    problems: dict[str, list[str]] = {}

    page.goto(f"{base_url}/en/results")  # before anyone answered: too few to publish anything
    assert "not enough answers yet" in page.inner_text("main")
    problems["results, too few"] = axe_problems(page)

    page.goto(f"{base_url}/fr/")
    assert page.evaluate("() => document.documentElement.lang") == "fr"
    problems["start"] = axe_problems(page)

    # A wrong code: the error summary takes the focus and names the field.
    tab_until(page, lambda e: e["id"] == "code")
    page.keyboard.type("ZZZZ-ZZZZ-ZZZZ")
    page.keyboard.press("Enter")
    page.wait_for_selector("#error-summary")
    assert active(page)["id"] == "error-summary"
    problems["start with error"] = axe_problems(page)

    tab_until(page, lambda e: e["id"] == "code")
    page.keyboard.press("Control+A")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_selector('h1:has-text("Facilité d\'utilisation du service")')
    problems["page 1"] = axe_problems(page)

    # Submit the first page with one answer only: the summary lists the nine others, and its
    # first link takes the keyboard to the first missing question.
    answer_page_with_keyboard(page, {"q-SUS-SQ001": 4})
    tab_until(page, lambda e: e["tag"] == "BUTTON")
    page.keyboard.press("Enter")
    page.wait_for_selector("#error-summary")
    assert active(page)["id"] == "error-summary"
    links = page.locator("#error-summary a")
    assert links.count() == 9
    assert links.first.inner_text().startswith("Question 2 : choisissez une réponse")
    assert page.title().startswith("Erreur :")
    problems["page 1 with errors"] = axe_problems(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert active(page)["id"] == "q-SUS-SQ002-1"
    page.keyboard.press("Shift+Tab")  # back before the group, so the helper tabs into it

    answer_page_with_keyboard(page, {f"q-SUS-SQ{i:03d}": 4 if i % 2 else 2 for i in range(2, 11)})
    assert page.evaluate("() => document.querySelector('#q-SUS-SQ001-4').checked")  # kept from before
    tab_until(page, lambda e: e["tag"] == "BUTTON")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Étape 2 sur 4")

    for step, instrument in ((2, "utaut"), (3, "trust")):
        problems[f"page {step}"] = axe_problems(page)
        inst = next(i for i in survey.ctx.instruments if i.name == instrument)
        answer_page_with_keyboard(page, {f"q-{inst.code}-{item.code}": 3 for item in inst.items})
        tab_until(page, lambda e: e["tag"] == "BUTTON")
        page.keyboard.press("Enter")
        page.wait_for_selector(f"text=Étape {step + 1} sur 4")

    problems["page 4"] = axe_problems(page)
    tab_until(page, lambda e: e["id"] == "q-FB-SQ001")
    page.keyboard.type("Clair, merci.")
    tab_until(page, lambda e: e["tag"] == "BUTTON" and "Envoyer" in e["text"])
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/fr/thanks")
    problems["thanks"] = axe_problems(page)

    [stored] = survey.store.responses(EXPERIMENT)
    assert stored.answers["SUS[SQ001]"] == 4 and stored.answers["SUS[SQ002]"] == 2
    assert stored.answers["UTAUT[EE3]"] == 3 and stored.answers["TRUST[SQ012]"] == 3
    assert stored.answers["FB[SQ001]"] == "Clair, merci."

    # The same code again: a clear refusal page.
    page.goto(f"{base_url}/en/")
    tab_until(page, lambda e: e["id"] == "code")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_selector("text=already been used")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    problems["code used (409)"] = axe_problems(page)

    # Results once enough people answered (the web submission above emptied the results cache).
    for extra in survey.store.create_invitations(EXPERIMENT, 6, {"age_band": "40-64"}):
        survey.store.submit(EXPERIMENT, extra, {f"SUS[SQ{i:03d}]": 4 for i in range(1, 11)}, "fr", 4)
    page.goto(f"{base_url}/fr/results")
    assert "7 personnes ont répondu à tout le questionnaire." in page.inner_text("main")
    tab_until(page, lambda e: e["tag"] == "SUMMARY")
    page.keyboard.press("Enter")  # open the breakdown from the keyboard
    assert page.locator("table.breakdown").first.is_visible()
    problems["results"] = axe_problems(page)
    context.close()
    assert {name: found for name, found in problems.items() if found} == {}


def test_focus_is_visible(survey: SurveyServer, base_url: str, browser: Any) -> None:
    page = browser.new_page()
    page.goto(f"{base_url}/fr/")
    tab_until(page, lambda e: e["id"] == "code")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    width = page.evaluate("() => parseFloat(getComputedStyle(document.activeElement).outlineWidth)")
    assert outline == "solid" and width >= 2
    page.close()
