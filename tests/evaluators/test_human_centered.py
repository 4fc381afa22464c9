"""Human-centred metrics on hand-made records, with k-anonymous breakdowns."""

from __future__ import annotations

from pathlib import Path

import pytest

from civiclab.plugins.evaluation import RunData
from civiclab.plugins.experiment import load_experiment
from civiclab.privacy.grouping import attribute_of
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
        + [record(40 + i, "completed", "medium", 200, ["a", "b", "c"]) for i in range(7)]
    )
    run = RunData.for_experiment(exp, records=records, artifact_dir=tmp_path)
    metrics = human_centered(run, HumanCenteredParams(resamples=200, funnel_plot=True))
    by_key = {m.key: m for m in metrics}
    assert by_key["human_centered.completion_rate"].value == pytest.approx(16 / 22)
    assert by_key["human_centered.resolution_rate"].value == pytest.approx(18 / 22)
    assert by_key["human_centered.abandonment_rate"].value == pytest.approx(4 / 22)
    assert by_key["human_centered.human_reachable_on_failure"].value == pytest.approx(5 / 6)
    assert by_key["human_centered.human_reachable_on_failure"].n == 6  # only the sessions that failed online
    completion = by_key["human_centered.completion_rate"]
    assert completion.ci_low is not None and completion.ci_low < 16 / 22 < completion.ci_high  # type: ignore[operator]
    assert completion.method == "wilson"
    assert by_key["human_centered.completion_rate[digital_literacy=medium]"].value == 1.0
    assert by_key["human_centered.completion_rate[digital_literacy=low]"].value == 0.0
    # Three people are fewer than k = 5: no breakdown may show them, and since the total (22) is
    # published, the next smallest group (high, 6) is hidden too, else 22 − 6 − 7 − 6 would give them away.
    assert not any(m.segment and "digital_literacy=none" in m.segment for m in metrics)
    assert not any(m.segment and "digital_literacy=high" in m.segment for m in metrics)
    # Funnel: 22 reach a, 20 reach b, 16 reach c; the 4 who abandoned did so at b (of the 20 who reached it).
    assert by_key["human_centered.funnel_reached.b"].value == pytest.approx(20 / 22)
    assert by_key["human_centered.step_abandonment.b"].value == pytest.approx(4 / 20)
    assert by_key["human_centered.step_abandonment.b"].n == 20
    assert by_key["human_centered.step_abandonment.a"].value == 0.0
    assert by_key["human_centered.time_on_task_median_s"].value == pytest.approx(200.0)
    gap = by_key["human_centered.equity_gap"]
    assert gap.value == pytest.approx(1.0) and gap.method == "mover"
    assert "by digital_literacy: worst-off digital_literacy=low" in (gap.note or "")
    assert "best-off digital_literacy=medium" in (gap.note or "")
    assert (tmp_path / "plots" / "funnel.png").stat().st_size > 1000


def persona_record(i: int, outcome: str, **segment_and_data: object) -> SessionRecord:
    segment = {
        "age_band": "40-64",
        "digital_literacy": "medium",
        "disability": "none",
        "language": "fr",
        "device": "computer",
        "territory": "urban",
    }
    data = {k: v for k, v in segment_and_data.items() if k not in segment}
    segment.update({k: str(v) for k, v in segment_and_data.items() if k in segment})
    return SessionRecord(session_id=f"s{i}", persona_id="p", segment=segment, outcome=outcome, data=data)  # type: ignore[arg-type]


def test_reach_leaves_out_sessions_it_does_not_apply_to_and_breaks_down_by_group(
    journey_spec: Path, tmp_path: Path
) -> None:
    exp = load_experiment(journey_spec)
    records = (
        # 40 sessions that never failed online: human reach does not apply to them.
        [
            persona_record(i, "completed", failed_online=False, human_reachable_on_failure=None)
            for i in range(40)
        ]
        # 30 that failed online with a human in reach, 10 offline seniors who failed with no one in reach.
        + [
            persona_record(100 + i, "escalated_to_human", failed_online=True, human_reachable_on_failure=True)
            for i in range(30)
        ]
        + [
            persona_record(
                200 + i,
                "abandoned",
                age_band="80+",
                device="none",
                digital_literacy="none",
                failed_online=True,
                human_reachable_on_failure=False,
            )
            for i in range(10)
        ]
    )
    run = RunData.for_experiment(exp, records=records, artifact_dir=tmp_path)
    by_key = {m.key: m for m in human_centered(run, HumanCenteredParams(funnel_plot=False))}
    reach = by_key["human_centered.human_reachable_on_failure"]
    assert (reach.value, reach.n) == (pytest.approx(30 / 40), 40)  # not 70 / 80: the 40 others are left out
    seniors = by_key["human_centered.human_reachable_on_failure[device=none]"]
    assert (seniors.value, seniors.n, seniors.ci_low) == (0.0, 10, 0.0)
    assert seniors.ci_high == pytest.approx(0.2775, abs=1e-4)  # Wilson upper bound of 0 of 10
    crossed = by_key["human_centered.human_reachable_on_failure[age_band=80+&digital_literacy=none]"]
    assert crossed.value == 0.0 and crossed.n == 10
    gap = by_key["human_centered.equity_gap.device"]
    assert "worst-off device=none 0 [0, 0.278] (n = 10) vs best-off device=computer" in (gap.note or "")


def test_equity_never_sets_one_attribute_against_another(journey_spec: Path, tmp_path: Path) -> None:
    exp = load_experiment(journey_spec)
    records = (
        [persona_record(i, "completed", disability="visual") for i in range(10)]
        + [persona_record(20 + i, "completed") for i in range(10)]
        + [persona_record(40 + i, "abandoned", age_band="80+") for i in range(6)]
        + [persona_record(60 + i, "completed" if i < 5 else "abandoned", age_band="18-24") for i in range(10)]
    )
    run = RunData.for_experiment(exp, records=records, artifact_dir=tmp_path)
    metrics = human_centered(run, HumanCenteredParams(funnel_plot=False))
    by_key = {m.key: m for m in metrics}
    for m in metrics:
        if m.name.startswith("human_centered.equity_") and m.note:
            attribute = m.note.split(" by ", 1)[1].split(":", 1)[0]
            groups = [part.split(" ", 1)[0] for part in m.note.split("-off ")[1:]]
            assert all(attribute_of(g) == attribute for g in groups), m.note  # never visual vs 80+
    assert by_key["human_centered.equity_gap.age_band"].value == pytest.approx(1.0)  # 40-64 at 1 vs 80+ at 0
    assert "worst-off age_band=80+" in (by_key["human_centered.equity_gap.age_band"].note or "")
    assert by_key["human_centered.equity_gap.disability"].value == pytest.approx(1 - 15 / 26)
    ratio = by_key["human_centered.equity_ratio.age_band"]
    assert ratio.value == 0.0 and ratio.ci_low == 0.0 and ratio.ci_high is not None and ratio.ci_high < 0.5
