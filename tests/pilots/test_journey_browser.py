"""Two participants in Chromium: one walks the 3D town hall with the keyboard, one switches to the twin at the
first step; their statements land in a real LRS (Ralph) and the observed run counts both sessions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from civiclab.plugins.experiment import load_experiment
from pilots.journey.participants.serve import participant_app
from tests.browser import AXE, CHROMIUM, LAUNCH_ARGS, axe_violations, served
from tests.pilots.participants_support import immersive_spec, invite
from tests.pilots.ralph_support import running_ralph

pytestmark = [pytest.mark.browser, pytest.mark.lrs]
FAST = {"energy.tracker": "none"}
# WebGL through Chromium's software renderer: the scene renders without a GPU.
WEBGL_ARGS = [a for a in LAUNCH_ARGS if a != "--disable-gpu"] + [
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]


def _enrol(page: Any, base: str, code: str, start: str, axe: bool) -> None:
    page.goto(base + "/")
    assert not axe or axe_violations(page) == [], "enrolment page"
    page.fill("#code", code)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/consent")
    assert not axe or axe_violations(page) == [], "consent page"
    page.check("#agree")
    label = "Start in the 3D town hall" if start == "scene" else "Start with plain pages"
    page.get_by_role("button", name=label).click()
    page.wait_for_url(base + "/questions/before")
    assert not axe or axe_violations(page) == [], "questionnaire page"


def _answer_all(page: Any, value: int, action: str = "Send my answers") -> None:
    """Rate every SSQ symptom on the page `value` (each a radio group, as a screen reader sees it)."""
    for group in page.get_by_role("group").all():
        radio = group.get_by_role("radio").nth(value)
        if radio.count():
            radio.check()
    page.get_by_role("button", name=action).click()


def test_two_participants_in_the_scene_and_its_twin_are_counted_by_the_observed_run(
    tmp_path: Path, store_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    from civiclab.run.runner import run_experiment

    assert AXE.is_file() and CHROMIUM.is_file()
    with running_ralph(tmp_path / "lrs", max_page=100) as ralph:
        monkeypatch.setenv("CIVICLAB_TEST_LRS", ralph.credentials)
        monkeypatch.setenv("CIVICLAB_JOURNEY_LRS_FLUSH_S", "3600")  # one POST at close: Ralph's fs backend
        lrs = {"url": ralph.url, "auth_env": "CIVICLAB_TEST_LRS", "page_size": 100}
        spec = immersive_spec(tmp_path, lrs=lrs)
        walker, switcher = invite(tmp_path, 2)
        with (
            participant_app(load_experiment(spec, FAST)) as app,
            served(app, "journey") as base,
            sync_playwright() as p,
        ):
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=WEBGL_ARGS)
            try:
                # The walker keeps the pages' content security policy: the scene must run under it.
                one = browser.new_context().new_page()
                errors: list[str] = []
                one.on("pageerror", lambda exc: errors.append(str(exc)))
                one.on(
                    "console",
                    lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
                )
                _enrol(one, base, walker, "scene", axe=False)
                _answer_all(one, 0)  # no symptom before
                one.wait_for_url(base + "/scene")
                one.wait_for_selector("body[data-ready='true']", timeout=60_000)
                assert one.evaluate("() => !!document.querySelector('canvas.a-canvas')")
                assert one.evaluate("() => !!AFRAME && AFRAME.version") == "1.8.0"
                one.wait_for_selector("body[data-step='lobby']")
                assert "parking desk" in one.inner_text("#caption")
                # Captions and every control are in the accessibility tree, not only drawn in WebGL.
                assert one.get_by_role("status").inner_text().startswith("Welcome")
                for name in (
                    "Go through the door",
                    "Ask for help",
                    "Seated mode",
                    "Stop now",
                    "Switch to plain pages",
                ):
                    assert (
                        one.get_by_role("button", name=name).or_(one.get_by_role("link", name=name)).count()
                        == 1
                    )
                one.keyboard.press("s")  # seated mode
                one.wait_for_selector("#seated[aria-pressed='true']")
                one.keyboard.press("q")  # a snap turn
                for step in ("parking_desk", "documents_room", "confirm"):
                    one.keyboard.press("n")
                    one.wait_for_selector(f"body[data-step='{step}']")
                one.keyboard.press("n")  # the last door: done
                one.wait_for_url(base + "/questions/after")
                _answer_all(
                    one, 1
                )  # every symptom slight after, and presence questions at the scale's second point
                one.wait_for_load_state()
                assert "Thank you" in one.content(), one.content()[-1500:]
                assert errors == []

                two = browser.new_context(bypass_csp=True).new_page()  # lets the test inject axe
                _enrol(two, base, switcher, "scene", axe=True)
                two.get_by_role("button", name="Skip").click()
                two.wait_for_selector("body[data-ready='true']", timeout=60_000)
                two.wait_for_selector("body[data-step='lobby']")
                two.keyboard.press("t")  # to the plain pages at the first step
                two.wait_for_url(base + "/twin/lobby?switch=1")
                assert axe_violations(two) == [], "twin page"
                for step in ("lobby", "parking_desk", "documents_room", "confirm"):
                    assert f"/twin/{step}" in two.url and two.get_by_role("heading", level=1).count() == 1
                    two.get_by_role("button", name="Done").click()
                    two.wait_for_load_state()
                assert two.url == base + "/questions/after"
                two.get_by_role("button", name="Skip").click()
            finally:
                browser.close()
        result = run_experiment(load_experiment(spec, FAST), tracking_uri=store_uri)
    assert result.artifact_dir is not None
    records = [json.loads(line) for line in (result.artifact_dir / "sessions.jsonl").read_text().splitlines()]
    assert len(records) == 2 and [r["outcome"] for r in records] == ["completed", "completed"]
    walked, switched = records  # oldest first
    assert (
        walked["channel_path"] == ["immersive_3d"]
        and walked["data"]["immersive"]["switched_to_twin"] is False
    )
    assert walked["data"]["immersive"]["comfort"] == {"seated": "on"}
    assert (
        walked["data"]["immersive"]["immersive_s"] > 0
        and walked["data"]["immersive"]["exit_reason"] == "finished"
    )
    assert switched["data"]["immersive"]["switched_to_twin"] is True
    assert switched["data"]["immersive"]["switched_at"] == "lobby"
    assert [s["step"] for s in walked["steps"]] == ["lobby", "parking_desk", "documents_room", "confirm"]
