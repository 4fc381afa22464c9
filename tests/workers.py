"""How the tests share the machine's cores (pytest-xdist, `make test` runs `-n auto --dist loadgroup`).

A test file is one unit of work, run whole by one worker, so its module fixtures (a whole experiment run,
an anvil node, a PostgreSQL cluster) are built once. Files that share a session fixture worth keeping
on one worker say so with `pytestmark = pytest.mark.xdist_group("NAME")`: their tests form one unit.
The heaviest units are handed out first, so a long file does not start last and leave a core idle.
"""

from __future__ import annotations

import pytest

# A rough cost per test, from its tier: what the scheduler needs is the order, not the seconds.
HEAVY_TIERS = ("integration", "browser", "evm_node", "lrs", "ray", "slow", "packaging")
HEAVY_COST = 20
UNIT_COST = 1


def unit_of(item: pytest.Item) -> str:
    """The unit of work a test belongs to: its xdist group, else its file."""
    marker = item.get_closest_marker("xdist_group")
    if marker is not None:
        return str(marker.args[0] if marker.args else marker.kwargs.get("name", "default"))
    return item.nodeid.split("::", 1)[0]


def cost_of(item: pytest.Item) -> int:
    return HEAVY_COST if any(item.get_closest_marker(t) for t in HEAVY_TIERS) else UNIT_COST


def group_by_file(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup`: put every test without a group in its file's group, and order the
    units heaviest first (each worker collects the same order, and the scheduler keeps it with
    `--no-loadscope-reorder`). Without xdist nothing changes."""
    if getattr(config.option, "dist", "no") != "loadgroup":
        return
    units: dict[str, int] = {}
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        unit = unit_of(item)
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(unit))
        units[unit] = units.get(unit, 0) + cost_of(item)
        first.setdefault(unit, index)
    order = {id(item): index for index, item in enumerate(items)}
    items.sort(key=lambda item: (-units[unit_of(item)], first[unit_of(item)], order[id(item)]))
