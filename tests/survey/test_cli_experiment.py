"""`civiclab survey … --experiment` in a fresh lab folder (issue 15, "Crashes, hangs and messages")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from civiclab.cli import main
from civiclab.survey.store import SurveyStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lab folder with the journey experiment and no mlruns/ yet."""
    (tmp_path / "experiments").mkdir()
    shutil.copy(ROOT / "experiments" / "journey.yaml", tmp_path / "experiments" / "journey.yaml")
    (tmp_path / "experiments" / "data").symlink_to(ROOT / "experiments" / "data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CIVICLAB_SURVEY_STORE", raising=False)
    return tmp_path


# Guards issue 15: `survey invite` failed with "unable to open database file" without mlruns/,
# and `--experiment housing-benefit-journey` did not find experiments/journey.yaml by its name.
@pytest.mark.parametrize(
    "given", ["housing-benefit-journey", "journey", "journey.yaml", "experiments/journey.yaml", "ABSOLUTE"]
)
def test_invite_in_a_fresh_folder_finds_the_experiment_by_name_file_or_path(
    lab: Path, given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    experiment = str(lab / "experiments" / "journey.yaml") if given == "ABSOLUTE" else given
    assert not (lab / "mlruns").exists()
    assert main(["survey", "invite", "--experiment", experiment, "--count", "2"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.split()) == 2 and "default survey" not in captured.err
    store = SurveyStore(f"sqlite:///{lab / 'mlruns' / 'survey.db'}")
    assert store.invited_count("housing-benefit-journey") == 2
    store.close()


def test_a_path_that_does_not_exist_is_one_line_not_the_default_survey(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["survey", "invite", "--experiment", "experiments/jurney.yaml", "--count", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["civiclab: error: experiments/jurney.yaml: file not found"]


# Guards issue 20: an import under a name no experiment has stored responses no run would read, silently.
def test_import_under_a_name_no_experiment_has_is_refused_unless_new(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = ROOT / "experiments" / "data" / "survey" / "journey" / "responses.csv"
    url = f"sqlite:///{lab / 'survey.db'}"
    args = ["survey", "import", str(export), "--store", url]
    assert main([*args, "--experiment", "housing-benefit-jurney"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        "civiclab: error: --experiment 'housing-benefit-jurney': no experiment has this name"
    )
    assert "--new-experiment" in err[0] and not (lab / "survey.db").exists()
    assert main([*args, "--experiment", "housing-benefit-journey"]) == 0  # the spec's name: found
    assert main([*args, "--experiment", "next-pilot", "--new-experiment"]) == 0
    assert "default survey" in capsys.readouterr().err
    store = SurveyStore(url)
    assert store.responses("next-pilot") and store.responses("housing-benefit-journey")
    assert not store.responses("housing-benefit-jurney")
    store.close()
