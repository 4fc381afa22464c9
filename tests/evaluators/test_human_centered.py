"""Human-centred metrics on hand-made records, with k-anonymous breakdowns."""

from __future__ import annotations

from pathlib import Path

import pytest

from civiclab.evaluation import RunData
from civiclab.experiment import load_experiment
from civiclab.records import SessionRecord
from evaluators.human_centered import HumanCenteredParams, human_centered


def record(
    i: int, outcome: str, literacy: str, duration: float, steps: list[str], **data: object
) -> SessionRecord:
    segment = {
        "age_band": "25-39",
        "digital_literacy": literacy,
        "disability": "none",
        "language": "fr",
        "device": "computer",
        "territory": "urban",
    }
    return SessionRecord(
        session_id=f"s{i}",
        persona_id="p",
        segment=segment,
        outcome=outcome,  # type: ignore[arg-type]
        duration_s=duration,
        steps=[{"step": s} for s in steps],
        data=dict(data),
    )


def test_rates_funnel_time_and_k_anonymity(journey_spec: Path, tmp_path: Path) -> None:
    exp = load_experiment(journey_spec)
    records = (
        [record(i, "completed", "high", 100 + i, ["a", "b", "c"]) for i in range(6)]
        + [
            record(
                10 + i,
                "abandoned",
                "low",
                50,
                ["a", "b"],
                failed_online=True,
                human_reachable_on_failure=i < 3,
            )
            for i in range(4)
        ]
        + [
            record(
                20 + i,
                "escalated_to_human",
                "low",
                70,
                ["a"],
                failed_online=True,
                human_reachable_on_failure=True,
            )
            for i in range(2)
        ]
        + [record(30 + i, "completed", "none", 300, ["a", "b", "c"]) for i in range(3)]  # a group under k=5
    )
    run = RunData(experiment=exp, records=records, artifact_dir=tmp_path)
    metrics = human_centered(run, HumanCenteredParams(resamples=200))
    by_key = {m.key: m for m in metrics}
    assert by_key["human_centered.completion_rate"].value == pytest.approx(9 / 15)
    assert by_key["human_centered.resolution_rate"].value == pytest.approx(11 / 15)
    assert by_key["human_centered.abandonment_rate"].value == pytest.approx(4 / 15)
    assert by_key["human_centered.human_reachable_on_failure"].value == pytest.approx(5 / 6)
    completion = by_key["human_centered.completion_rate"]
    assert completion.ci_low is not None and completion.ci_low < 9 / 15 < completion.ci_high  # type: ignore[operator]
    assert by_key["human_centered.completion_rate[digital_literacy=high]"].value == 1.0
    assert by_key["human_centered.completion_rate[digital_literacy=low]"].value == 0.0
    # Three people are fewer than k = 5: no breakdown may show them.
    assert not any(m.segment == "digital_literacy=none" for m in metrics)
    # Funnel: 15 reach a, 13 reach b, 9 reach c; the 4 who abandoned did so at b.
    assert by_key["human_centered.funnel_reached.b"].value == pytest.approx(13 / 15)
    assert by_key["human_centered.step_abandonment.b"].value == pytest.approx(4 / 13)
    assert by_key["human_centered.step_abandonment.a"].value == 0.0
    assert by_key["human_centered.time_on_task_median_s"].value == pytest.approx(104.0)
    assert by_key["human_centered.equity_gap"].value == pytest.approx(1.0)
    assert (tmp_path / "plots" / "funnel.png").stat().st_size > 1000
