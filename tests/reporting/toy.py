"""A tiny pilot and evaluator for reporting tests: seeded outcomes whose rates a test can set."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from civiclab.plugins.evaluation import RunData, per_segment
from civiclab.plugins.piloting import EventLog, Pilot
from civiclab.plugins.registry import evaluator, evaluators, pilot, pilots
from civiclab.records import Metric, SessionPlan, SessionRecord
from civiclab.stats.intervals import mean, rate

PILOT = "reporting_toy"
EVALUATOR = "reporting_toy_outcomes"


class ToyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    complete_p: float = 0.8
    escalate_p: float = 0.05
    mean_duration_s: float = 300.0
    rural_penalty: float = 0.0


class ToyPilot(Pilot[ToyParams]):
    """Each session completes, escalates or is abandoned with the configured probabilities."""

    def run_session(self, plan: SessionPlan) -> SessionRecord:
        rng = np.random.default_rng(plan.seed)
        p = self.params.complete_p
        if plan.segment["territory"] == "rural":
            p -= self.params.rural_penalty
        u = rng.random()
        outcome = "abandoned"
        if u < p:
            outcome = "completed"
        elif u < p + self.params.escalate_p:
            outcome = "escalated_to_human"
        duration = float(rng.gamma(4.0, self.params.mean_duration_s / 4.0))
        log = EventLog(plan.session_id, self.session_start(plan))
        log.add("session.start", "citizen", 0.0)
        log.add("session.end", "citizen", duration, outcome=outcome)
        return SessionRecord(
            session_id=plan.session_id,
            persona_id=plan.persona_id,
            segment=plan.segment,
            events=log.events,
            outcome=outcome,  # type: ignore[arg-type]
            duration_s=duration,
            data={"satisfaction": int(rng.integers(1, 6))},
        )


def toy_outcomes(run: RunData, params: Any) -> list[Metric]:
    """Completion, abandonment, escalation and duration, overall and per segment."""
    out: list[Metric] = []
    for name, outcome, hib in (
        ("completion_rate", "completed", True),
        ("abandonment_rate", "abandoned", False),
        ("escalation_rate", "escalated_to_human", None),
    ):
        out += per_segment(
            run,
            f"human_centered.{name}",
            lambda rs, o=outcome: rate([r.outcome == o for r in rs], seed=run.seed),
            dimension="human_centered",
            higher_is_better=hib,
        )
    out += per_segment(
        run,
        "human_centered.duration_s",
        lambda rs: mean([r.duration_s for r in rs], seed=run.seed),
        dimension="human_centered",
        unit="s",
        higher_is_better=False,
    )
    out.append(
        Metric(
            name="energy.kwh_per_session",
            value=0.0001,
            unit="kWh",
            dimension="energy",
            higher_is_better=False,
            n=len(run.records),
        )
    )
    return out


def register() -> None:
    """Register the toy pilot and evaluator once per process."""
    if PILOT not in pilots:
        pilot(PILOT, params=ToyParams)(ToyPilot)
    if EVALUATOR not in evaluators:
        evaluator(EVALUATOR, dimension="human_centered")(toy_outcomes)
