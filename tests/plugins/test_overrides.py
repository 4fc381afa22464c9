"""`--set PATH=VALUE`: what-ifs on an experiment, read as YAML values and routed to the pilot's params."""

from __future__ import annotations

import pytest

from civiclab.errors import SpecError
from civiclab.plugins.overrides import assignments, routed
from civiclab.spec.experiment import ExperimentSpec


def test_values_are_yaml_and_a_time_of_day_stays_text() -> None:
    got = assignments(["a.b=3", "c=0.5", "d=true", "e=[x, y]", "f.close=19:00", "g=text"], "x.yaml")
    assert got == {"a.b": 3, "c": 0.5, "d": True, "e": ["x", "y"], "f.close": "19:00", "g": "text"}


@pytest.mark.parametrize("item", ["novalue", "=3", "a..b=1", "a.=1"])
def test_a_malformed_assignment_is_one_line_naming_it(item: str) -> None:
    with pytest.raises(SpecError) as err:
        assignments([item], "x.yaml")
    assert str(err.value) == f"x.yaml: --set {item}: expected PATH=VALUE with a dotted PATH"


def test_a_path_outside_the_experiments_sections_is_the_pilots() -> None:
    sections = ExperimentSpec.model_fields
    assert routed("population.sessions", sections) == "population.sessions"
    assert (
        routed("assistance.france_services.staff", sections)
        == "pilot.params.assistance.france_services.staff"
    )
