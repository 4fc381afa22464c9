"""The registry: duplicates raise, unknown names suggest, built-ins come through entry points."""

from __future__ import annotations

import pytest

from civiclab.errors import RegistryError
from civiclab.plugins.registry import EVALUATOR_GROUP, PILOT_GROUP, Registry, evaluators, pilots


def test_duplicate_names_raise() -> None:
    reg: Registry[int] = Registry("widget", "civiclab.none")
    reg.register("a", 1)
    with pytest.raises(RegistryError, match="registered twice"):
        reg.register("a", 2)


def test_unknown_name_suggests_the_closest_and_lists_choices() -> None:
    reg: Registry[int] = Registry("widget", "civiclab.none")
    reg.register("journey", 1)
    reg.register("assistant", 2)
    with pytest.raises(RegistryError) as err:
        reg.get("jorney")
    assert "did you mean 'journey'?" in str(err.value)
    assert "known: assistant, journey" in str(err.value)


def test_builtins_are_registered_through_entry_points() -> None:
    from importlib.metadata import entry_points

    assert "journey" in {ep.name for ep in entry_points(group=PILOT_GROUP)}
    assert {"human_centered", "auditability", "energy"} <= {
        ep.name for ep in entry_points(group=EVALUATOR_GROUP)
    }
    assert "journey" in pilots.names()
    assert evaluators.get("energy").dimension == "energy"
