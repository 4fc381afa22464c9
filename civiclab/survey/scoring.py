"""Scoring survey responses: construct scores, reliability and rates, with uncertainty and k-anonymity.

- A construct's score per respondent is the mean of its items after reverse-scoring
  (x' = min + max - x), or the SUS score (Brooke 1996: 2.5 x the sum of contributions, where
  positive items give x - 1 and negative items 5 - x).
- The overall score of a construct is the mean over respondents with a 95% percentile
  bootstrap interval (`civiclab.stats.intervals.mean`).
- Internal consistency is Cronbach's alpha on the respondents who answered every item of the
  construct, with Feldt's (1965) exact interval under normality: (1 - alpha) / (1 - alpha_hat)
  follows F(n - 1, (n - 1)(k - 1)).
- No number is ever given for fewer than k respondents, overall or in a segment.
- The response rate is over issued invitations only: the people the lab declares invited
  (`survey.invited`), over every response; or the invitation codes issued, over the responses that
  used one (web submissions), never over responses that came without a code. Without either, or
  with more responses than invitations, it is unknown: never the completion rate in disguise.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from civiclab.plugins.evaluation import metric_from
from civiclab.privacy.breakdowns import publishable
from civiclab.records import Metric
from civiclab.spec.instruments import Construct, Instrument
from civiclab.stats import intervals as stats
from civiclab.survey.responses import SurveyResponse

DIMENSION = "acceptability"
PREFIX = "acceptability."
DEFAULT_RESAMPLES = stats.DEFAULT_RESAMPLES
InvitedFrom = Literal["declared", "codes"]


def item_matrix(
    instrument: Instrument, construct: Construct, responses: Sequence[SurveyResponse]
) -> np.ndarray:
    """Answers to a construct's items, one row per response, reverse-scored; NaN where unanswered."""
    items = instrument.construct_items(construct.code)
    scale = instrument.scale
    assert scale is not None  # a construct's items are Likert items, validated to have a scale
    matrix = np.full((len(responses), len(items)), np.nan)
    columns = [instrument.column(item) for item in items]
    for row, response in enumerate(responses):
        answers = response.answers
        for col, column in enumerate(columns):
            value = answers.get(column)
            if isinstance(value, int) and not isinstance(value, bool):
                matrix[row, col] = value
    reverse = np.array([item.reverse for item in items])
    if reverse.any():
        matrix[:, reverse] = scale.min + scale.max - matrix[:, reverse]
    return matrix


def min_answered(instrument: Instrument, construct: Construct) -> int:
    """How many items a respondent must answer for the construct to be scored."""
    n_items = len(instrument.construct_items(construct.code))
    if construct.min_answered is not None:
        return construct.min_answered
    # A sum with a missing item is not comparable to a full one: every item must be answered.
    return n_items if construct.scoring in ("sus", "weighted_sum", "raw_tlx") else math.ceil(n_items / 2)


def scores_from_matrix(matrix: np.ndarray, construct: Construct, needed: int) -> np.ndarray:
    """Each respondent's construct score from a reverse-scored matrix; NaN if too few answers."""
    answered = (~np.isnan(matrix)).sum(axis=1)
    with np.errstate(invalid="ignore"):
        if construct.scoring == "sus":
            # After reverse-scoring every item's contribution is x' - 1 (0-4); Brooke asks for the
            # centre point when an item cannot be answered, i.e. a contribution of 2.
            contributions = np.where(np.isnan(matrix), 2.0, matrix - 1.0)
            scores = 2.5 * contributions.sum(axis=1)
        elif construct.scoring == "weighted_sum":
            assert construct.weight is not None  # validated with the instrument
            scores = construct.weight * np.nansum(matrix, axis=1)
        else:
            scores = np.where(answered > 0, np.nansum(matrix, axis=1) / np.maximum(answered, 1), np.nan)
            if construct.scoring == "raw_tlx":
                scores = 5.0 * scores  # marks 0-20 read as 0-100 (Hart & Staveland's scale)
    return np.where(answered >= needed, scores, np.nan)


def construct_scores(
    instrument: Instrument, construct: Construct, responses: Sequence[SurveyResponse]
) -> np.ndarray:
    """Each response's score on a construct (NaN when it answered too few items)."""
    matrix = item_matrix(instrument, construct, responses)
    return scores_from_matrix(matrix, construct, min_answered(instrument, construct))


def cronbach_alpha(matrix: np.ndarray) -> tuple[float | None, int]:
    """Cronbach's alpha over the complete rows of `matrix`, and how many rows it used.

    None when it is undefined: fewer than two items or two complete rows, or no variance at all.
    """
    complete = matrix[~np.isnan(matrix).any(axis=1)]
    n, k = complete.shape
    if k < 2 or n < 2:
        return None, n
    item_var = complete.var(axis=0, ddof=1).sum()
    total_var = complete.sum(axis=1).var(ddof=1)
    if total_var <= 0:
        return None, n
    return float(k / (k - 1) * (1 - item_var / total_var)), n


def feldt_interval(alpha: float, n: int, k: int, confidence: float = stats.CONFIDENCE) -> tuple[float, float]:
    """Feldt's (1965) interval for Cronbach's alpha from n respondents and k items."""
    # The F quantile from scipy.special: importing scipy.stats for it cost ≈ 0.8-1.5 s a run.
    from scipy.special import fdtri

    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - confidence) / 2
    low = 1 - (1 - alpha) * float(fdtri(df1, df2, 1 - tail))
    high = 1 - (1 - alpha) * float(fdtri(df1, df2, tail))
    return min(low, 1.0), min(high, 1.0)


def bootstrap_mean(
    values: np.ndarray, *, seed: int = 0, resamples: int = stats.DEFAULT_RESAMPLES
) -> stats.Estimate:
    """The mean with a BCa bootstrap interval, drawn over the distinct values.

    Questionnaire scores take few distinct values (41 for SUS, 13 for a 3-item mean on 1-5), and
    resampling n scores with replacement is exactly a multinomial draw of how often each distinct
    value comes back: the same bootstrap distribution at a cost independent of n. The jackknife
    that BCa needs is in closed form too: leaving out one answer of value v gives (Σx − v)/(n − 1),
    once per answer of that value.
    """
    distinct, counts = np.unique(values, return_counts=True)
    n = int(values.size)
    if n == 0:
        return stats.Estimate(None, None, None, 0)
    if distinct.size > 512:  # continuous-looking data: resample the values themselves
        return stats.mean(values, seed=seed, resamples=resamples)
    point = float(values.mean())
    if n == 1:
        return stats.Estimate(point, None, None, 1)
    if distinct.size == 1:  # every answer the same: the bootstrap cannot say anything wider
        return stats.Estimate(point, point, point, n, "bca-bootstrap")
    draws = np.random.default_rng(seed).multinomial(n, counts / n, size=resamples) @ distinct / n
    jack = (float(values.sum()) - distinct) / (n - 1)
    low, high, method = stats.bca_interval(point, draws, jack, weights=counts)
    return stats.Estimate(point, low, high, n, method)


@dataclass(frozen=True)
class ScoringOptions:
    k: int = 5
    invited: int | None = None
    invited_from: InvitedFrom = "declared"
    """`declared`: `invited` people were asked by any channel; `codes`: `invited` invitation codes were issued."""
    seed: int = 0
    resamples: int = stats.DEFAULT_RESAMPLES


def _too_few(name: str, n: int, k: int, unit: str, higher: bool | None, segment: str | None = None) -> Metric:
    return Metric(
        name=name,
        value=None,
        unit=unit,
        dimension=DIMENSION,
        higher_is_better=higher,
        n=None,
        segment=segment,
        error=f"fewer than k={k} respondents ({'none' if n == 0 else 'too few'}): not shown",
    )


def _rates(responses: Sequence[SurveyResponse], options: ScoringOptions) -> list[Metric]:
    complete = sum(r.complete for r in responses)
    started = len(responses)
    out = [
        Metric(
            name=f"{PREFIX}respondents",
            value=float(complete),
            unit="respondents",
            dimension=DIMENSION,
            higher_is_better=True,
            n=complete,
        ),
        Metric(
            name=f"{PREFIX}started", value=float(started), unit="responses", dimension=DIMENSION, n=started
        ),
    ]
    completion = stats.rate([r.complete for r in responses], seed=options.seed)
    out.append(
        metric_from(
            f"{PREFIX}completion_rate",
            completion,
            dimension=DIMENSION,
            unit="ratio",
            higher_is_better=True,
            error=None if started else "no response started",
        )
    )
    return out + _response_rate(responses, options)


def _unknown_rate(why: str) -> Metric:
    return Metric(
        name=f"{PREFIX}response_rate",
        value=None,
        unit="ratio",
        dimension=DIMENSION,
        higher_is_better=True,
        error=why,
    )


def _response_rate(responses: Sequence[SurveyResponse], options: ScoringOptions) -> list[Metric]:
    """Complete responses over the invitations issued, counting only responses those invitations cover."""
    invited = options.invited
    if invited is None:
        return [
            _unknown_rate("number of people invited unknown: set survey.invited or create invitation codes")
        ]
    out: list[Metric] = []
    covered = list(responses)
    note = None
    if options.invited_from == "codes":
        covered = [r for r in responses if r.by_invitation]
        uncoded = len(responses) - len(covered)
        if uncoded:
            note = (
                f"over the {invited} invitation codes issued only: {uncoded} responses came without a code "
                "and are not in it (set survey.invited to count everyone invited)"
            )
            out.append(
                Metric(
                    name=f"{PREFIX}uncoded_responses",
                    value=float(uncoded),
                    unit="responses",
                    dimension=DIMENSION,
                    n=len(responses),
                    note="responses without an invitation code: no response rate covers them",
                )
            )
    started = len(covered)
    complete = sum(r.complete for r in covered)
    if started > invited:
        whom = (
            "invitation codes issued"
            if options.invited_from == "codes"
            else "people invited (survey.invited)"
        )
        return [
            _unknown_rate(f"{started} responses for {invited} {whom}: the response rate is unknown"),
            *out,
        ]
    response = stats.rate([True] * complete + [False] * (invited - complete), seed=options.seed)
    out.insert(  # its n is the invitations issued
        0,
        metric_from(
            f"{PREFIX}response_rate",
            response,
            dimension=DIMENSION,
            unit="ratio",
            higher_is_better=True,
            note=note,
        ),
    )
    return out


def _segment_groups(responses: Sequence[SurveyResponse]) -> dict[str, np.ndarray]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, response in enumerate(responses):
        for attribute, value in response.segment.items():
            if value:
                groups[f"{attribute}={value}"].append(i)
    return {name: np.array(idx, dtype=int) for name, idx in sorted(groups.items())}


def _estimate_metric(
    name: str,
    values: np.ndarray,
    construct: Construct,
    options: ScoringOptions,
    segment: str | None = None,
    note: str | None = None,
) -> Metric:
    valid = values[~np.isnan(values)]
    if valid.size < options.k:
        return _too_few(name, int(valid.size), options.k, construct.unit, construct.higher_is_better, segment)
    return metric_from(
        name,
        bootstrap_mean(valid, seed=options.seed, resamples=options.resamples),
        dimension=DIMENSION,
        unit=construct.unit,
        higher_is_better=construct.higher_is_better,
        segment=segment,
        note=note,
    )


def missing_items_flag(
    instrument: Instrument, construct: Construct, responses: Sequence[SurveyResponse]
) -> str | None:
    """The note every score carries when some responses came from an export lacking its items."""
    columns = {instrument.column(item) for item in instrument.construct_items(construct.code)}
    lacking = [r for r in responses if columns.intersection(r.missing_items)]
    if not lacking:
        return None
    missing = sorted(columns.intersection(c for r in lacking for c in r.missing_items))
    shown = ", ".join(missing[:4]) + (" ..." if len(missing) > 4 else "")
    return (
        f"MISSING ITEMS: {len(lacking)} of {len(responses)} responses came from an export without "
        f"{shown} (imported with --allow-missing-items); unanswered items were imputed"
    )


def score_instrument(
    instrument: Instrument,
    responses: Sequence[SurveyResponse],
    options: ScoringOptions,
    groups: dict[str, np.ndarray] | None = None,
) -> list[Metric]:
    """Score every construct of one instrument over complete responses, overall and per segment."""
    groups = _segment_groups(responses) if groups is None else groups
    out: list[Metric] = []
    for construct in instrument.constructs:
        name = PREFIX + instrument.metric_suffix(construct)
        matrix = item_matrix(instrument, construct, responses)
        scores = scores_from_matrix(matrix, construct, min_answered(instrument, construct))
        note = None
        valid = scores[~np.isnan(scores)]
        if instrument.grades and valid.size >= options.k:
            band = instrument.grade(float(valid.mean()))
            if band is not None:
                note = f"grade {band.grade} ({band.label.en}), {instrument.grade_source}"
        flag = missing_items_flag(instrument, construct, responses)
        note = "; ".join(t for t in (flag, note) if t) or None
        out.append(_estimate_metric(name, scores, construct, options, note=note))
        if matrix.shape[1] >= 2 and not construct.of:  # a total repeats items: no alpha of its own
            alpha, n_complete = cronbach_alpha(matrix)
            alpha_name = f"{name}_alpha"
            if n_complete < max(options.k, 3) or alpha is None:
                why = (
                    "too few complete answers"
                    if n_complete < max(options.k, 3)
                    else "no variance in the answers"
                )
                out.append(
                    Metric(
                        name=alpha_name,
                        value=None,
                        unit="alpha",
                        dimension=DIMENSION,
                        higher_is_better=True,
                        error=f"Cronbach's alpha not computed: {why}",
                    )
                )
            else:
                low, high = feldt_interval(alpha, n_complete, matrix.shape[1])
                out.append(
                    Metric(
                        name=alpha_name,
                        value=alpha,
                        unit="alpha",
                        dimension=DIMENSION,
                        higher_is_better=True,
                        ci_low=low,
                        ci_high=high,
                        n=n_complete,
                        method="feldt",
                        note="; ".join(t for t in (flag, "Cronbach's alpha, Feldt 95% interval") if t),
                    )
                )
        for segment, idx in groups.items():
            group_scores = scores[idx]
            if int((~np.isnan(group_scores)).sum()) >= options.k:  # smaller groups are never shown
                segment_flag = missing_items_flag(instrument, construct, [responses[i] for i in idx])
                out.append(
                    _estimate_metric(
                        name, group_scores, construct, options, segment=segment, note=segment_flag
                    )
                )
    return out


def score_survey(
    instruments: Sequence[Instrument], responses: Sequence[SurveyResponse], options: ScoringOptions
) -> list[Metric]:
    """Every acceptability metric: rates over all responses, scores over the complete ones."""
    metrics = _rates(responses, options)
    complete = [r for r in responses if r.complete]
    groups = _segment_groups(complete)
    for instrument in instruments:
        metrics.extend(score_instrument(instrument, complete, options, groups))
    # The overall scores and their n are published too: hide what subtraction would give away.
    return publishable(metrics, options.k)
