"""How much evidence a criterion needs: `min_n` defaults per kind of metric, and how many more
sessions or respondents would settle a verdict that the interval leaves open.

Defaults (a criterion's own `min_n` overrides them):

- a **rate** (a share of sessions, turns or respondents; Wilson/Clopper–Pearson interval): 30
  observations. Below about 30 a rate's interval spans more than ±0.15 whatever the rate.
- a **survey scale** (a mean score of an acceptability questionnaire: SUS, trust, ...): 20
  respondents, the smallest sample for which SUS benchmarks (Sauro & Lewis) are reported.
- any **other estimate** with an interval (a time quantile, a mean cost): 30 observations.
- observations that **repeat units** (the assistant's turns, drawn from a bank of questions): the
  minimum counts distinct units (`Metric.distinct_units`, under scorecard rules 3 and later), and
  the advice says how many more *distinct* units would decide, never more repeats of the same ones.
- a **measurement without sampling** (the audit chain is valid, the energy of the run, a count)
  or a **census** (every instance of a finite population measured, `Metric.census`): no minimum;
  n is not a sample size there.
"""

from __future__ import annotations

from typing import Literal

from civiclab.records import Metric
from civiclab.stats import intervals as stats

MetricKind = Literal["rate", "scale", "estimate"]
DEFAULT_MIN_N: dict[MetricKind, int] = {"rate": 30, "scale": 20, "estimate": 30}
UNIT_OF_N: dict[MetricKind, str] = {
    "rate": "observations",
    "scale": "respondents",
    "estimate": "observations",
}
RATE_METHODS = frozenset({"wilson", "clopper-pearson", "cluster-wilson"})
POWER_ASSUMPTIONS = (
    "power 0.8, one-sided alpha 0.025 (the deciding side of the 95% interval), observed value taken as true"
)


def kind_of(metric: Metric) -> MetricKind | None:
    """Which default applies to this metric, or None for a measurement that is not a sample (a census)."""
    if metric.census is not None or metric.method == "census":
        return None
    estimated = metric.method is not None or (metric.n is not None and metric.ci_low is not None)
    if not estimated:
        return None
    if metric.method in RATE_METHODS or (metric.method is None and metric.unit in ("share", "ratio")):
        return "rate"
    if metric.dimension == "acceptability":
        return "scale"
    return "estimate"


def required_n(metric: Metric, min_n: int | None) -> int | None:
    """The criterion's own `min_n`, else the default for the metric's kind (None: no minimum)."""
    if min_n is not None:
        return min_n
    kind = kind_of(metric)
    return None if kind is None else DEFAULT_MIN_N[kind]


PLURAL = {"person": "people", "turn": "turns", "question": "questions", "session": "sessions"}


def plural(unit: str) -> str:
    """'questions' for 'question', 'people' for 'person'."""
    return PLURAL.get(unit, unit if unit.endswith("s") else unit + "s")


def sample_of(metric: Metric, rules: int = 3) -> int:
    """The sample size `min_n` is compared with: distinct units when recorded (rules 3), else n."""
    if rules >= 3 and metric.distinct_units is not None:
        return metric.distinct_units
    return int(metric.n or 0)


def needed_to_decide(metric: Metric, threshold: float) -> int | None:
    """Observations in all — distinct units, for repeated units — that would let the 95% interval clear the
    threshold (see stats.sessions_to_decide).

    For a rate the observed rate is the assumed truth; for another estimate the standard deviation
    of one observation is read back from the interval's width, sd ≈ √n·(high − low)/(2·1.96). When the
    observations repeat units (a design effect is recorded), the calculation runs on the effective
    sample size n/deff and is turned into distinct units, assuming new units are asked about as often
    as today's and are alike as much: more repeats of the same units would not decide it.
    """
    if metric.value is None or metric.n is None or metric.n < 1:
        return None
    value = float(metric.value)
    clustered = metric.design_effect is not None and bool(metric.distinct_units)
    effective = metric.n / float(metric.design_effect) if clustered else float(metric.n)  # type: ignore[arg-type]
    n = max(int(effective), 1)
    if kind_of(metric) == "rate":
        needed = stats.sessions_to_decide(value, threshold, n=n)
    elif metric.ci_low is None or metric.ci_high is None or metric.ci_high <= metric.ci_low:
        return None
    else:
        sd = (effective**0.5) * (float(metric.ci_high) - float(metric.ci_low)) / (2 * stats.Z)
        needed = stats.sessions_to_decide(value, threshold, n=n, sd=sd)
    if needed is None or not clustered:
        return needed
    units = int(metric.distinct_units)  # type: ignore[arg-type]
    per_unit = effective / units
    return max(int(-(-needed // per_unit)), units + 1)


def decide_text(metric: Metric, threshold: float) -> str:
    """'about 363 observations in all (263 more) would decide it (assumptions)', or ''.

    For repeated units: 'about 90 distinct questions in all (51 more, each asked about as often as now)'.
    """
    needed = needed_to_decide(metric, threshold)
    if needed is None:
        return ""
    kind = kind_of(metric) or "estimate"
    if metric.design_effect is not None and metric.distinct_units and metric.unit_of_replication:
        more = max(needed - metric.distinct_units, 1)
        what = f"distinct {plural(metric.unit_of_replication)}"
        return (
            f"about {needed} {what} in all ({more} more, each observed about as often as now; repeating "
            f"the same {metric.distinct_units} would not) would decide it ({POWER_ASSUMPTIONS})"
        )
    more = max(needed - int(metric.n or 0), 1)
    what = plural(metric.unit_of_replication) if metric.unit_of_replication else UNIT_OF_N[kind]
    return f"about {needed} {what} in all ({more} more) would decide it ({POWER_ASSUMPTIONS})"
