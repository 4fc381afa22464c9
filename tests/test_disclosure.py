"""Secondary suppression: no hidden cell can be recovered from the published totals by subtraction."""

from __future__ import annotations

import itertools

from civiclab.disclosure import suppress, suppress_table


def possible_values_1d(cells: dict[str, int], hidden: set[str], total: int) -> dict[str, set[int]]:
    """Every value each hidden cell can take given the shown cells and the total (an attacker's view)."""
    mass = total - sum(n for c, n in cells.items() if c not in hidden)
    names = sorted(hidden)
    out: dict[str, set[int]] = {c: set() for c in names}
    for combo in itertools.product(range(mass + 1), repeat=len(names)):
        if sum(combo) == mass:
            for c, v in zip(names, combo, strict=True):
                out[c].add(v)
    return out


def test_a_single_small_cell_takes_a_complement_with_it() -> None:
    cells = {"device=none": 3, "device=computer": 10, "device=smartphone": 12}
    hidden = suppress(cells, 25, k=5)
    assert hidden == {"device=none", "device=computer"}
    assert all(len(v) > 1 for v in possible_values_1d(cells, hidden, 25).values())


def test_two_tiny_cells_are_not_enough_if_together_under_k() -> None:
    cells = {"a": 1, "b": 2, "c": 30, "d": 40}
    hidden = suppress(cells, 73, k=5)
    assert hidden == {"a", "b", "c"}  # 1 + 2 < 5: the attacker would learn a + b = 3
    assert suppress({"a": 10, "b": 12}, 22, k=5) == set()
    # People outside every cell are already a hidden remainder: 3 hidden + 4 unknown is safe.
    assert suppress({"a": 3, "b": 12}, 19, k=5) == {"a"}


def test_two_way_table_hides_enough_in_every_row_and_column() -> None:
    cells = {("r1", "c1"): 2, ("r1", "c2"): 10, ("r2", "c1"): 10, ("r2", "c2"): 10}
    rows, columns = {"r1": 12, "r2": 20}, {"c1": 12, "c2": 20}
    hidden = suppress_table(cells, rows, columns, k=5)
    assert ("r1", "c1") in hidden
    # Brute force: every table of non-negative counts agreeing with what is shown and the margins.
    unknown = sorted(hidden)
    seen: dict[tuple[str, str], set[int]] = {c: set() for c in unknown}
    for combo in itertools.product(range(21), repeat=len(unknown)):
        table = {**cells, **dict(zip(unknown, combo, strict=True))}
        if all(sum(n for (r, _), n in table.items() if r == key) == t for key, t in rows.items()) and all(
            sum(n for (_, c), n in table.items() if c == key) == t for key, t in columns.items()
        ):
            for c, v in zip(unknown, combo, strict=True):
                seen[c].add(v)
    assert all(len(values) > 1 for values in seen.values()), seen
