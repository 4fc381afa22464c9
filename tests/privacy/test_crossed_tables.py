"""Intersections: no hidden cell of a two-way table can be recovered from its published margins."""

from __future__ import annotations

import itertools
import random

import pytest

from civiclab.privacy.crossed_tables import Cell, suppress_crossed


def compositions(total: int, parts: int) -> list[tuple[int, ...]]:
    if parts == 0:
        return [()] if total == 0 else []
    return [(first, *rest) for first in range(total + 1) for rest in compositions(total - first, parts - 1)]


def possible_values(
    cells: dict[Cell, int], hidden: set[Cell], rows: dict[str, int], columns: dict[str, int]
) -> dict[Cell, set[int]]:
    """Every value each hidden cell can take in a table agreeing with everything published (brute force).

    A combination absent from `cells` (nobody in it) is not shown either: the reader cannot tell it
    from a hidden cell, so it is an unknown too.
    """
    row_keys = sorted({r for r, _ in cells})
    column_keys = sorted({c for _, c in cells})
    absent = {(r, c) for r in row_keys for c in column_keys if (r, c) not in cells}
    cells = {**cells, **dict.fromkeys(absent, 0)}
    hidden = hidden | absent
    per_row: list[list[tuple[Cell, ...]]] = []
    options: list[list[tuple[int, ...]]] = []
    for r in row_keys:
        mine = tuple(sorted(c for c in hidden if c[0] == r))
        mass = rows[r] - sum(n for c, n in cells.items() if c[0] == r and c not in hidden)
        per_row.append([mine])
        options.append(compositions(mass, len(mine)))
    seen: dict[Cell, set[int]] = {c: set() for c in hidden - absent}
    for choice in itertools.product(*options):
        table = dict(cells)
        for (mine,), values in zip(per_row, choice, strict=True):
            table.update(zip(mine, values, strict=True))
        if all(sum(n for (_, c), n in table.items() if c == key) == t for key, t in columns.items()):
            for c in seen:
                seen[c].add(table[c])
    return seen


def margins(cells: dict[Cell, int]) -> tuple[dict[str, int], dict[str, int]]:
    rows: dict[str, int] = {}
    columns: dict[str, int] = {}
    for (r, c), n in cells.items():
        rows[r] = rows.get(r, 0) + n
        columns[c] = columns.get(c, 0) + n
    return rows, columns


def test_a_small_cell_hides_a_rectangle() -> None:
    cells = {("r1", "c1"): 2, ("r1", "c2"): 10, ("r2", "c1"): 10, ("r2", "c2"): 10}
    rows, columns = margins(cells)
    hidden = suppress_crossed(cells, rows, columns, k=5)
    assert hidden == set(cells)  # with both margins published, a 2x2 table hides all four
    assert all(len(v) > 1 for v in possible_values(cells, hidden, rows, columns).values())


@pytest.mark.slow
def test_random_tables_never_reveal_a_hidden_cell_exactly() -> None:
    rng = random.Random(7)
    checked = 0
    for _ in range(25):
        # Groups with nobody in them do not exist: only non-empty cells are listed.
        cells = {(f"r{i}", f"c{j}"): rng.choice([1, 2, 3, 6, 8, 12]) for i in range(3) for j in range(3)}
        cells = {c: n for c, n in cells.items() if rng.random() > 0.15}
        rows, columns = margins(cells)
        hidden = suppress_crossed(cells, rows, columns, k=5)
        assert all(n >= 5 for c, n in cells.items() if c not in hidden)  # never a shown cell under k
        for cell, values in possible_values(cells, hidden, rows, columns).items():
            # A hidden group of fewer than k is never pinned down; one of k or more may be (the only
            # cell of its row equals the row's published total, which is k-anonymous anyway).
            assert len(values) > 1 or cells[cell] >= 5, (cells, hidden, cell)
            checked += cells[cell] < 5
    assert checked > 20  # the property was exercised on many small hidden cells


def test_a_margin_that_is_not_published_does_not_constrain() -> None:
    cells = {("r1", "c1"): 7, ("r1", "c2"): 9, ("r2", "c1"): 3, ("r2", "c2"): 20}
    # The column totals are published, the rows are not (say r2 was itself hidden upstream).
    hidden = suppress_crossed(cells, {"r1": 16}, {"c1": 10, "c2": 29}, k=5)
    assert ("r2", "c1") in hidden and ("r1", "c1") in hidden  # c1 = 10 would give 3 away otherwise


def test_the_residual_network_audit_finds_the_cells_linear_programming_finds() -> None:
    """`_exposed` (a search per hidden cell) against `_exposed_by_lp` (two linear programs per cell) on
    random tables: any hidden set, zeros, margins published or not, every hidden cell a target."""
    from civiclab.privacy.crossed_tables import _exposed, _exposed_by_lp

    rng = random.Random(11)
    exposed_seen = free_seen = 0
    for _ in range(400):
        shape = (rng.randint(1, 4), rng.randint(1, 4))
        cells = {
            (f"r{i}", f"c{j}"): rng.choice([0, 0, 1, 2, 3, 7])
            for i in range(shape[0])
            for j in range(shape[1])
        }
        hidden = {c for c in cells if rng.random() < 0.5}
        rows, columns = margins(cells)
        rows = {r: n for r, n in rows.items() if rng.random() < 0.8}
        columns = {c: n for c, n in columns.items() if rng.random() < 0.8}
        free_seen += len(rows) < shape[0] or len(columns) < shape[1]
        targets = sorted(hidden)
        found = _exposed(cells, hidden, rows, columns, targets)
        assert found == _exposed_by_lp(cells, hidden, rows, columns, targets), (cells, hidden, rows, columns)
        exposed_seen += len(found)
    assert exposed_seen > 50 and free_seen > 100  # both answers and free margins were exercised


def test_margins_the_cells_do_not_add_up_to_are_audited_by_linear_programming() -> None:
    from civiclab.privacy.crossed_tables import _exposed

    cells = {("r1", "c1"): 2, ("r1", "c2"): 10, ("r2", "c1"): 10, ("r2", "c2"): 10}
    rows, columns = {"r1": 13, "r2": 20}, {"c1": 12, "c2": 20}  # r1 counts one person more than its cells
    hidden = {("r1", "c1"), ("r2", "c1")}
    # No table agrees with these margins: the linear programs find none and expose nothing, as before
    # (the network search alone, which assumes the cells add up, would call both cells pinned).
    assert _exposed(cells, hidden, rows, columns, sorted(hidden)) == []
