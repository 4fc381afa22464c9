"""The optional LLM judge, against a fake OpenAI-compatible endpoint: rubric logged, agreement reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import evaluators.assistant_judge  # noqa: F401 - registers the judge where the venv predates its entry point
from civiclab.evidence.verify.manifestcheck import verify_run_manifest
from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import run_experiment
from civiclab.store.tracker import Tracker
from evaluators.assistant_judge import RUBRIC, parse_grade
from pilots.assistant.standin import serve
from tests.evaluators.fake_openai import fake_judge
from tests.pilots.assistant_support import DATA
from tests.pilots.byo_support import byo_spec, http_system, scenario_values

pytestmark = pytest.mark.slow  # whole experiments: left out of `make test-fast`


def test_the_judge_grades_every_answer_and_its_agreement_with_the_labels_is_reported(tmp_path: Path) -> None:
    with serve(DATA / "knowledge_base.yaml") as url, fake_judge() as (judge_url, prompts):
        judge = {"kind": "openai", "base_url": judge_url, "model": "fake-judge"}
        spec = byo_spec(
            tmp_path,
            http_system(url),
            sessions=30,
            send_personal_data=True,
            evaluators=["assistant", {"name": "assistant_judge", "params": {"judge": judge}}],
        )
        result = run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{tmp_path}/m.db")
    folder = Path(result.artifact_dir)
    grades = [json.loads(line) for line in (folder / "judge_grades.jsonl").read_text().splitlines()]
    assert len(grades) == len(prompts) == 60  # 30 sessions x 2 questions, none failed
    expected = sum((g["handling"] == "appropriate") == g["labelled_appropriate"] for g in grades) / len(
        grades
    )
    agreement = next(m for m in result.metrics if m.name == "auditability.judge_agreement")
    assert agreement.value == pytest.approx(expected) and agreement.n == 60
    assert 0.5 < agreement.value <= 1.0  # the lexicon judge mostly agrees with the labels, not always
    grounded = next(m for m in result.metrics if m.name == "human_centered.judge_grounded")
    assert 1.0 <= grounded.value <= 5.0
    rubric = (folder / "judge_rubric.md").read_text(encoding="utf-8")
    assert RUBRIC in rubric and "fake-judge" in rubric
    # The judge only ever saw redacted text, although the system was sent the scenarios as written.
    seen = "\n".join(prompts)
    assert not [v for v in scenario_values() if v in seen]
    # The judge's files are artifacts like the others: hashed in the manifest, checked by verify.
    tracker = Tracker(f"sqlite:///{tmp_path}/m.db")
    report = verify_run_manifest(tracker, result.run_id)
    assert report.ok


def test_an_unreachable_judge_leaves_its_metrics_missing_with_the_reason(tmp_path: Path) -> None:
    with serve(DATA / "knowledge_base.yaml") as url:
        judge = {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m", "retries": 0}
        spec = byo_spec(
            tmp_path,
            http_system(url),
            sessions=6,
            evaluators=["assistant", {"name": "assistant_judge", "params": {"judge": judge}}],
        )
        result = run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{tmp_path}/m.db")
    agreement = next(m for m in result.metrics if m.name == "auditability.judge_agreement")
    assert agreement.value is None and "APIConnectionError" in (agreement.error or "")


@pytest.mark.parametrize(
    ("reply", "handling"),
    [
        ('{"handling": "appropriate", "grounded": 4, "reason": "ok"}', "appropriate"),
        ('Voici : {"handling": "inappropriate", "grounded": 1}', "inappropriate"),
    ],
)
def test_a_judge_reply_is_read_from_its_first_json_object(reply: str, handling: str) -> None:
    assert parse_grade(reply).handling == handling


def test_a_judge_reply_without_a_valid_grade_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_grade('{"handling": "maybe", "grounded": 9}')


def test_the_judge_is_never_shown_the_labelled_sheets() -> None:
    from evaluators.assistant_judge import _reference

    sheets = {"S1": "Cantine — inscription", "S2": "Déchetterie — horaires", "S9": "Labelled only"}
    turn = {"expected_sheets": ["S9"], "ranked_sheets": ["S1", "S2"], "expected": "answer"}
    reference = _reference(turn, sheets)
    assert "S9" not in reference and "Labelled only" not in reference
    assert "[S1]" in reference and "[S2]" in reference
