"""The report's plots drawn when a run ends: signed with the run, shown from there, drawn again when the
run does not verify."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from civiclab.evidence.signing.envelope import read_envelope
from civiclab.reporting.document import load_document
from civiclab.reporting.html import report_plots
from civiclab.reporting.stored_plots import draw_run_plots, read_run_plots, run_plots
from civiclab.store.tracker import Tracker

from .conftest import toy_spec


def _run_with_plots(tmp_path: Path, store: str) -> tuple[Tracker, str, Path]:
    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment

    spec = tmp_path / "toy.yaml"
    spec.write_text(yaml.safe_dump(toy_spec(), sort_keys=False))
    result = run_experiment(load_experiment(spec), tracking_uri=store, figures=draw_run_plots)
    tracker = Tracker(store)
    folder = tracker.local_artifact_dir(result.run_id)
    assert folder is not None
    return tracker, result.run_id, folder


@pytest.mark.slow
def test_plots_drawn_at_the_end_of_a_run_are_signed_and_are_the_report_s_plots(
    tmp_path: Path, store: str
) -> None:
    tracker, run_id, folder = _run_with_plots(tmp_path, store)
    statement = read_envelope((folder / "statement.dsse.json").read_bytes()).statement()
    signed = {s["name"] for s in statement["subject"]}
    assert {"plots/index.json", "plots/01.png", "plots/02.png"} <= signed

    doc = load_document(tracker, run_id)
    assert doc.verification.evidence_ok
    shown = run_plots(tracker, doc)
    drawn = report_plots(doc)  # what the report drew at request time before: the reference
    assert [(p.title, p.alt) for p in shown] == [(p.title, p.alt) for p in drawn]
    assert [p.png for p in shown] == [(folder / "plots" / f"{i:02d}.png").read_bytes() for i in (1, 2)]
    assert all(p.png.startswith(b"\x89PNG") for p in shown)


@pytest.mark.slow
def test_a_plot_changed_after_signing_is_never_shown(tmp_path: Path, store: str) -> None:
    tracker, run_id, folder = _run_with_plots(tmp_path, store)
    forged = (folder / "plots" / "01.png").read_bytes() + b"forged"
    (folder / "plots" / "01.png").write_bytes(forged)
    assert read_run_plots(folder) is not None  # the file reads; only verification can refuse it
    doc = load_document(tracker, run_id)
    assert not doc.verification.evidence_ok
    failed = {c.name: c.detail for c in doc.verification.checks if c.status == "failed"}
    assert "plots/01.png" in failed["artifacts"]
    shown = run_plots(tracker, doc)
    assert shown and all(p.png != forged for p in shown)
    assert [p.title for p in shown] == [p.title for p in report_plots(doc)]
