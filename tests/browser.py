"""What the browser tests share: Debian's Chromium, axe-core from npm, and how to launch them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Headless, and no background traffic: the machine reaches no network but the package registries.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def browser_marks() -> list[pytest.MarkDecorator]:
    """Marks for a browser test module: skipped without Chromium or axe-core, except in CI.

    CI installs both (.ci/run and make), so there a missing one fails the test instead of hiding it.
    """
    marks = [pytest.mark.browser]
    if os.environ.get("CI"):
        return marks
    return [
        *marks,
        pytest.mark.skipif(
            not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
        ),
        pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (npm install)"),
    ]
