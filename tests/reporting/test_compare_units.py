"""compare pairs runs that share their questions, and never tests the same survey responses against each other."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from civiclab.plugins.unit_values import UNIT_VALUES_DIR
from civiclab.records import Metric
from civiclab.reporting.compare import _compare_pair, _Run
from civiclab.reporting.compare_units import (
    SAME_RESPONSES,
    SURVEY_REPORT,
    paired_by_unit,
    responses_digest,
    unit_values,
)
from civiclab.store.reads import RunSummary

RECALL = "human_centered.handover_recall"


def summary(run_id: str) -> RunSummary:
    return RunSummary(run_id, "assistant-pilot", "FINISHED", 0, {}, {}, {}, "")


def folder_with(tmp_path: Path, name: str, per_question: dict[str, tuple[float, int]], digest: str) -> Path:
    folder = tmp_path / name
    (folder / UNIT_VALUES_DIR).mkdir(parents=True)
    body = {"unit": "question", "metrics": {RECALL: {q: list(v) for q, v in per_question.items()}}}
    (folder / UNIT_VALUES_DIR / "assistant.json").write_text(json.dumps(body))
    (folder / "survey").mkdir()
    (folder / SURVEY_REPORT).write_text(json.dumps({"responses_digest": digest}))
    return folder


def test_runs_sharing_questions_are_tested_question_by_question(tmp_path: Path) -> None:
    # Five questions asked in both runs; each question's recall rises (by 0.2, 0.2, 0.2, 0.2, 0.1).
    base = {"q1": (2.0, 5), "q2": (3.0, 5), "q3": (1.0, 4), "q4": (0.0, 2), "q5": (4.0, 5)}
    better = {"q1": (3.0, 5), "q2": (4.0, 5), "q3": (1.8, 4), "q4": (0.4, 2), "q5": (4.5, 5), "q9": (1.0, 1)}
    a = unit_values(folder_with(tmp_path, "a", base, "d1"))
    b = unit_values(folder_with(tmp_path, "b", better, "d2"))
    result = paired_by_unit(RECALL, a, b)
    assert result is not None and result.paired and result.n_a == 5  # q9, asked in one run only, is left out
    assert result.test.endswith("over 5 shared questions (paired)")
    # The exact sign-flip distribution of the five differences, enumerated here: only all-plus and
    # all-minus reach the observed mean difference, p = 2/32.
    d = np.array([0.2, 0.2, 0.2, 0.2, 0.1])
    flips = [abs(np.mean(np.array(s) * d)) >= d.mean() - 1e-12 for s in itertools.product((-1, 1), repeat=5)]
    assert result.p_value == pytest.approx(sum(flips) / 32) == pytest.approx(0.0625)
    assert result.delta == pytest.approx(d.mean())


def test_compare_pairs_by_question_and_skips_identical_survey_answers(tmp_path: Path) -> None:
    fa = folder_with(tmp_path, "a", {f"q{i}": (1.0, 2) for i in range(6)}, "same")
    fb = folder_with(tmp_path, "b", {f"q{i}": (2.0, 2) for i in range(6)}, "same")
    assert responses_digest(fa) == responses_digest(fb) == "responses:same"
    recall_a = Metric(name=RECALL, value=0.5, ci_low=0.3, ci_high=0.7, n=12, dimension="human_centered")
    recall_b = Metric(name=RECALL, value=1.0, ci_low=0.75, ci_high=1.0, n=12, dimension="human_centered")
    sus = Metric(
        name="acceptability.sus", value=71.0, ci_low=68.0, ci_high=74.0, n=149, dimension="acceptability"
    )
    base = _Run(
        summary("a"), [recall_a, sus], None, 5, frozenset({(RECALL, None)}), unit_values(fa), "responses:same"
    )
    run = _Run(
        summary("b"), [recall_b, sus], None, 5, frozenset({(RECALL, None)}), unit_values(fb), "responses:same"
    )
    rows = {r.metric: r for r in _compare_pair(base, run)}
    assert rows[RECALL].paired and rows[RECALL].test.endswith("over 6 shared questions (paired)")
    assert rows[RECALL].p_value == pytest.approx(2 / 64)  # six positive differences, exact
    assert rows["acceptability.sus"].test == SAME_RESPONSES and rows["acceptability.sus"].p_value is None
    # Other responses (another digest) are tested as usual.
    other = _Run(summary("c"), [recall_b, sus], None, 5, frozenset(), unit_values(fb), "responses:other")
    assert {r.metric: r for r in _compare_pair(base, other)}["acceptability.sus"].test != SAME_RESPONSES
    # A declared pilot version wins over the digest: more answers to the same version are one judgement.
    (fb / SURVEY_REPORT).write_text(json.dumps({"judged": "v2-phone-step", "responses_digest": "other"}))
    assert responses_digest(fb) == "judged:v2-phone-step"
