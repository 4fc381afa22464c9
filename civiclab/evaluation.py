"""What evaluators read (`RunData`) and how the runner calls them."""

from __future__ import annotations

import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from civiclab.errors import EvaluatorError
from civiclab.piloting import PilotFacts
from civiclab.records import SEGMENT_ATTRIBUTES, EnergyReading, Metric, SessionRecord

if TYPE_CHECKING:
    from civiclab.audit import ChainSummary
    from civiclab.experiment import Experiment, ResolvedEvaluator
    from civiclab.stats import Estimate  # numpy: not imported with `import civiclab`

FactsView = TypeVar("FactsView", bound=BaseModel)


@dataclass
class RunData:
    """Everything an evaluator may read about a finished run; it never drives the pilot."""

    experiment: Experiment
    records: list[SessionRecord]
    artifact_dir: Path
    energy: EnergyReading | None = None
    chain: ChainSummary | None = None
    tags: dict[str, str] = field(default_factory=dict)
    facts: PilotFacts | None = None
    reproducible: bool | None = None
    artifacts: list[Path] = field(default_factory=list)
    _segments: dict[tuple[Any, ...], dict[str, list[SessionRecord]]] = field(
        default_factory=dict, init=False, repr=False
    )

    @property
    def k(self) -> int:
        return self.experiment.spec.privacy.k_anonymity

    @property
    def seed(self) -> int:
        return self.experiment.spec.population.seed

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

    def segments(self, attributes: Iterable[str] = SEGMENT_ATTRIBUTES) -> dict[str, list[SessionRecord]]:
        """Records grouped as `attribute=value`, leaving out any group smaller than k.

        Computed once per set of attributes: every evaluator asks for it, for every metric.
        """
        key = (tuple(attributes), len(self.records), self.k)
        cached = self._segments.get(key)
        if cached is None:
            cached = self._segments[key] = self._group(key[0])
        return dict(cached)

    def _group(self, attributes: tuple[str, ...]) -> dict[str, list[SessionRecord]]:
        groups: dict[str, list[SessionRecord]] = defaultdict(list)
        for record in self.records:
            for attribute in attributes:
                value = record.segment.get(attribute)
                if value is not None:
                    groups[f"{attribute}={value}"].append(record)
        return {name: rs for name, rs in sorted(groups.items()) if len(rs) >= self.k}


def metric_from(
    name: str,
    estimate: Estimate,
    *,
    dimension: str,
    unit: str = "",
    higher_is_better: bool | None = None,
    segment: str | None = None,
) -> Metric:
    return Metric(
        name=name,
        value=estimate.value,
        unit=unit,
        dimension=dimension,
        higher_is_better=higher_is_better,
        ci_low=estimate.ci_low,
        ci_high=estimate.ci_high,
        n=estimate.n,
        segment=segment,
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
) -> list[Metric]:
    """One metric overall and one per segment of at least k sessions."""
    rows = [
        metric_from(
            name,
            compute(run.records if records is None else records),
            dimension=dimension,
            unit=unit,
            higher_is_better=higher_is_better,
        )
    ]
    for segment, group in run.segments().items():
        if records is not None:
            ids = {r.session_id for r in records}
            group = [r for r in group if r.session_id in ids]
            if len(group) < run.k:
                continue
        rows.append(
            metric_from(
                name,
                compute(group),
                dimension=dimension,
                unit=unit,
                higher_is_better=higher_is_better,
                segment=segment,
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
