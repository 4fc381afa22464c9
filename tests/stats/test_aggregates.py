"""Streaming aggregates and the streamed run: the same numbers as over records held in memory."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from civiclab.plugins.evaluation import RunData
from civiclab.plugins.experiment import load_experiment
from civiclab.plugins.sessionlog import RecordStream
from civiclab.privacy.grouping import GroupTally, group_keys
from civiclab.records import SEGMENT_ATTRIBUTES, SessionRecord
from civiclab.run.runner import run_experiment
from civiclab.stats import intervals as stats
from civiclab.stats.aggregates import Moments, QuantileSketch
from civiclab.store.tracker import Tracker


def test_an_exact_sketch_gives_the_quantile_of_the_values() -> None:
    values = np.random.default_rng(3).lognormal(7, 0.6, size=5000)
    sketch = QuantileSketch()
    for v in values:
        sketch.add(float(v))
    for q in (0.5, 0.9):
        assert sketch.estimate(q) == stats.quantile(values, q)


def test_past_its_exact_limit_a_sketch_stays_within_its_relative_accuracy() -> None:
    values = np.random.default_rng(4).lognormal(7, 0.6, size=40_000)
    left, right = QuantileSketch(exact_limit=1000), QuantileSketch(exact_limit=1000)
    for v in values[:25_000]:
        left.add(float(v))
    for v in values[25_000:]:
        right.add(float(v))
    left.merge(right)
    assert not left.exact and left.n == 40_000
    for q in (0.5, 0.9):
        exact, sketched = stats.quantile(values, q), left.estimate(q)
        assert sketched.n == exact.n
        for a, b in (
            (sketched.value, exact.value),
            (sketched.ci_low, exact.ci_low),
            (sketched.ci_high, exact.ci_high),
        ):
            assert a == pytest.approx(b, rel=0.0025)


def test_moments_and_tallies_merge_like_one_pass() -> None:
    values = np.random.default_rng(5).normal(10, 3, size=1001)
    whole, a, b = Moments(), Moments(), Moments()
    for i, v in enumerate(values):
        whole.add(float(v))
        (a if i < 400 else b).add(float(v))
    a.merge(b)
    assert a.n == whole.n == 1001
    assert a.mean == pytest.approx(values.mean()) and whole.mean == pytest.approx(values.mean())
    assert a.variance == pytest.approx(values.var(ddof=1)) and whole.variance == pytest.approx(
        values.var(ddof=1)
    )
    left, right = GroupTally(), GroupTally()
    left.add(group_keys({"language": "fr"}), ["session", "completed"])
    right.add(group_keys({"language": "fr"}), ["session"])
    right.add(group_keys({"language": "en"}), ["session", "completed"])
    left.merge(right)
    fr = ("language=fr",)
    assert (left.count("session"), left.count("session", fr), left.count("completed", fr)) == (3, 2, 1)


@pytest.fixture(scope="module")
def streamed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, object]]]:
    import shutil

    import yaml

    root = Path(__file__).resolve().parents[2] / "experiments"
    folder = tmp_path_factory.mktemp("streamed")
    shutil.copytree(root / "data", folder / "data")
    raw = yaml.safe_load((root / "journey.yaml").read_text(encoding="utf-8"))
    raw["survey"] = None
    raw["evaluators"] = ["human_centered", "auditability"]
    raw["scorecard"] = {"criteria": []}
    (folder / "journey.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    exp = load_experiment(folder / "journey.yaml", {"population.sessions": 1500, "energy.tracker": "none"})
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    result = run_experiment(exp, tracking_uri=uri)
    art = Tracker(uri).local_artifact_dir(result.run_id)
    assert art is not None
    return art, [m.model_dump() for m in result.metrics]


def test_streamed_human_centered_metrics_equal_those_over_records_in_memory(
    streamed_run: tuple[Path, list[dict[str, object]]],
) -> None:
    """The streaming pass against a direct computation over every record held in a list."""
    art, metrics = streamed_run
    records = [
        SessionRecord.model_validate_json(line) for line in (art / "sessions.jsonl").read_text().splitlines()
    ]
    assert len(records) == 1500
    groups: dict[str | None, list[SessionRecord]] = defaultdict(list)
    for r in records:
        groups[None].append(r)
        for a in SEGMENT_ATTRIBUTES:
            if r.segment.get(a) is not None:
                groups[f"{a}={r.segment[a]}"].append(r)
    published = {g: rs for g, rs in groups.items() if len(rs) >= 5}
    by_key = {(m["name"], m["segment"]): m for m in metrics}
    checked = 0
    for segment, rs in published.items():
        expected = stats.rate([r.outcome == "abandoned" for r in rs], seed=42, resamples=1000)
        got = by_key[("human_centered.abandonment_rate", segment)]
        assert (got["value"], got["ci_low"], got["ci_high"], got["n"]) == (
            expected.value, expected.ci_low, expected.ci_high, expected.n,
        )  # fmt: skip
        done = [r.duration_s for r in rs if r.outcome == "completed"]
        if len(done) >= 5:
            median = stats.quantile(done, 0.5)
            got = by_key[("human_centered.time_on_task_median_s", segment)]
            assert (got["value"], got["ci_low"], got["ci_high"], got["n"]) == (
                median.value, median.ci_low, median.ci_high, median.n,
            )  # fmt: skip
        checked += 1
    assert checked > 10
    failed_online = [r for r in records if r.data.get("failed_online")]
    reach = by_key[("human_centered.human_reachable_on_failure", None)]
    assert reach["n"] == len(failed_online)


def test_third_party_evaluators_still_read_run_records_and_segments(
    streamed_run: tuple[Path, list[dict[str, object]]], journey_spec: Path
) -> None:
    art, _ = streamed_run
    stream = RecordStream(art / "sessions.jsonl")
    experiment = load_experiment(journey_spec)
    run = RunData.for_experiment(experiment, records=stream, artifact_dir=art)
    in_memory = RunData.for_experiment(experiment, records=list(stream), artifact_dir=art)
    assert len(run.records) == 1500
    assert sum(r.outcome == "completed" for r in run.records) == sum(
        r.outcome == "completed" for r in in_memory.records
    )
    streamed, listed = run.segments(), in_memory.segments()
    assert list(streamed) == list(listed)
    for name, group in streamed.items():
        assert len(group) == len(listed[name])
        assert [r.session_id for r in group] == [r.session_id for r in listed[name]]


NON_DIGITAL = {"phone", "counter", "mail", "video"}


def _reference_human_centered(run: RunData) -> dict[tuple[str, str | None], stats.Estimate]:
    """Every per-group figure of `human_centered`, computed over records held in a list (the list
    path of `per_segment`), from the metrics' definitions rather than from the evaluator's tally."""
    from civiclab.plugins.evaluation import per_segment

    records = list(run.records)

    def rate(pred):  # type: ignore[no-untyped-def]
        return lambda rs: stats.rate([pred(r) for r in rs])

    def human(r: SessionRecord) -> bool:
        return bool(NON_DIGITAL.intersection(r.channel_path))

    failed_online = [r for r in records if r.data.get("failed_online")]
    specs = [
        ("completion_rate", rate(lambda r: r.outcome == "completed"), None, True),
        ("resolution_rate", rate(lambda r: r.outcome in ("completed", "escalated_to_human")), None, True),
        ("escalation_rate", rate(lambda r: r.outcome == "escalated_to_human"), None, False),
        ("fallback_rate", rate(lambda r: bool(r.data.get("fallback_used"))), None, False),
        (
            "human_reachable_on_failure",
            rate(lambda r: bool(r.data["human_reachable_on_failure"])),
            [r for r in failed_online if r.data.get("human_reachable_on_failure") is not None],
            True,
        ),
        (
            "offline_resolution_rate",
            rate(lambda r: r.outcome == "escalated_to_human" or (r.outcome == "completed" and human(r))),
            [r for r in failed_online if not (r.outcome == "completed" and not human(r))],
            True,
        ),
        (
            "time_on_task_p90_s",
            lambda rs: stats.quantile([r.duration_s for r in rs], 0.9),
            [r for r in records if r.outcome == "completed"],
            False,
        ),
    ]
    out: dict[tuple[str, str | None], stats.Estimate] = {}
    for name, compute, subset, crossed in specs:
        for m in per_segment(
            run, f"human_centered.{name}", compute, dimension="human_centered", records=subset,
            intersections=crossed,
        ):  # fmt: skip
            out[(m.name, m.segment)] = stats.Estimate(m.value, m.ci_low, m.ci_high, m.n or 0, m.method)
    return out


def test_every_group_figure_of_the_streamed_pass_equals_the_one_over_records_in_a_list(
    streamed_run: tuple[Path, list[dict[str, object]]], journey_spec: Path
) -> None:
    """Rates, reach and offline resolution per segment and intersection, and times per segment:
    the same groups (k-anonymous, secondary suppression) and the same values and intervals."""
    art, metrics = streamed_run
    records = list(RecordStream(art / "sessions.jsonl"))
    run = RunData.for_experiment(load_experiment(journey_spec), records=records, artifact_dir=art)
    expected = _reference_human_centered(run)
    got = {
        (str(m["name"]), m["segment"]): stats.Estimate(
            m["value"], m["ci_low"], m["ci_high"], m["n"], m["method"]
        )  # type: ignore[arg-type]
        for m in metrics
        if m["name"] in {name for name, _ in expected}
    }
    assert got == expected
    crossings = [segment for _, segment in got if segment and "&" in segment]
    assert len(crossings) > 10  # intersections are part of the comparison
    reach = [s for name, s in got if name.endswith("human_reachable_on_failure") and s is not None]
    assert reach  # and the narrowed groups too


@pytest.mark.slow
def test_scoring_a_streamed_run_holds_no_record_in_memory(
    streamed_run: tuple[Path, list[dict[str, object]]], journey_spec: Path, tmp_path: Path
) -> None:
    """Ten times the sessions cost the evaluator a few bytes a session, not a record's kilobytes."""
    import tracemalloc

    from civiclab.plugins.registry import evaluators

    art, _ = streamed_run
    lines = (art / "sessions.jsonl").read_bytes()
    info = evaluators.get("human_centered")
    params = info.params.model_validate({"funnel_plot": False})
    peaks = {}
    for copies in (1, 10):
        path = tmp_path / f"sessions-{copies}.jsonl"
        path.write_bytes(lines * copies)
        run = RunData.for_experiment(
            load_experiment(journey_spec), records=RecordStream(path), artifact_dir=tmp_path
        )
        tracemalloc.start()
        metrics = info.fn(run, params)
        peaks[copies] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert next(m.n for m in metrics if m.name == "human_centered.completion_rate") == 1500 * copies
    per_session = (peaks[10] - peaks[1]) / (1500 * 9)
    record_size = len(lines) / 1500
    assert per_session < 200, (peaks, record_size)  # the times of completed sessions, per segment
    assert record_size > 20 * per_session


def test_a_pass_for_failed_sessions_parses_only_their_lines_and_misses_none(tmp_path: Path) -> None:
    from civiclab.records import canonical_json
    from civiclab.run.journal import record_dict

    def rec(i: int, outcome: str, **kw: object) -> SessionRecord:
        return SessionRecord(
            session_id=f"s{i}", persona_id="p", segment={"language": "fr"}, outcome=outcome, **kw
        )  # type: ignore[arg-type]

    records = [
        rec(0, "completed", data={"outcome": "failed"}),  # the bytes, deeper in a record that did not fail
        rec(1, "failed", error="ValueError: boom"),
        rec(2, "failed"),  # failed without a crash
        rec(3, "abandoned"),
        rec(4, "failed", error="KeyError: x"),
    ]
    path = tmp_path / "sessions.jsonl"
    path.write_text("".join(canonical_json(record_dict(r)) + "\n" for r in records))
    stream = RecordStream(path)
    seen = [r["session_id"] for r in stream.rows(containing=b'"outcome":"failed"')]
    assert seen == ["s0", "s1", "s2", "s4"]  # s3 skipped unparsed; s0 parsed, then told apart

    from civiclab.plugins.registry import evaluators

    run = RunData.for_experiment(load_experiment(Path(__file__).parents[2] / "experiments" / "journey.yaml"),
                  records=stream, artifact_dir=tmp_path)  # fmt: skip
    metrics = {m.name: m for m in evaluators.get("auditability").fn(run, None)}
    assert metrics["auditability.session_errors"].value == 2 / 5
