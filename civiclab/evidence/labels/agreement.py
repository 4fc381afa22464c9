"""The judge checked against people: Cohen's kappa of the judge's grades and people's verified grades.

Each counted grade is one pair (the judge's grade of the turn, the member's grade of it); a turn two
members graded gives two pairs. Grades that do not verify are left out and named beside the figure.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from civiclab.errors import SpecError
from civiclab.evidence.labels.grades import GradeCheck, check_grades, labels_folder, run_statement_digest
from civiclab.evidence.labels.sample import (
    DEFAULT_SIZE,
    LabelItem,
    judged_turns,
    run_folder,
    seed_of,
    stratified_sample,
)
from civiclab.stats.agreement import cohen_kappa
from civiclab.store.tracker import Tracker


class JudgeAgreement(BaseModel):
    """What the run page and the report show: kappa with its interval, n, the table, the ignored grades."""

    model_config = ConfigDict(extra="forbid")

    kappa: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    sample_size: int
    categories: list[str]
    confusion: list[list[int]]
    """`confusion[i][j]`: turns the judge graded `categories[i]` and a member `categories[j]`."""
    ignored: list[GradeCheck]


def agreement_of(items: list[LabelItem], checks: list[GradeCheck], run_id: str) -> JudgeAgreement:
    judge = {i.item: i.judge_grade for i in items}
    counted = [c for c in checks if c.counted]
    result = cohen_kappa(
        [judge[c.item] for c in counted], [c.grade for c in counted], seed=seed_of(run_id) % 2**32
    )
    return JudgeAgreement(
        kappa=result.kappa.value,
        ci_low=result.kappa.ci_low,
        ci_high=result.kappa.ci_high,
        n=len(counted),
        sample_size=len(items),
        categories=result.categories,
        confusion=result.confusion,
        ignored=[c for c in checks if not c.counted],
    )


def judge_agreement(
    tracker: Tracker, run_id: str, trust_path: str | Path | None = None, size: int = DEFAULT_SIZE
) -> JudgeAgreement | None:
    """The judge's agreement with people's verified grades; None when the run was not judged or graded."""
    from civiclab.evidence.signing.trust import load_trust

    loaded = load_trust(trust_path)
    try:
        folder_of_labels = labels_folder(tracker, run_id)
    except SpecError:
        return None
    if not folder_of_labels.is_dir():
        return None
    with run_folder(tracker, run_id) as folder:
        try:
            judged = judged_turns(folder, run_id)
        except SpecError:
            return None
        digest = run_statement_digest(folder)
    sample = stratified_sample(judged, size)
    checks = check_grades(
        folder_of_labels,
        run_id=run_id,
        statement_sha256=digest,
        items={i.item for i in sample},
        trust=loaded[0] if loaded else None,
    )
    if not checks:
        return None
    return agreement_of(sample, checks, run_id)
