"""Survey waves: each wave scored on its own, and a before/after comparison of two waves.

A response's wave is the name it was imported under (`--wave NAME`, a declared file's `wave:`, the
survey id in a LimeSurvey file name); web form submissions are the wave `web`, and responses imported
without a name the wave `(none)`. A comparison of two waves is, per construct:

- **paired** when at least k people answered both waves (linked by their LimeSurvey participant
  `token`, kept as a keyed hash): the mean of each person's difference, after − before, over those
  people only, with a sign-flip permutation test and a paired bootstrap interval;
- **unpaired** otherwise: the difference of the two waves' means over every complete response, with
  a permutation test and a bootstrap interval (`civiclab.stats.significance`).

Nothing is shown for a wave, or a set of pairs, of fewer than k people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from civiclab.errors import SurveyError
from civiclab.records import Metric
from civiclab.spec.instruments import Instrument
from civiclab.stats.significance import TestResult, mean_test, paired_mean_test
from civiclab.survey.responses import WEB_SOURCE, SurveyResponse
from civiclab.survey.scoring import PREFIX, ScoringOptions, construct_scores, score_survey

NO_WAVE = "(none)"


def wave_of(response: SurveyResponse) -> str:
    """The wave a response belongs to: `w1` for the source `limesurvey:w1` (or `limesurvey:w1@digest`)."""
    if response.source == WEB_SOURCE:
        return WEB_SOURCE
    _format, _, wave = response.source.partition(":")
    wave = wave.split("@", 1)[0]
    return wave or NO_WAVE


def by_wave(responses: Sequence[SurveyResponse]) -> dict[str, list[SurveyResponse]]:
    """Responses grouped by wave, waves in the order first met."""
    groups: dict[str, list[SurveyResponse]] = {}
    for r in responses:
        groups.setdefault(wave_of(r), []).append(r)
    return groups


def score_waves(
    instruments: Sequence[Instrument], responses: Sequence[SurveyResponse], options: ScoringOptions
) -> dict[str, list[Metric]]:
    """Every acceptability metric of each wave on its own (k-anonymous within the wave)."""
    return {wave: score_survey(instruments, group, options) for wave, group in by_wave(responses).items()}


@dataclass(frozen=True)
class WaveComparison:
    """One construct compared between two waves: after − before."""

    metric: str
    before: str
    after: str
    result: TestResult | None
    pairs: int
    note: str

    @property
    def paired(self) -> bool:
        return self.result is not None and self.result.paired


def _scores(instrument: Instrument, construct_index: int, responses: Sequence[SurveyResponse]) -> np.ndarray:
    return construct_scores(instrument, instrument.constructs[construct_index], responses)


def compare_waves(
    instruments: Sequence[Instrument],
    responses: Sequence[SurveyResponse],
    before: str,
    after: str,
    options: ScoringOptions,
) -> list[WaveComparison]:
    """Each construct's change from wave `before` to wave `after`, paired where people answered both.

    Raises:
        SurveyError: a wave has no response (the message lists the waves there are).
    """
    groups = by_wave([r for r in responses if r.complete])
    for wave in (before, after):
        if wave not in groups:
            raise SurveyError(f"wave {wave!r}: no complete response (waves: {', '.join(groups) or 'none'})")
    first, second = groups[before], groups[after]
    out: list[WaveComparison] = []
    for instrument in instruments:
        for index, construct in enumerate(instrument.constructs):
            name = PREFIX + instrument.metric_suffix(construct)
            a, b = _scores(instrument, index, first), _scores(instrument, index, second)
            a_by_person = _by_person(first, a)
            b_by_person = _by_person(second, b)
            both = sorted(set(a_by_person) & set(b_by_person))
            n_a, n_b = int((~np.isnan(a)).sum()), int((~np.isnan(b)).sum())
            if min(n_a, n_b) < options.k:
                out.append(
                    WaveComparison(
                        name, before, after, None, 0, f"fewer than k={options.k} in a wave: not shown"
                    )
                )
                continue
            if len(both) >= options.k:
                result = paired_mean_test(
                    np.array([a_by_person[p] for p in both]),
                    np.array([b_by_person[p] for p in both]),
                    seed=options.seed,
                )
                note = f"paired over the {len(both)} people who answered both waves"
            else:
                result = mean_test(a, b, seed=options.seed)
                note = (
                    f"unpaired: {len(both)} people answered both waves (fewer than k={options.k})"
                    if both
                    else "unpaired: no one is known to have answered both waves"
                )
            out.append(WaveComparison(name, before, after, result, len(both), note))
    return out


def _by_person(responses: Sequence[SurveyResponse], scores: np.ndarray) -> dict[str, float]:
    """Each linked person's score in one wave (their first scored response)."""
    out: dict[str, float] = {}
    for r, score in zip(responses, scores, strict=True):
        if r.person and not np.isnan(score) and r.person not in out:
            out[r.person] = float(score)
    return out
