"""Guards issue 23: with `system: {kind: openai}` 9–16 % of turns failed with `AttributeError: partially
initialized module 'httpx' has no attribute 'Timeout'` while the main thread loaded the redaction model
and the dispatcher's threads made their first calls (through the OpenAI client, or langchain-openai).

The race itself shows only now and then; its cause shows every time: modules first imported on a
dispatcher thread while the run's thread is importing others. Each case runs in a fresh interpreter, so
that imports are cold as in a lab's first run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pilots.assistant_support import ROOT


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["openai", "langchain"])
def test_no_module_is_first_imported_by_a_dispatcher_thread(tmp_path: Path, kind: str) -> None:
    """A fresh interpreter, so that imports are cold as in a lab's first run: every module a call needs
    is whole before the dispatcher's threads start (today's code let them import the clients' lazy
    parts while the main thread loaded the name model: the race of the issue)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.pilots.race_probe", str(tmp_path), kind],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["imported_off_the_run_thread"] == []
    assert report["turns"] > 0 and report["failed"] == []
