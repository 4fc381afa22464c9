"""Comparisons of real runs: paired when sessions pair, unpaired otherwise, per segment, CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from civiclab.cli import main
from civiclab.errors import SpecError
from civiclab.reporting.compare import compare_runs, to_text
from civiclab.reporting.compare_html import write_compare_html
from civiclab.store.tracker import Tracker

from .conftest import REVIEW_KEY, make_runner, toy_spec

COMPLETION = "human_centered.completion_rate"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("compare")
    store = f"sqlite:///{folder}/mlflow.db"
    run = make_runner(folder, store)
    base = toy_spec(complete_p=0.8)
    base["population"]["sessions"] = 200
    worse = toy_spec(complete_p=0.45)
    worse["population"]["sessions"] = 200
    return {
        "store": store,
        "base": run(base).run_id,
        "same": run(base).run_id,
        "worse": run(worse).run_id,
        "other_seed": run(base, {"population.seed": 8}).run_id,
    }


def overall(report: Any, run_id: str, metric: str) -> Any:
    return next(r for r in report.rows if r.run_id == run_id and r.metric == metric and r.segment is None)


def test_identical_runs_do_not_differ(runs: dict[str, Any]) -> None:
    report = compare_runs(Tracker(runs["store"]), run_ids=[runs["base"], runs["same"]])
    row = overall(report, runs["same"], COMPLETION)
    assert row.paired and row.delta == 0 and row.p_value == 1.0 and not row.significant
    assert report.params_differ == {}
    assert all(not r.significant for r in report.rows)


def test_a_real_difference_is_significant_and_paired(runs: dict[str, Any]) -> None:
    report = compare_runs(Tracker(runs["store"]), run_ids=[runs["base"], runs["worse"]])
    assert report.params_differ == {"pilot.params.complete_p": ["0.8", "0.45"]}
    row = overall(report, runs["worse"], COMPLETION)
    assert row.test == "exact sign-flip (paired)" and row.paired
    assert row.delta is not None and -0.45 < row.delta < -0.25
    assert row.p_holm is not None and row.p_holm < 0.001 and row.significant
    assert row.effect_name == "Cohen's h" and row.effect is not None and row.effect < -0.5
    duration = overall(report, runs["worse"], "human_centered.duration_s")
    assert duration.test.startswith("sign-flip permutation") and duration.effect_name == "Cohen's d_z"
    energy = overall(report, runs["worse"], "energy.kwh_per_session")
    assert energy.test == "none (no interval stored)" and energy.p_value is None


def test_different_sessions_are_compared_unpaired(runs: dict[str, Any]) -> None:
    report = compare_runs(Tracker(runs["store"]), run_ids=[runs["base"], runs["other_seed"]])
    assert report.params_differ == {"population.seed": ["7", "8"]}
    row = overall(report, runs["other_seed"], COMPLETION)
    assert row.test == "exact permutation (unpaired)" and not row.paired
    assert row.p_value is not None and row.p_value > 0.01  # same pilot, another sample


def test_segments_are_compared_within_k(runs: dict[str, Any]) -> None:
    report = compare_runs(Tracker(runs["store"]), run_ids=[runs["base"], runs["worse"]])
    rural = next(r for r in report.rows if r.metric == COMPLETION and r.segment == "territory=rural")
    assert rural.test == "exact sign-flip (paired)"  # paired sessions share their persona, so their segment
    assert rural.n_baseline is not None and rural.n_baseline >= 5 and rural.n == rural.n_baseline
    assert rural.delta is not None and rural.delta < 0
    unpaired = compare_runs(Tracker(runs["store"]), run_ids=[runs["base"], runs["other_seed"]])
    rural = next(r for r in unpaired.rows if r.metric == COMPLETION and r.segment == "territory=rural")
    assert rural.test == "exact permutation (unpaired)" and rural.n is not None and rural.n >= 5


def test_experiment_mode_html_and_json(
    runs: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = compare_runs(Tracker(runs["store"]), experiment="toy-pilot")
    assert report.baseline == runs["base"] and len(report.runs) == 4
    text = to_text(report)
    assert "pilot.params.complete_p: 0.8, 0.8, 0.45, 0.8" in text
    page = write_compare_html(report, tmp_path / "cmp")
    html = page.read_text()
    assert html.count("data:image/png;base64,") == len(list((tmp_path / "cmp").glob("plot-*.png"))) >= 3
    assert "Parameters that differ" in html and "(significant)" in html
    code = main(["--tracking-uri", runs["store"], "compare", runs["base"], runs["worse"], "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["baseline"] == runs["base"] and len(data["rows"]) > 10


def test_compare_needs_two_runs(runs: dict[str, Any]) -> None:
    with pytest.raises(SpecError, match="at least two runs"):
        compare_runs(Tracker(runs["store"]), run_ids=[runs["base"]])


@pytest.mark.slow
def test_cli_review_report_and_refusal(
    run_toy: Callable[..., Any], store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_toy()
    assert (
        main(
            [
                "--tracking-uri",
                store,
                "review",
                run.run_id,
                "--key",
                REVIEW_KEY,
                "--reviewer",
                "Comité",
                "--decision",
                "approve",
                "--comment",
                "ok",
            ]
        )
        == 0
    )
    assert "review recorded: APPROVE signed as Comité" in capsys.readouterr().out
    out = tmp_path / "r.md"
    assert main(["--tracking-uri", store, "report", run.run_id, "--format", "md", "--output", str(out)]) == 0
    assert "| Comité (key " in out.read_text()  # no trust file: the signed name, marked unchecked
    assert (
        "not checked (no trust file) | — | APPROVE | ok | — | ignored: no trust file, signers not checked |"
        in out.read_text()
    )
    folder = Tracker(store).local_artifact_dir(run.run_id)
    assert folder is not None
    (folder / "sessions.jsonl").write_text("")
    code = main(["--tracking-uri", store, "review", run.run_id, "--key", REVIEW_KEY, "--decision", "reject"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert "review refused: sessions.jsonl: sha256 does not match the manifest" in err


# Guards issue 15: `compare` said nothing when its baseline had not finished (killed run).
@pytest.mark.slow
def test_compare_warns_when_the_baseline_did_not_finish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:///{tmp_path}/mlflow.db"
    run = make_runner(tmp_path, store)
    base, other = run(toy_spec()).run_id, run(toy_spec()).run_id
    tracker = Tracker(store)
    # What the runner leaves after SIGTERM (tests/run/test_runner.py kills a real process for this).
    tracker.set_tags(base, {"civiclab.status": "killed", "civiclab.error": "interrupted: SIGTERM"})
    tracker.end_run(base, "KILLED")
    report = compare_runs(tracker, run_ids=[base, other])
    assert any(n.startswith(f"the BASELINE {base} did not finish (status killed") for n in report.notes)
    assert main(["--tracking-uri", store, "compare", base, other]) == 0
    err = capsys.readouterr().err
    assert f"warning: the BASELINE {base} did not finish" in err


def _holm_reference(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment written from its definition (Holm 1979), for the test only."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def test_only_the_scorecards_criteria_are_tested_and_adjusted(runs: dict[str, Any], tmp_path: Path) -> None:
    """Holm over the pre-declared endpoints only; every other row is descriptive, never 'significant'."""
    report = compare_runs(Tracker(runs["store"]), run_ids=[runs["base"], runs["worse"]])
    folder = Tracker(runs["store"]).local_artifact_dir(runs["base"])
    assert folder is not None
    card = json.loads((folder / "scorecard.json").read_text())
    declared = {(c["metric"], c.get("segment")) for c in card["criteria"]}
    primary = [r for r in report.rows if r.primary]
    assert {(r.metric, r.segment) for r in primary} <= declared and (COMPLETION, None) in {
        (r.metric, r.segment) for r in primary
    }
    tested = [r for r in primary if r.p_value is not None]
    expected = _holm_reference([r.p_value for r in tested])  # type: ignore[misc]
    assert [r.p_holm for r in tested] == pytest.approx(expected)
    descriptive = [r for r in report.rows if not r.primary]
    assert len(descriptive) > len(primary)  # segments and other metrics are not multiplied in
    assert all(r.p_holm is None and r.significant is None for r in descriptive)
    assert "primary endpoints (the scorecard's criteria)" in to_text(report)
