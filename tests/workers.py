"""How the tests share the machine's cores (pytest-xdist, `make test` runs `-n auto --dist loadgroup`).

A test file is one unit of work, run whole by one worker, so its module fixtures (a whole experiment run,
an anvil node, a PostgreSQL cluster) are built once. The files whose tests use a costly session fixture
(SHARED_SESSION_FIXTURES) form one unit, so that fixture is built once in the whole run, not once per
worker; other files may join a unit by name with `pytestmark = pytest.mark.xdist_group("NAME")`.
The heaviest units are handed out first, so a long file does not start last and leave a core idle.
"""

from __future__ import annotations

import pytest

# A rough cost per test, from its tier: what the scheduler needs is the order, not the seconds.
HEAVY_TIERS = ("integration", "browser", "evm_node", "lrs", "ray", "slow", "packaging")
HEAVY_COST = 20
UNIT_COST = 1


# Session fixture -> the unit of the files using it (tests/desk/conftest.py: three signed journey runs).
SHARED_SESSION_FIXTURES = {"desk_store": "desk-store"}


def file_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def named_unit(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("xdist_group")
    if marker is not None:
        return str(marker.args[0] if marker.args else marker.kwargs.get("name", "default"))
    for fixture, unit in SHARED_SESSION_FIXTURES.items():
        if fixture in getattr(item, "fixturenames", ()):
            return unit
    return None


def cost_of(item: pytest.Item) -> int:
    return HEAVY_COST if any(item.get_closest_marker(t) for t in HEAVY_TIERS) else UNIT_COST


def group_by_file(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup`: put every test without a group in its file's group, and order the
    units heaviest first (each worker collects the same order, and the scheduler keeps it with
    `--no-loadscope-reorder`). Without xdist nothing changes."""
    if getattr(config.option, "dist", "no") != "loadgroup":
        return
    # A whole file goes where any of its tests goes: its module fixtures are then built once.
    unit_of_file: dict[str, str] = {}
    for item in items:
        named = named_unit(item)
        if named is not None:
            unit_of_file.setdefault(file_of(item), named)
    unit_of = {id(item): unit_of_file.get(file_of(item), file_of(item)) for item in items}
    costs: dict[str, int] = {}
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        unit = unit_of[id(item)]
        # xdist reads the group from this marker; the closest one (this) wins over a file's own.
        item.add_marker(pytest.mark.xdist_group(unit))
        costs[unit] = costs.get(unit, 0) + cost_of(item)
        first.setdefault(unit, index)
    order = {id(item): index for index, item in enumerate(items)}
    items.sort(key=lambda item: (-costs[unit_of[id(item)]], first[unit_of[id(item)]], order[id(item)]))
