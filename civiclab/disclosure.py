"""Statistical disclosure control: k-anonymous breakdowns that cannot be undone by subtraction.

Primary suppression hides every cell of fewer than k people. That alone is not enough when the
table's total is published: a single hidden cell equals the total minus the cells shown, and its
rate follows from the overall rate the same way. Secondary (complementary) suppression therefore
hides further cells, smallest first, until the hidden cells of a table are at least two and
together hold at least k people, so that subtraction only ever recovers a group of k or more.
"""

from __future__ import annotations

from collections.abc import Mapping


def suppress(cells: Mapping[str, int], total: int, k: int) -> set[str]:
    """The cells to hide in one table whose `total` is published: primary and secondary.

    Args:
        cells: count of people in each cell (cells absent from the mapping have no one).
        total: the published total of the table; when it exceeds the sum of `cells`, the people
            outside every cell (for example without a value for the attribute) already act as a
            hidden remainder and count towards the hidden mass.
        k: the smallest group ever shown.

    Returns:
        The names of the cells that must not be shown.
    """
    hidden = {name for name, count in cells.items() if 0 < count < k}
    if not hidden:
        return hidden
    remainder = max(0, total - sum(cells.values()))
    shown = sorted((count, name) for name, count in cells.items() if name not in hidden and count > 0)

    def safe() -> bool:
        mass = sum(cells[name] for name in hidden) + remainder
        pieces = len(hidden) + (1 if remainder > 0 else 0)
        return pieces >= 2 and mass >= k

    while not safe() and shown:
        hidden.add(shown.pop(0)[1])
    return hidden


def suppress_table(
    cells: Mapping[tuple[str, str], int],
    row_totals: Mapping[str, int],
    column_totals: Mapping[str, int],
    k: int,
) -> set[tuple[str, str]]:
    """Cells of a two-way table to hide when its row and column totals are published.

    Applies `suppress` to every row and every column until nothing changes, so that no hidden
    cell can be recovered from its row or its column.
    """
    hidden: set[tuple[str, str]] = {c for c, n in cells.items() if 0 < n < k}
    changed = True
    while changed:
        changed = False
        for axis, totals in ((0, row_totals), (1, column_totals)):
            for key, total in totals.items():
                line = {c: n for c, n in cells.items() if c[axis] == key}
                for c in _line(line, hidden, total, k) - hidden:
                    hidden.add(c)
                    changed = True
    return hidden


def _line(
    line: Mapping[tuple[str, str], int], hidden: set[tuple[str, str]], total: int, k: int
) -> set[tuple[str, str]]:
    """Cells of one row or column to hide, given the cells already hidden elsewhere."""
    hid = {c for c in line if c in hidden or 0 < line[c] < k}
    if not hid:
        return hid
    remainder = max(0, total - sum(line.values()))
    shown = sorted((n, c) for c, n in line.items() if c not in hid and n > 0)

    def safe() -> bool:
        mass = sum(line[c] for c in hid) + remainder
        return len(hid) + (1 if remainder > 0 else 0) >= 2 and mass >= k

    while not safe() and shown:
        hid.add(shown.pop(0)[1])
    return hid
