"""What evaluators read (`RunData`) and how the runner calls them."""

from __future__ import annotations

import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from civiclab.errors import EvaluatorError
from civiclab.plugins.piloting import PilotFacts
from civiclab.plugins.sessionlog import RecordStream
from civiclab.plugins.tracing import Feedback, FeedbackValue
from civiclab.privacy.grouping import INTERSECTIONS, hidden_crossings, hidden_segments
from civiclab.records import SEGMENT_ATTRIBUTES, AuditSummary, EnergyReading, Metric, SessionRecord

if TYPE_CHECKING:
    from civiclab.plugins.experiment import Experiment, ResolvedEvaluator
    from civiclab.stats.intervals import Estimate  # numpy: not imported with `import civiclab`

FactsView = TypeVar("FactsView", bound=BaseModel)


@dataclass(kw_only=True)
class RunData:
    """Everything an evaluator may read about a finished run; it never drives the pilot.

    Built by the runner from the loaded experiment (`RunData.for_experiment`), and by `verify` from what
    the run stored (no experiment then: its data files may be gone), so an evaluator reads the
    experiment's name, its k and its seed here, never from `experiment`.
    """

    experiment_name: str
    k: int
    """k-anonymity: no group of fewer than k sessions is ever shown (see `segments`)."""
    seed: int
    """The run's seed: bootstraps seeded with it give the same intervals on a re-run."""
    records: Collection[SessionRecord]
    """The run's records: a `RecordStream` reading `sessions.jsonl` again at each pass (never all in
    memory), or a list in tests. Loop over it, take its `len`; use `rows()` for a fast pass."""
    artifact_dir: Path
    experiment: Experiment | None = None
    """The loaded experiment, for an evaluator that reads a section of the spec (the survey); None
    when evaluators are re-run from a stored run."""
    energy: EnergyReading | None = None
    audit: AuditSummary | None = None
    tags: dict[str, str] = field(default_factory=dict)
    facts: PilotFacts | None = None
    reproducible: bool | None = None
    artifacts: list[Path] = field(default_factory=list)
    audit_check: Callable[[], AuditSummary] | None = None
    """The audit log re-read and re-verified from disk by a watcher that followed it as it was
    written (`civiclab.evidence.audit_watch`); raises `AuditError`. None: verify `audit.jsonl` here."""
    feedback: list[Feedback] = field(default_factory=list)
    """Per-session (per-turn) grades evaluators add with `assess`; attached to the run's traces."""
    _keep: list[list[SessionRecord]] = field(default_factory=list, init=False, repr=False)
    _segments: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def for_experiment(
        cls,
        experiment: Experiment,
        *,
        records: Collection[SessionRecord],
        artifact_dir: Path,
        energy: EnergyReading | None = None,
        audit: AuditSummary | None = None,
        tags: dict[str, str] | None = None,
        facts: PilotFacts | None = None,
        reproducible: bool | None = None,
        audit_check: Callable[[], AuditSummary] | None = None,
    ) -> RunData:
        """What evaluators read of a run of `experiment`: its name, k and seed taken from the spec."""
        spec = experiment.spec
        return cls(
            experiment_name=spec.name,
            k=spec.privacy.k_anonymity,
            seed=spec.population.seed,
            records=records,
            artifact_dir=artifact_dir,
            experiment=experiment,
            energy=energy,
            audit=audit,
            tags={} if tags is None else tags,
            facts=facts,
            reproducible=reproducible,
            audit_check=audit_check,
        )

    def assess(
        self,
        session_id: str,
        name: str,
        value: FeedbackValue | None,
        *,
        rationale: str | None = None,
        span: str | None = None,
        source: str = "civiclab",
    ) -> None:
        """Grade one step (`span`) of one session; the run shows it on that session's trace."""
        self.feedback.append(
            Feedback(
                session_id=session_id, name=name, value=value, rationale=rationale, span=span, source=source
            )
        )

    def facts_as(self, view: type[FactsView]) -> FactsView | None:
        """The pilot's facts read through the evaluator's own `view` of them, or None without facts.

        An evaluator declares the fields it reads (with defaults for those it can do without) in a
        pydantic model of its own, so it never imports a pilot module; the fields are read from the
        pilot's `PilotFacts` by attribute, which keeps fields excluded from dumps (personal values).

        Raises:
            EvaluatorError: the facts lack a field the view requires, or hold it with another type.
        """
        if self.facts is None:
            return None
        if isinstance(self.facts, view):
            return self.facts
        try:
            return view.model_validate(self.facts, from_attributes=True)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
            raise EvaluatorError(
                f"the {type(self.facts).__name__} of this run do not fit {view.__name__}: {fields}"
            ) from None

    def add_artifact(self, path: Path) -> None:
        """Declare a file an evaluator wrote under `artifact_dir` so that it is logged and hashed."""
        self.artifacts.append(path)

    def rows(self, containing: bytes | None = None) -> Iterator[dict[str, Any]]:
        """One streaming pass over the records as plain dicts (as written to `sessions.jsonl`).

        What the built-in evaluators read: parsing a dict costs a tenth of building a `SessionRecord`.
        `containing` lets a stream skip, unparsed, the lines without those canonical-JSON bytes
        (`b'"outcome":"failed"'`); rows are not all filtered by it, so check the row anyway.
        """
        if isinstance(self.records, RecordStream):
            yield from self.records.rows(containing)
            return
        for record in self.records:
            row = dict(record.__dict__)
            row["events"] = [e if isinstance(e, dict) else e.as_dict() for e in record.events]
            yield row

    def segments(
        self, attributes: Iterable[str] = SEGMENT_ATTRIBUTES
    ) -> dict[str, Collection[SessionRecord]]:
        """Records grouped as `attribute=value`, k-anonymous with secondary suppression.

        Computed once per set of attributes (one counting pass); with a streamed run each group is
        itself a stream over `sessions.jsonl`, so grouping holds no records in memory.
        """
        key = (tuple(attributes), len(self.records), self.k)
        cached = self._segments.get(key)
        if cached is None:
            cached = self._segments[key] = group_records(self.records, key[0], self.k)
        return dict(cached)

    def narrowed(
        self, records: list[SessionRecord], intersections: bool = False
    ) -> dict[str, Collection[SessionRecord]]:
        """The k-anonymous groups of a subset of the sessions (those a metric is defined for).

        Cached for the same subset list: the median and the 90th percentile time share one grouping.
        """
        key = (("#narrowed", id(records), str(intersections)), len(records), self.k)
        cached = self._segments.get(key)
        if cached is None:
            cached = group_records(records, SEGMENT_ATTRIBUTES, self.k)
            if intersections:
                cached.update(group_intersections(records, INTERSECTIONS, self.k, cached))
            self._segments[key] = cached
            self._keep.append(records)  # keeps id(records) from being reused while cached
        return dict(cached)

    def intersections(
        self, pairs: Iterable[tuple[str, str]] = INTERSECTIONS
    ) -> dict[str, Collection[SessionRecord]]:
        """Records grouped as `a=x&b=y` for each pair, k-anonymous so that no hidden cell can be
        recovered from its row or column (the single-attribute segments, which are published)."""
        pairs = tuple(pairs)
        key = (("&",) + tuple(f"{a}&{b}" for a, b in pairs), len(self.records), self.k)
        cached = self._segments.get(key)
        if cached is None:
            cached = self._segments[key] = group_intersections(self.records, pairs, self.k, self.segments())
        return dict(cached)


def group_records(
    records: Collection[SessionRecord], attributes: Iterable[str], k: int
) -> dict[str, Collection[SessionRecord]]:
    """`attribute=value` groups of at least k, with complementary suppression against the total.

    From a `RecordStream`, one counting pass decides the groups and each group is a stream of its
    own (nothing held in memory); from a list, each group is a list.
    """
    attributes = tuple(attributes)
    if isinstance(records, RecordStream):
        sizes: Counter[tuple[str, object]] = Counter()
        for row in records.rows():
            segment = row["segment"]
            sizes.update((a, segment[a]) for a in attributes if segment.get(a) is not None)
        named = {f"{a}={v}": n for (a, v), n in sizes.items()}
        hidden = hidden_segments(named, len(records), k, attributes)
        return {
            f"{a}={v}": records.where((a, v), count=n)
            for (a, v), n in sorted(sizes.items(), key=lambda item: f"{item[0][0]}={item[0][1]}")
            if f"{a}={v}" not in hidden
        }
    groups: dict[str, list[SessionRecord]] = defaultdict(list)
    for record in records:
        for attribute in attributes:
            value = record.segment.get(attribute)
            if value is not None:
                groups[f"{attribute}={value}"].append(record)
    hidden = hidden_segments({g: len(rs) for g, rs in groups.items()}, len(records), k, attributes)
    return {name: rs for name, rs in sorted(groups.items()) if name not in hidden}


def group_intersections(
    records: Collection[SessionRecord],
    pairs: Iterable[tuple[str, str]],
    k: int,
    published: Mapping[str, Collection[SessionRecord]],
) -> dict[str, Collection[SessionRecord]]:
    """`a=x&b=y` groups; a row or column total counts as published when its segment is shown.

    Streams for a `RecordStream` (one counting pass per pair), lists for a list.
    """
    margins = {name: len(rs) for name, rs in published.items()}
    out: dict[str, Collection[SessionRecord]] = {}
    for a, b in pairs:
        if isinstance(records, RecordStream):
            sizes: Counter[tuple[object, object]] = Counter()
            for row in records.rows():
                x, y = row["segment"].get(a), row["segment"].get(b)
                if x is not None and y is not None:
                    sizes[(x, y)] += 1
            cells: dict[tuple[str, str], Collection[SessionRecord]] = {
                (f"{a}={x}", f"{b}={y}"): records.where((a, x), (b, y), count=n)
                for (x, y), n in sizes.items()
            }
        else:
            listed: dict[tuple[str, str], list[SessionRecord]] = defaultdict(list)
            for record in records:
                x, y = record.segment.get(a), record.segment.get(b)
                if x is not None and y is not None:
                    listed[(f"{a}={x}", f"{b}={y}")].append(record)
            cells = dict(listed)
        hidden = hidden_crossings({c: len(rs) for c, rs in cells.items()}, margins, k)
        out.update({f"{r}&{c}": rs for (r, c), rs in sorted(cells.items()) if (r, c) not in hidden})
    return out


def metric_from(
    name: str,
    estimate: Estimate,
    *,
    dimension: str,
    unit: str = "",
    higher_is_better: bool | None = None,
    segment: str | None = None,
    note: str | None = None,
    error: str | None = None,
    unit_of_replication: str | None = None,
) -> Metric:
    """The metric of an estimate: its value, interval, n, interval method and units carried over unchanged.

    The one way an evaluator turns an `Estimate` into a `Metric`, so that no interval bound or method
    is dropped on the way (verdicts and sample-size checks read them). `unit_of_replication` names
    the unit when the estimate does not (each observation its own unit: distinct units = n).
    """
    return Metric(
        name=name,
        value=estimate.value,
        unit=unit,
        dimension=dimension,
        higher_is_better=higher_is_better,
        ci_low=estimate.ci_low,
        ci_high=estimate.ci_high,
        n=estimate.n,
        method=estimate.method,
        segment=segment,
        note=note,
        error=error,
        census=estimate.population if estimate.method == "census" else None,
        unit_of_replication=estimate.unit_of_replication or unit_of_replication,
        distinct_units=estimate.units
        if estimate.units is not None
        else (estimate.n if unit_of_replication and estimate.value is not None else None),
        design_effect=estimate.design_effect,
    )


def per_segment(
    run: RunData,
    name: str,
    compute: Callable[[list[SessionRecord]], Estimate],
    *,
    dimension: str,
    unit: str = "",
    higher_is_better: bool | None = None,
    records: list[SessionRecord] | None = None,
    intersections: bool = False,
    unit_of_replication: str | None = None,
) -> list[Metric]:
    """One metric overall and one per k-anonymous segment (and intersection, if asked).

    `records` narrows the metric to the sessions it is defined for (completed ones for a time on
    task, failed ones for a fallback): sessions outside it are left out, never counted as false.
    A narrowed group is shown only if the group is shown for the whole run, and is itself
    k-anonymous with secondary suppression. `unit_of_replication` names what one observation is when
    the estimates do not say (``session``).
    """
    rows = [
        metric_from(
            name,
            compute(list(run.records if records is None else records)),
            dimension=dimension,
            unit=unit,
            higher_is_better=higher_is_better,
            unit_of_replication=unit_of_replication,
        )
    ]
    groups = run.segments()
    if intersections:
        groups.update(run.intersections())
    if records is not None:
        groups = {s: rs for s, rs in run.narrowed(records, intersections).items() if s in groups}
    for segment, group in groups.items():
        rows.append(
            metric_from(
                name,
                compute(list(group)),
                dimension=dimension,
                unit=unit,
                higher_is_better=higher_is_better,
                segment=segment,
                unit_of_replication=unit_of_replication,
            )
        )
    return rows


def run_evaluators(run: RunData, evaluators: list[ResolvedEvaluator]) -> tuple[list[Metric], list[str]]:
    """Call each evaluator; a failing one records an error for itself and the run goes on.

    The error metric is named `{dimension}.{evaluator}.evaluator_error`, so two evaluators failing in
    one dimension each keep their own error.
    """
    metrics: list[Metric] = []
    errors: list[str] = []
    for ev in evaluators:
        try:
            produced = list(ev.info.fn(run, ev.params))
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            errors.append(f"{ev.info.name}: {message}")
            metrics.append(
                Metric(
                    name=f"{ev.info.dimension}.{ev.info.name}.evaluator_error",
                    value=None,
                    dimension=ev.info.dimension,
                    error=message,
                    note="".join(traceback.format_exception_only(exc)).strip(),
                )
            )
            continue
        metrics.extend(produced)
    return metrics, errors
