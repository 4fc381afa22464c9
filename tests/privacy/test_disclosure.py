"""Secondary suppression: nothing hidden can be recovered by subtraction (issue 15, public results page)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civiclab.privacy.disclosure import suppress
from civiclab.spec.instruments import load_instrument
from civiclab.survey.responses import SurveyResponse
from civiclab.survey.results import public_results, render_html
from civiclab.survey.scoring import ScoringOptions, score_survey

SUS = load_instrument("sus")


def _sus_answers(positive: int, negative: int) -> dict[str, int | str]:
    """SUS items: odd items positive, even items negative (all 3s give 50, 5/1 gives 100)."""
    return {f"SUS[SQ{i:03d}]": positive if i % 2 else negative for i in range(1, 11)}


# Guards issue 15: 6 respondents, "French 50 (5)" published with the overall mean: the English
# respondent's SUS was 6 x overall - 5 x 50.
def test_the_six_respondent_case_publishes_no_group_a_subtraction_would_reveal() -> None:
    french = [
        SurveyResponse(uid=f"fr{i}", complete=True, answers=_sus_answers(3, 3), segment={"language": "fr"})
        for i in range(5)
    ]
    english = SurveyResponse(uid="en", complete=True, answers=_sus_answers(5, 1), segment={"language": "en"})
    metrics = score_survey([SUS], [*french, english], ScoringOptions(k=5, resamples=200))
    overall = next(m for m in metrics if m.name == "acceptability.sus" and m.segment is None)
    assert overall.n == 6 and overall.value == pytest.approx((5 * 50 + 100) / 6)
    # Scoring itself withholds English (1 < k) and French as well (issue 11): with French shown,
    # 6 x overall - 5 x French would give the English respondent's score away.
    assert not any(m.segment is not None and m.name == "acceptability.sus" for m in metrics)

    results = public_results([SUS], metrics, "en", 5)
    [finding] = results.findings
    assert finding.by_attribute == {}  # French is suppressed too: the hidden pool is 6, not 1
    html = render_html(results, "en", "Survey", 5)
    assert "French" not in html


def test_a_breakdown_whose_hidden_remainder_holds_k_people_is_kept() -> None:
    plan = suppress({"fr": 9, "en": 6, "de": 2, "it": 3}, total=20, k=5)
    assert plan.shown == {"fr": 9, "en": 6} and plan.primary == {"de", "it"} and plan.hidden == 5


def test_people_without_a_segment_value_count_as_hidden() -> None:
    # 12 scored, 10 with a language: the 2 others are a hidden pool of 2 unless a cell joins it.
    plan = suppress({"fr": 5, "en": 5}, total=12, k=5)
    assert plan.secondary == {"en"} and plan.shown == {"fr": 5} and plan.hidden == 7


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="more than the total"):
        suppress({"a": 5}, total=3, k=2)
    with pytest.raises(ValueError, match="k must be"):
        suppress({"a": 5}, total=5, k=0)


@given(
    cells=st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 40), max_size=8),
    extra=st.integers(0, 10),
    k=st.integers(1, 12),
)
def test_no_shown_cell_and_no_derivable_remainder_is_smaller_than_k(
    cells: dict[str, int], extra: int, k: int
) -> None:
    total = sum(cells.values()) + extra
    plan = suppress(cells, total, k)
    assert all(n >= k for n in plan.shown.values())
    assert plan.hidden == total - sum(plan.shown.values())
    assert plan.hidden == 0 or plan.hidden >= k or not plan.shown
    assert set(plan.shown) | plan.suppressed == set(cells) and not set(plan.shown) & plan.suppressed
