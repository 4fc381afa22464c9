"""Cohen's kappa: a worked table, the reference implementation, and the edge cases a labelling page meets."""

from __future__ import annotations

import pytest

from civiclab.stats.agreement import cohen_kappa


def _from_table(table: dict[tuple[str, str], int]) -> tuple[list[str], list[str]]:
    first = [a for (a, _), n in table.items() for _ in range(n)]
    second = [b for (_, b), n in table.items() for _ in range(n)]
    return first, second


def test_a_worked_table() -> None:
    # 50 turns: observed agreement (20 + 15) / 50 = 0.7; chance 25/50 * 30/50 + 25/50 * 20/50 = 0.5;
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    first, second = _from_table({("ok", "ok"): 20, ("ok", "bad"): 5, ("bad", "ok"): 10, ("bad", "bad"): 15})
    agreement = cohen_kappa(first, second, resamples=500)
    assert agreement.kappa.value == pytest.approx(0.4)
    assert agreement.categories == ["bad", "ok"]
    assert agreement.confusion == [[15, 10], [5, 20]]
    assert agreement.kappa.ci_low is not None and agreement.kappa.ci_high is not None
    assert agreement.kappa.ci_low < 0.4 < agreement.kappa.ci_high
    assert agreement.kappa.n == 50


def test_it_matches_the_reference_implementation_on_five_grades() -> None:
    from sklearn.metrics import cohen_kappa_score

    judge = list("1234512345332215544312345")
    people = list("1234412355332115544212315")
    assert cohen_kappa(judge, people, resamples=200).kappa.value == pytest.approx(
        cohen_kappa_score(judge, people)
    )


def test_edge_cases() -> None:
    assert cohen_kappa(["a"] * 5, ["a"] * 5, resamples=100).kappa.value == 1.0  # one grade, always agreed
    assert cohen_kappa([], []).kappa.value is None
    with pytest.raises(ValueError, match="both raters"):
        cohen_kappa(["a"], [])
