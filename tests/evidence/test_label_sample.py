"""The stratified sample people grade, as a unit: allocation worked by hand, draws repeatable."""

from __future__ import annotations

from collections import Counter

import pytest

from civiclab.errors import SpecError
from civiclab.evidence.labels.sample import JudgedRun, LabelItem, allocation, stratified_sample


@pytest.mark.parametrize(
    ("sizes", "size", "expected"),
    [
        # 10 x 58/60 = 9.67 and 10 x 2/60 = 0.33: floors 9 and 0, the rare grade still gets one.
        ({"appropriate": 58, "inappropriate": 2}, 10, {"appropriate": 9, "inappropriate": 1}),
        # 30 x 40/60 = 20 and 30 x 20/60 = 10: exact.
        ({"appropriate": 40, "inappropriate": 20}, 30, {"appropriate": 20, "inappropriate": 10}),
        # 7 x 5/9 = 3.89 and 7 x 4/9 = 3.11: floors 3 + 3, the larger remainder takes the seventh.
        ({"appropriate": 5, "inappropriate": 4}, 7, {"appropriate": 4, "inappropriate": 3}),
        # Fewer turns than the sample: all of them.
        ({"appropriate": 3, "inappropriate": 2}, 30, {"appropriate": 3, "inappropriate": 2}),
    ],
)
def test_each_grade_gets_its_share_of_the_sample(
    sizes: dict[str, int], size: int, expected: dict[str, int]
) -> None:
    assert allocation(sizes, size) == expected


def _run(run_id: str, appropriate: int, inappropriate: int) -> JudgedRun:
    grades = ["appropriate"] * appropriate + ["inappropriate"] * inappropriate
    items = [
        LabelItem(item=f"turn-{n}", question=f"q{n}", answer=f"a{n}", handed_over=False, judge_grade=g)
        for n, g in enumerate(grades, start=1)
    ]
    return JudgedRun(run_id=run_id, rubric="", items=items)


def test_the_draw_is_seeded_by_the_run_id_and_follows_the_allocation() -> None:
    run = _run("ab" * 16, 58, 2)
    first = stratified_sample(run, 10)
    assert stratified_sample(run, 10) == first
    assert Counter(i.judge_grade for i in first) == {"appropriate": 9, "inappropriate": 1}
    assert {i.item for i in stratified_sample(_run("cd" * 16, 58, 2), 10)} != {i.item for i in first}
    with pytest.raises(SpecError, match="at least one"):
        stratified_sample(run, 0)
