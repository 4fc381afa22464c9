"""Bad experiment files: one line naming the file and the field, exit code 2, nothing stored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from civiclab.errors import SpecError
from civiclab.plugins.experiment import load_experiment


def edit(spec: Path, change) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(spec.read_text())
    change(data)
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    return spec


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "civiclab.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_valid_spec_resolves_pilot_evaluators_and_files(journey_spec: Path) -> None:
    exp = load_experiment(journey_spec)
    assert exp.pilot.name == "journey"
    assert [e.info.name for e in exp.evaluators] == [
        "acceptability",
        "human_centered",
        "auditability",
        "energy",
    ]
    assert len(exp.personas) == 12
    assert exp.pilot_params.journey == (journey_spec.parent / "data/journey/housing_benefit.yaml").resolve()
    assert set(exp.data_files) == {
        "data/journey/housing_benefit.yaml",
        "data/personas.yaml",
        "data/survey/journey/responses.csv",
    }


def test_digest_changes_with_data_files_and_overrides(journey_spec: Path) -> None:
    first = load_experiment(journey_spec).digest
    assert load_experiment(journey_spec).digest == first
    assert load_experiment(journey_spec, {"population.sessions": 7}).digest != first
    personas = journey_spec.parent / "data/personas.yaml"
    personas.write_text(personas.read_text().replace("patience_s: 900", "patience_s: 901"))
    assert load_experiment(journey_spec).digest != first


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda d: d["pilot"].update(kind="jurney"), "pilot.kind", "did you mean 'journey'"),
        (lambda d: d["evaluators"].append("energi"), "evaluators[4].name", "did you mean 'energy'"),
        (lambda d: d["pilot"]["params"].update(speed=3), "pilot.params.speed", "unknown field"),
        (lambda d: d["population"].update(sessions="many"), "population.sessions", "valid integer"),
        (lambda d: d["population"].update(sessions=0), "population.sessions", "greater than 0"),
        (
            lambda d: d["pilot"]["params"].update(journey="data/nope.yaml"),
            "pilot.params.journey",
            "file not found",
        ),
        (lambda d: d.update(colour="blue"), "colour", "unknown field"),
        (lambda d: d["scorecard"]["criteria"][0].update(at_most=1), "scorecard.criteria[0]", "exactly one"),
        (lambda d: d["energy"].update(country="France"), "energy.country", "pattern"),
    ],
)
def test_bad_spec_names_file_and_field(journey_spec: Path, change, field: str, message: str) -> None:  # type: ignore[no-untyped-def]
    edit(journey_spec, change)
    with pytest.raises(SpecError) as err:
        load_experiment(journey_spec)
    assert err.value.file == str(journey_spec)
    assert err.value.field == field
    assert message in err.value.problem
    assert str(err.value).startswith(f"{journey_spec}: {field}: ")


def test_malformed_yaml_names_the_line(journey_spec: Path) -> None:
    journey_spec.write_text("name: x\npilot: [unclosed\n")
    with pytest.raises(SpecError) as err:
        load_experiment(journey_spec)
    assert err.value.field.startswith("line ")
    assert "malformed YAML" in err.value.problem


def test_duplicate_persona_ids_name_the_persona_file(journey_spec: Path) -> None:
    personas = journey_spec.parent / "data/personas.yaml"
    data = yaml.safe_load(personas.read_text())
    data["personas"][3]["id"] = data["personas"][0]["id"]
    personas.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError) as err:
        load_experiment(journey_spec)
    assert err.value.file == str(personas.resolve())
    assert err.value.field == "personas[3].id"
    assert "duplicate" in err.value.problem


def test_broken_journey_graph_names_the_journey_file(journey_spec: Path) -> None:
    graph = journey_spec.parent / "data/journey/housing_benefit.yaml"
    graph.write_text(graph.read_text().replace("next: meet_avatar", "next: nowhere"))
    with pytest.raises(SpecError) as err:
        load_experiment(journey_spec)
    assert err.value.file.endswith("housing_benefit.yaml")
    assert err.value.field == "steps[0].next"


def test_cli_bad_input_exits_2_in_one_line_and_stores_nothing(journey_spec: Path, tmp_path: Path) -> None:
    db = tmp_path / "store" / "mlflow.db"
    edit(journey_spec, lambda d: d["pilot"]["params"].update(speed=3))
    result = cli("--tracking-uri", f"sqlite:///{db}", "run", str(journey_spec))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"civiclab: error: {journey_spec}: pilot.params.speed: unknown field"]
    assert "Traceback" not in result.stderr
    assert not db.exists()


def test_cli_zero_sessions_override_is_bad_input(journey_spec: Path, tmp_path: Path) -> None:
    result = cli("--tracking-uri", f"sqlite:///{tmp_path}/m.db", "run", str(journey_spec), "--sessions", "0")
    assert result.returncode == 2
    assert "population.sessions" in result.stderr
    assert not (tmp_path / "m.db").exists()


def test_cli_missing_spec_file(tmp_path: Path) -> None:
    result = cli("validate", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"civiclab: error: {tmp_path / 'nope.yaml'}: file not found"


def test_cli_validate_runs_nothing(journey_spec: Path) -> None:
    result = cli("validate", str(journey_spec))
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout and "'journey'" in result.stdout
