"""The report's section on the judge checked against people: kappa, its interval, n and the table."""

from __future__ import annotations

from civiclab.evidence.labels.agreement import JudgeAgreement


def _two(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def judge_check_sentence(j: JudgeAgreement) -> str:
    if not j.n:
        return f"No verified grade yet (sample of {j.sample_size} answers)."
    return (
        f"Cohen's kappa of the judge and committee members: {_two(j.kappa)} "
        f"(95% CI {_two(j.ci_low)} – {_two(j.ci_high)}), n = {j.n} grades of a sample of "
        f"{j.sample_size} answers stratified by the judge's grade; only signed grades that verify count."
    )


def judge_check_table(j: JudgeAgreement) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The confusion table: a header (judge, then members' grades) and one row per judge grade."""
    if not j.n:
        return (), []
    header = ("Judge (rows) / members", *j.categories)
    return header, [(c, *(str(v) for v in row)) for c, row in zip(j.categories, j.confusion, strict=True)]


def judge_check_lines(j: JudgeAgreement | None) -> list[str]:
    """The Markdown section, or nothing when the run was not judged or not graded by people."""
    if j is None:
        return []
    lines = ["", "## The judge checked against people", "", judge_check_sentence(j)]
    if j.n:
        lines += ["", "| judge \\ members | " + " | ".join(j.categories) + " |"]
        lines += ["| --- |" + " --- |" * len(j.categories)]
        lines += [
            f"| {c} | " + " | ".join(str(v) for v in row) + " |"
            for c, row in zip(j.categories, j.confusion, strict=True)
        ]
    if j.ignored:
        lines += ["", "Grades ignored (they do not verify):", ""]
        lines += [f"- `{g.file}`: {g.problem}" for g in j.ignored]
    return lines
