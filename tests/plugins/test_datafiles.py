"""`validate` and `run` refuse bad inputs before any run (issue 15, "Crashes, hangs and messages")."""

from __future__ import annotations

from pathlib import Path

import pytest

from civiclab.cli import main


def _with_responses(spec: Path, path: str) -> Path:
    text = spec.read_text(encoding="utf-8")
    assert "data/survey/journey/responses.csv" in text
    spec.write_text(text.replace("data/survey/journey/responses.csv", path), encoding="utf-8")
    return spec


# Guards issue 15: a response path that is a folder or /etc/passwd passed `validate` on main.
@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("FOLDER", "is a folder, expected a response export"),
        ("/etc/passwd", "no `id` column"),
        ("/dev/zero", "not a regular file"),
    ],
)
def test_validate_reads_every_survey_export_the_evaluators_will_read(
    journey_spec: Path, target: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = str(journey_spec.parent / "data") if target == "FOLDER" else target
    spec = _with_responses(journey_spec, target)
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(spec) in err[0] and problem in err[0] and target in err[0]


# Guards issue 15: `--workers 0` and `-1` were silently accepted.
@pytest.mark.parametrize("workers", ["0", "-1", "1000", "two"])
def test_out_of_range_workers_are_refused_with_exit_2(
    journey_spec: Path, workers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["run", str(journey_spec), f"--workers={workers}"])
    assert stopped.value.code == 2
    assert "argument --workers" in capsys.readouterr().err


def test_a_data_file_check_is_for_a_section_of_an_experiment_and_only_one() -> None:
    from civiclab.errors import RegistryError
    from civiclab.plugins.datafiles import data_file_check
    from civiclab.plugins.registry import evaluators

    evaluators.names()  # loads the built-in evaluators: acceptability registers the `survey:` check
    with pytest.raises(RegistryError, match="not a section of an experiment"):
        data_file_check("surveys")
    with pytest.raises(RegistryError, match="registered twice"):
        data_file_check("survey")(lambda spec_path, spec: None)
