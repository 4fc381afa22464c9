"""k-anonymous intersections: a two-way table (age band × digital literacy) whose margins are published.

`civiclab.privacy.disclosure.suppress` protects one breakdown published with its total. An intersection
`a=x&b=y` is a cell of a two-way table whose row totals (`a=x`) and column totals (`b=y`) are the
one-way segments, published beside it. Two steps:

1. each row and each column is a breakdown with a published total: `suppress` is applied to every
   one, the cells already hidden by the other direction counting as withheld upstream, until
   nothing changes (no line keeps a hidden remainder of 1 to k-1 people);
2. rows and columns together can still pin a hidden cell down (in a 2x2 table with one small
   cell, three hidden cells and four margins leave one solution). So every hidden cell is audited:
   whether it can take another value in a table agreeing with what is published is found on the
   table's residual network (`_exposed`; linear programming only when the margins do not add up,
   which gives the same exact integer bounds: the constraint matrix is totally unimodular); a cell of fewer than k people whose bounds meet is exposed, and the
   smallest shown cell of its row or column is hidden too, until no such cell is exposed. (A cell
   of k or more that the margins determine, like the only cell of its row, is k-anonymous anyway.)

What this does not promise: a minimum width of those bounds (the "protection interval" of
tau-argus). A margin that is itself hidden is not a published total.
"""

from __future__ import annotations

from collections.abc import Mapping

from civiclab.privacy.disclosure import suppress

Cell = tuple[str, str]


def suppress_crossed(
    cells: Mapping[Cell, int],
    row_totals: Mapping[str, int],
    column_totals: Mapping[str, int],
    k: int,
) -> set[Cell]:
    """The cells (row, column) of a two-way table to hide, given the published row and column totals.

    A combination with nobody in it is not listed and never shown, so a reader cannot tell it from
    a hidden cell: it enters the audit as a hidden cell of 0.
    """
    listed = set(cells)
    row_keys = {r for r, _ in cells} | set(row_totals)
    column_keys = {c for _, c in cells} | set(column_totals)
    cells = {(r, c): cells.get((r, c), 0) for r in row_keys for c in column_keys}
    hidden: set[Cell] = {c for c in cells if c not in listed}
    changed = True
    while changed:
        changed = False
        for axis, totals in ((0, row_totals), (1, column_totals)):
            for key, total in totals.items():
                line = {c: n for c, n in cells.items() if c[axis] == key}
                # Cells hidden by the other direction are withheld upstream: `total` accounts for them.
                visible = {f"{c[0]}\x1f{c[1]}": n for c, n in line.items() if c not in hidden}
                plan = suppress(visible, total, k)
                for name in plan.suppressed:
                    row, column = name.split("\x1f", 1)
                    hidden.add((row, column))
                    changed = True
        # Rows and columns without a published total still never show a cell under k.
        small = {c for c, n in cells.items() if 0 < n < k} - hidden
        if small:
            hidden |= small
            changed = True
        if not changed:
            small_hidden = [c for c in hidden if 0 < cells[c] < k]
            exposed = _exposed(cells, hidden, row_totals, column_totals, small_hidden)
            for cell in exposed:
                partner = _partner(cells, hidden, cell)
                if partner is not None:
                    hidden.add(partner)
                    changed = True
    return hidden & listed


def _partner(cells: Mapping[Cell, int], hidden: set[Cell], cell: Cell) -> Cell | None:
    """The smallest shown cell sharing a row or a column with `cell`, else with any hidden cell."""
    shown = [c for c in cells if c not in hidden and (c[0] == cell[0] or c[1] == cell[1])]
    if not shown:
        rows, columns = {h[0] for h in hidden if cells[h]}, {h[1] for h in hidden if cells[h]}
        shown = [c for c in cells if c not in hidden and (c[0] in rows or c[1] in columns)]
    return min(shown, key=lambda c: (cells[c], c)) if shown else None


def _exposed(
    cells: Mapping[Cell, int],
    hidden: set[Cell],
    rows: Mapping[str, int],
    columns: Mapping[str, int],
    targets: list[Cell],
) -> list[Cell]:
    """The `targets` (hidden cells) whose value every table agreeing with the published margins shares.

    The tables agreeing with the margins are the flows of a network: a node per row and per column,
    an arc per hidden cell (row -> column, its people the flow), the shown cells subtracted from the
    totals, and a node F joined both ways to every row or column whose total is not published (it
    may take any value). A cell's value can change iff it lies on a cycle of the residual network:
    an arc r -> c may always grow, its reverse c -> r may shrink only a cell with people in it.
    So a cell can grow iff c reaches r, and shrink iff it has people and r reaches c, without using
    the cell itself: a breadth-first search per target instead of two linear programs (the same
    bounds, as the constraint matrix is totally unimodular; compared in the tests). Margins that
    the cells do not add up to fall back to linear programming.
    """
    if not targets:
        return []
    constrained: dict[tuple[int, str], int] = {}
    for axis, totals in ((0, rows), (1, columns)):
        for key, total in totals.items():
            line = [c for c in cells if c[axis] == key]
            if any(c in hidden for c in line):
                constrained[(axis, key)] = total - sum(cells[c] for c in line if c not in hidden)
    for (axis, key), remainder in constrained.items():
        if sum(cells[c] for c in hidden if c[axis] == key) != remainder:
            return _exposed_by_lp(cells, hidden, rows, columns, targets)
    free = ("F", "")
    arcs: dict[tuple[object, str], list[tuple[tuple[object, str], Cell | None]]] = {free: []}
    for r, c in hidden:
        arcs.setdefault((0, r), []).append(((1, c), (r, c)))  # the cell may grow
        if cells[(r, c)] > 0:
            arcs.setdefault((1, c), []).append(((0, r), (r, c)))  # it may shrink
    for node in {(0, r) for r, _ in hidden} | {(1, c) for _, c in hidden}:
        if node not in constrained:
            arcs.setdefault(node, []).append((free, None))
            arcs[free].append((node, None))

    def reaches(start: tuple[object, str], goal: tuple[object, str], avoid: Cell) -> bool:
        seen, frontier = {start}, [start]
        while frontier:
            node = frontier.pop()
            for nxt, cell in arcs.get(node, ()):
                if cell != avoid and nxt not in seen:
                    if nxt == goal:
                        return True
                    seen.add(nxt)
                    frontier.append(nxt)
        return False

    out: list[Cell] = []
    for r, c in sorted(targets):
        grows = reaches((1, c), (0, r), (r, c))
        shrinks = cells[(r, c)] > 0 and reaches((0, r), (1, c), (r, c))
        if not grows and not shrinks:
            out.append((r, c))
    return out


def _exposed_by_lp(
    cells: Mapping[Cell, int],
    hidden: set[Cell],
    rows: Mapping[str, int],
    columns: Mapping[str, int],
    targets: list[Cell],
) -> list[Cell]:
    """`_exposed` by linear programming (a smallest and a largest value per target): the reference the
    tests compare the residual-network audit with, and the audit of margins the cells do not add up to."""
    if not targets:
        return []
    import numpy as np
    from scipy.optimize import linprog

    unknown = sorted(hidden)
    index = {c: i for i, c in enumerate(unknown)}
    equations: list[list[float]] = []
    rhs: list[float] = []
    for axis, totals in ((0, rows), (1, columns)):
        for key, total in totals.items():
            line = [c for c in cells if c[axis] == key]
            if not any(c in hidden for c in line):
                continue
            row = [0.0] * len(unknown)
            for c in line:
                if c in hidden:
                    row[index[c]] = 1.0
            equations.append(row)
            rhs.append(float(total - sum(cells[c] for c in line if c not in hidden)))
    if not equations:
        return []
    a_eq, b_eq = np.array(equations), np.array(rhs)
    out: list[Cell] = []
    for c in sorted(targets):
        objective = np.zeros(len(unknown))
        objective[index[c]] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        if low.status == 0 and high.status == 0 and abs(-high.fun - low.fun) < 0.5:
            out.append(c)
    return out
