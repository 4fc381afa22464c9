"""Compare runs: metrics with intervals and deltas, a test suited to each metric, effect sizes, the
parameters that differ, per-segment results and plots.

Every run is compared with a baseline: the first run id given, or the oldest finished run of the
experiment. Per-session values come from each run's sessions.jsonl (see `observations`); sessions pair
when both runs have the same session ids and personas, and the tests are then paired. Metrics without
per-session values are compared through their stored 95% intervals.

Runs that asked the same questions are paired by question (`compare_units`); acceptability figures
computed from the same survey responses in both runs are shown, never tested against each other.

Only the pre-declared primary endpoints are tested: the scorecard's criteria (each metric and segment
a criterion names, in either run). Their p-values are Holm-adjusted over those endpoints only, for each
pair of runs; every other row (other metrics, other segments) is descriptive: its p-value is shown
unadjusted, labelled so, and never called significant.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from civiclab.errors import SpecError, TrackingError
from civiclab.privacy.breakdowns import publishable
from civiclab.records import Metric
from civiclab.reporting.compare_units import (
    SAME_RESPONSES,
    UnitValues,
    paired_by_unit,
    responses_digest,
    unit_values,
)
from civiclab.reporting.observations import Observations, observation_for, read_observations
from civiclab.reporting.runs import RunReader, metrics_from_tracking
from civiclab.stats.significance import (
    TestResult,
    holm,
    interval_test,
    mean_test,
    paired_mean_test,
    paired_rate_test,
    rate_test,
)
from civiclab.store.schema import METRICS_FILE, RECOMMENDATION_TAG, SESSIONS_FILE, SESSIONS_TAG
from civiclab.store.status import is_finished, unfinished
from civiclab.store.tracker import MAX_LISTED, RunSummary, Tracker

ALPHA = 0.05


class RunInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str
    experiment: str
    started: str
    recommendation: str | None = None
    sessions: int | None = None
    per_session: bool = Field(description="sessions.jsonl was read for per-session tests")


class ComparisonRow(BaseModel):
    """One metric (or one segment of it) of one run against the baseline."""

    model_config = ConfigDict(extra="forbid")

    metric: str
    segment: str | None = None
    run_id: str
    baseline: float | None
    baseline_low: float | None = None
    baseline_high: float | None = None
    value: float | None
    low: float | None = None
    high: float | None = None
    delta: float | None = None
    delta_low: float | None = None
    delta_high: float | None = None
    test: str
    paired: bool = False
    p_value: float | None = None
    p_holm: float | None = None
    significant: bool | None = None
    primary: bool = Field(default=False, description="a criterion of the scorecard: a pre-declared endpoint")
    effect_name: str | None = None
    effect: float | None = None
    n_baseline: int | None = None
    n: int | None = None
    higher_is_better: bool | None = None
    unit: str = ""


class CompareReport(BaseModel):
    """A comparison of runs against a baseline; `rows` hold every test."""

    model_config = ConfigDict(extra="forbid")

    generated: str = Field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    baseline: str
    runs: list[RunInfo]
    params_differ: dict[str, list[str | None]]
    rows: list[ComparisonRow]
    alpha: float = ALPHA
    notes: list[str] = Field(default_factory=list)


@dataclass
class _Run:
    summary: RunSummary
    metrics: list[Metric]
    obs: Observations | None
    k: int
    endpoints: frozenset[tuple[str, str | None]] = frozenset()
    units: UnitValues = field(default_factory=dict)
    responses: str | None = None  # the digest of the survey responses it scored


def _endpoints(folder: object) -> frozenset[tuple[str, str | None]]:
    """The (metric, segment) of each criterion of the run's scorecard: its pre-declared endpoints."""
    from pathlib import Path

    from civiclab.store.files import UnsafeArtifact, read_artifact
    from civiclab.store.schema import SCORECARD_FILE

    if not isinstance(folder, Path):
        return frozenset()
    try:
        card = json.loads(read_artifact(folder, SCORECARD_FILE))
        return frozenset((str(c["metric"]), c.get("segment")) for c in card.get("criteria") or [])
    except (OSError, ValueError, TypeError, KeyError, AttributeError, UnsafeArtifact):
        return frozenset()


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _load(reader: RunReader, summary: RunSummary, with_sessions: bool) -> _Run:
    folder = reader.folder(summary)
    metrics: list[Metric] | None = None
    obs: Observations | None = None
    if folder is not None:
        from civiclab.store.files import UnsafeArtifact, read_artifact

        try:
            metrics = [Metric.model_validate(m) for m in json.loads(read_artifact(folder, METRICS_FILE))]
        except (OSError, ValueError, TypeError, UnsafeArtifact):
            metrics = None
        sessions = folder / SESSIONS_FILE
        if with_sessions and sessions.exists():
            try:
                obs = read_observations(sessions)
            except UnsafeArtifact:
                obs = None
    try:
        k = int(summary.params.get("privacy.k_anonymity", 5))
    except ValueError:
        k = 5
    chosen = metrics if metrics is not None else metrics_from_tracking(summary.metrics)
    return _Run(summary, chosen, obs, k, _endpoints(folder), unit_values(folder), responses_digest(folder))


def _session_test(
    kind: str,
    key: str,
    stat: str,
    a: Observations,
    b: Observations,
    order: np.ndarray | None,
    segment: str | None = None,
) -> TestResult:
    """Test one observation; `order` aligns b's sessions on a's when the runs pair (else None)."""
    va = (a.binary if kind == "binary" else a.numeric)[key]
    vb = (b.binary if kind == "binary" else b.numeric)[key]
    # Sessions the observation does not apply to are left out, never counted as false.
    da, db = a.applies(key), b.applies(key)
    if order is not None and (kind == "binary" or stat == "mean"):
        # Paired sessions have the same persona, so a segment selects the same pairs in both runs.
        vb, db = vb[order], db[order]
        keep = da & db
        if segment is not None:
            keep &= a.mask(segment)
        va, vb = va[keep], vb[keep]
        return paired_rate_test(va, vb) if kind == "binary" else paired_mean_test(va, vb)
    if segment is not None:
        da, db = da & a.mask(segment), db & b.mask(segment)
    va, vb = va[da], vb[db]
    if kind == "binary":
        return rate_test(va, vb)
    return mean_test(va, vb, statistic=stat)


def _row(
    metric: str,
    segment: str | None,
    base: Metric | None,
    other: Metric | None,
    run_id: str,
    result: TestResult,
    p_holm: float | None,
    primary: bool = False,
) -> ComparisonRow:
    ref = other or base
    assert ref is not None

    def val(m: Metric | None) -> float | None:
        return None if m is None or m.is_missing else float(m.value)  # type: ignore[arg-type]

    va, vb = val(base), val(other)
    return ComparisonRow(
        metric=metric,
        segment=segment,
        run_id=run_id,
        baseline=va,
        baseline_low=base.ci_low if base else None,
        baseline_high=base.ci_high if base else None,
        value=vb,
        low=other.ci_low if other else None,
        high=other.ci_high if other else None,
        delta=None if va is None or vb is None else vb - va,
        delta_low=result.delta_low,
        delta_high=result.delta_high,
        test=result.test,
        paired=result.paired,
        p_value=result.p_value,
        p_holm=p_holm,
        significant=None if p_holm is None or not primary else p_holm < ALPHA,
        primary=primary,
        effect_name=result.effect_name,
        effect=result.effect,
        n_baseline=(result.n_a or (base.n if base else None)),
        n=(result.n_b or (other.n if other else None)),
        higher_is_better=ref.higher_is_better,
        unit=ref.unit,
    )


def _compare_pair(base: _Run, run: _Run) -> list[ComparisonRow]:
    tested: list[tuple[str, str | None, Metric | None, Metric | None, TestResult]] = []
    k = max(base.k, run.k)
    index_a = {
        (m.name, m.segment): m for m in publishable(base.metrics, k) if not m.name.endswith("evaluator_error")
    }
    index_b = {
        (m.name, m.segment): m for m in publishable(run.metrics, k) if not m.name.endswith("evaluator_error")
    }
    order = None
    if base.obs is not None and run.obs is not None and base.obs.pairs_with(run.obs):
        order = run.obs.order_like(base.obs)
    for name, segment in sorted(set(index_a) | set(index_b), key=lambda x: (x[0], x[1] or "")):
        a, b = index_a.get((name, segment)), index_b.get((name, segment))
        if a is None or b is None or a.is_missing or b.is_missing:
            tested.append((name, segment, a, b, TestResult("none (measured in one run only)", None, None)))
            continue
        if a.dimension == "acceptability" and base.responses is not None and base.responses == run.responses:
            tested.append((name, segment, a, b, TestResult(SAME_RESPONSES, None, None)))
            continue
        by_unit = paired_by_unit(name, base.units, run.units) if segment is None else None
        if by_unit is not None:
            tested.append((name, segment, a, b, by_unit))
            continue
        spec = observation_for(name, base.obs) if base.obs is not None and run.obs is not None else None
        result: TestResult | None = None
        if spec is not None and base.obs is not None and run.obs is not None:
            kind, key, stat = spec
            if key in (base.obs.binary if kind == "binary" else base.obs.numeric) and key in (
                run.obs.binary if kind == "binary" else run.obs.numeric
            ):
                if segment is None:
                    result = _session_test(kind, key, stat, base.obs, run.obs, order)
                elif base.obs.mask(segment).sum() >= k and run.obs.mask(segment).sum() >= k:
                    # never test a group smaller than k
                    result = _session_test(kind, key, stat, base.obs, run.obs, order, segment)
        if result is None:
            va, vb = float(a.value), float(b.value)  # type: ignore[arg-type]
            result = interval_test(va, a.ci_low, a.ci_high, vb, b.ci_low, b.ci_high)
        tested.append((name, segment, a, b, result))
    endpoints = base.endpoints | run.endpoints
    primary = [(t[0], t[1]) in endpoints for t in tested]
    adjusted = iter(holm([t[4].p_value for t, first in zip(tested, primary, strict=True) if first]))
    return [
        _row(name, segment, a, b, run.summary.run_id, result, next(adjusted) if first else None, first)
        for (name, segment, a, b, result), first in zip(tested, primary, strict=True)
    ]


def _params_differ(runs: list[_Run]) -> dict[str, list[str | None]]:
    keys = sorted({k for r in runs for k in r.summary.params})
    out: dict[str, list[str | None]] = {}
    for key in keys:
        values = [r.summary.params.get(key) for r in runs]
        if len(set(values)) > 1:
            out[key] = values
    return out


def select_runs(tracker: Tracker, run_ids: list[str] | None, experiment: str | None) -> list[RunSummary]:
    """The runs to compare, baseline first."""
    if run_ids:
        if len(run_ids) < 2:
            raise SpecError("compare", "RUN_ID", "give at least two runs to compare")
        return [tracker.get_run(r) for r in run_ids]
    if not experiment:
        raise SpecError("compare", "RUN_ID / --experiment", "give two or more run ids, or --experiment NAME")
    runs = [r for r in tracker.list_runs(experiment, max_results=MAX_LISTED) if is_finished(r.tags)]
    if len(runs) < 2:
        raise TrackingError(f"experiment {experiment!r} has {len(runs)} finished run(s): nothing to compare")
    return sorted(runs, key=lambda r: r.start_time)


def compare_runs(
    tracker: Tracker,
    *,
    run_ids: list[str] | None = None,
    experiment: str | None = None,
    segments: bool = True,
    max_session_runs: int = 50,
) -> CompareReport:
    """Compare runs against the first (baseline).

    Args:
        run_ids: runs to compare, baseline first; or
        experiment: compare every finished run of this experiment, oldest first.
        segments: also compare per-segment metrics.
        max_session_runs: read sessions.jsonl (per-session tests) only when comparing at most this many
            runs; beyond it, every metric is compared through its stored interval (said in the notes).
    """
    summaries = select_runs(tracker, run_ids, experiment)
    with_sessions = len(summaries) <= max_session_runs
    with RunReader(tracker) as reader:
        runs = [_load(reader, s, with_sessions) for s in summaries]
    base = runs[0]
    rows: list[ComparisonRow] = []
    for run in runs[1:]:
        pair = _compare_pair(base, run)
        rows += pair if segments else [r for r in pair if r.segment is None]
    notes = []
    if not with_sessions:
        notes.append(
            f"{len(runs)} runs: per-session tests skipped (over {max_session_runs}); intervals compared"
        )
    for i, run in enumerate(runs):
        why = unfinished(run.summary)
        if why is not None:
            role = "the BASELINE" if i == 0 else "run"
            notes.append(
                f"{role} {run.summary.run_id} did not finish ({why}): its metrics are partial, "
                "differences against it are not evidence"
            )
    if with_sessions and any(r.obs is None for r in runs):
        missing = [r.summary.run_id for r in runs if r.obs is None]
        notes.append(f"no sessions.jsonl for {len(missing)} run(s): their metrics are compared by interval")
    return CompareReport(
        baseline=base.summary.run_id,
        runs=[
            RunInfo(
                run_id=r.summary.run_id,
                experiment=r.summary.experiment,
                started=_iso(r.summary.start_time),
                recommendation=r.summary.tags.get(RECOMMENDATION_TAG),
                sessions=len(r.obs) if r.obs is not None else _int(r.summary.tags.get(SESSIONS_TAG)),
                per_session=r.obs is not None,
            )
            for r in runs
        ],
        params_differ=_params_differ(runs),
        rows=rows,
        notes=notes,
    )


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _f(x: float | None, spec: str = ".4g") -> str:
    return "—" if x is None else format(x, spec)


def _p(p: float | None) -> str:
    if p is None:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def to_text(report: CompareReport, limit: int = 40) -> str:
    """A terminal summary: runs, parameters that differ, then the overall rows (significant first)."""
    out = [f"Comparing {len(report.runs)} runs against baseline {report.baseline}"]
    if report.params_differ:
        out.append("parameters that differ:")
        for key, values in list(report.params_differ.items())[:20]:
            shown = ", ".join(str(v) for v in values[:6]) + (" …" if len(values) > 6 else "")
            out.append(f"  {key}: {shown}")
    else:
        out.append("parameters: identical")
    overall = [r for r in report.rows if r.segment is None]
    overall.sort(
        key=lambda r: (
            not r.primary,
            not r.significant,
            r.p_holm if r.primary and r.p_holm is not None else 2.0,
        )
    )
    header = ("run", "metric", "baseline", "value", "delta [95% CI]", "p", "effect", "test")
    table = [header]
    for r in overall[:limit]:
        ci = f" [{_f(r.delta_low, '+.3g')}, {_f(r.delta_high, '+.3g')}]" if r.delta_low is not None else ""
        effect = f"{r.effect_name} {_f(r.effect, '+.2f')}" if r.effect_name else "—"
        mark = "*" if r.significant else ""
        table.append(
            (
                r.run_id[:8],
                r.metric[:40],
                _f(r.baseline),
                _f(r.value),
                f"{_f(r.delta, '+.4g')}{ci}",
                (_p(r.p_holm) + mark + " (Holm)") if r.primary else f"{_p(r.p_value)} descr.",
                effect,
                r.test,
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        out.append("  ".join(c.ljust(widths[j]) for j, c in enumerate(row)).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    if len(overall) > limit:
        out.append(f"… {len(overall) - limit} more rows (use --json or --output)")
    significant = sum(1 for r in report.rows if r.significant)
    primary = sum(1 for r in report.rows if r.primary)
    out.append(
        f"* significant at {report.alpha} after Holm adjustment over the {primary} primary endpoints (the "
        f"scorecard's criteria): {significant}; the other {len(report.rows) - primary} rows are descriptive "
        "(p unadjusted, 'descr.')"
    )
    out.extend(f"note: {n}" for n in report.notes)
    return "\n".join(out)
