"""The HTML scorecard and comparison in a real Chromium: offline, and no serious axe-core violation."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from civiclab.reporting.compare import compare_runs
from civiclab.reporting.compare_html import write_compare_html
from civiclab.reporting.render import write_report
from civiclab.store.tracker import Tracker
from tests.browser import AXE, CHROMIUM, LAUNCH_ARGS
from tests.tools import PDFTOPPM, require

from .conftest import make_runner, toy_spec

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("browser")
    store = f"sqlite:///{folder}/mlflow.db"
    run = make_runner(folder, store)
    first = run(toy_spec(complete_p=0.8)).run_id
    second = run(toy_spec(complete_p=0.5)).run_id
    tracker = Tracker(store)
    card = write_report(tracker, second, "html", folder / "card.html")
    page = write_compare_html(compare_runs(tracker, run_ids=[first, second]), folder / "cmp")
    return {"scorecard": card, "compare": page}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.mark.parametrize("name", ["scorecard", "compare"])
def test_page_is_offline_and_accessible(name: str, pages: dict[str, Path], browser: Any) -> None:
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(pages[name].as_uri())
    assert [u for u in requested if not u.startswith(("file:", "data:"))] == []
    assert page.evaluate("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
    )
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert problems == []
    page.close()


def test_every_pdf_page_renders(tmp_path: Path, pages: dict[str, Path]) -> None:
    import pypdf

    require(PDFTOPPM)

    tracker_uri = f"sqlite:///{pages['scorecard'].parent}/mlflow.db"
    tracker = Tracker(tracker_uri)
    run_id = tracker.list_runs()[0].run_id
    pdf = write_report(tracker, run_id, "pdf", tmp_path / "card.pdf")
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == len(pypdf.PdfReader(pdf).pages)
    assert all(p.stat().st_size > 2000 for p in images)  # a blank A4 page at 30 dpi is far smaller
