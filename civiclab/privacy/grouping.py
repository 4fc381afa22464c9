"""Which groups of sessions may be shown, decided from their sizes alone.

A breakdown is published per segment (`age_band=80+`) and per intersection of two attributes
(`age_band=80+&digital_literacy=none`). Which groups are shown depends only on how many sessions
each holds: one-way breakdowns get primary and secondary suppression against the total
(`civiclab.privacy.disclosure`), two-way tables against their published margins
(`civiclab.privacy.crossed_tables`). Deciding it from counts lets an evaluator tally a run in one streaming
pass and never hold its records; grouping lists of records (`civiclab.plugins.evaluation.group_records`)
uses the same decisions.

A group is named by its key: `("age_band=80+",)` for a segment, a pair of names for an
intersection, `()` for the whole run; `group_name` joins a key with `&`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from civiclab.privacy.crossed_tables import suppress_crossed
from civiclab.privacy.disclosure import suppress
from civiclab.records import SEGMENT_ATTRIBUTES

INTERSECTIONS: tuple[tuple[str, str], ...] = (("age_band", "digital_literacy"), ("territory", "disability"))
"""Pairs of attributes whose intersections are reported: who is left behind is often at a crossing."""

GroupKey = tuple[str, ...]
OVERALL: GroupKey = ()


def group_name(key: GroupKey) -> str | None:
    """`age_band=80+`, `age_band=80+&digital_literacy=none`, or None for the whole run."""
    return "&".join(key) if key else None


def attribute_of(segment: str) -> str:
    """`age_band` for `age_band=80+`; `age_band&digital_literacy` for an intersection."""
    return "&".join(part.split("=", 1)[0] for part in segment.split("&"))


def group_keys(
    segment: Mapping[str, object],
    attributes: Iterable[str] = SEGMENT_ATTRIBUTES,
    pairs: Iterable[tuple[str, str]] = INTERSECTIONS,
) -> list[GroupKey]:
    """Every group one session belongs to: its segments, then its intersections."""
    keys: list[GroupKey] = [(f"{a}={segment[a]}",) for a in attributes if segment.get(a) is not None]
    for a, b in pairs:
        x, y = segment.get(a), segment.get(b)
        if x is not None and y is not None:
            keys.append((f"{a}={x}", f"{b}={y}"))
    return keys


def hidden_segments(sizes: Mapping[str, int], total: int, k: int, attributes: Iterable[str]) -> set[str]:
    """The `attribute=value` groups to hide: each attribute is a breakdown published with `total`."""
    hidden: set[str] = set()
    for attribute in attributes:
        cells = {name: n for name, n in sizes.items() if name.split("=", 1)[0] == attribute}
        hidden |= suppress(cells, total, k).suppressed
    return hidden


def hidden_crossings(
    cells: Mapping[tuple[str, str], int], published: Mapping[str, int], k: int
) -> set[tuple[str, str]]:
    """The cells of one two-way table to hide; a row or column counts as a margin when it is published."""
    rows = {r: published[r] for r, _ in cells if r in published}
    columns = {c: published[c] for _, c in cells if c in published}
    return suppress_crossed(cells, rows, columns, k)


def shown_groups(
    sizes: Mapping[GroupKey, int],
    total: int,
    k: int,
    *,
    attributes: Iterable[str] = SEGMENT_ATTRIBUTES,
    pairs: Iterable[tuple[str, str]] = (),
) -> list[GroupKey]:
    """The groups that may be shown: segments sorted by name, then each pair's shown intersections.

    `sizes` holds the size of every group of one population of `total` sessions (segments as 1-keys,
    intersections as 2-keys; the overall key is ignored). Intersections of `pairs` only are returned.
    """
    attributes = tuple(attributes)
    singles = {key[0]: n for key, n in sizes.items() if len(key) == 1}
    hidden = hidden_segments(singles, total, k, attributes)
    published = {
        name: n for name, n in singles.items() if name not in hidden and name.split("=", 1)[0] in attributes
    }
    out: list[GroupKey] = [(name,) for name in sorted(published)]
    for a, b in pairs:
        cells = {
            (key[0], key[1]): n
            for key, n in sizes.items()
            if len(key) == 2 and key[0].split("=", 1)[0] == a and key[1].split("=", 1)[0] == b
        }
        gone = hidden_crossings(cells, published, k)
        out.extend(cell for cell in sorted(cells) if cell not in gone)
    return out


@dataclass
class GroupTally:
    """How many sessions of each group had each property, counted in one pass (mergeable).

    `add(keys, properties)` counts one session: towards the whole run and each group in `keys`,
    for each named property (a property is also a population: "completed" sessions, "failed
    online" sessions...).
    """

    counts: dict[str, Counter[GroupKey]] = field(default_factory=dict)

    def add(self, keys: list[GroupKey], properties: Iterable[str], sessions: int = 1) -> None:
        """Count `sessions` sessions (1, or many sharing one segment and properties)."""
        for prop in properties:
            counter = self.counts.get(prop)
            if counter is None:
                counter = self.counts[prop] = Counter()
            counter[OVERALL] += sessions
            for key in keys:
                counter[key] += sessions

    def count(self, prop: str, key: GroupKey = OVERALL) -> int:
        counter = self.counts.get(prop)
        return 0 if counter is None else counter[key]

    def sizes(self, prop: str) -> dict[GroupKey, int]:
        return dict(self.counts.get(prop, {}))

    def shown(
        self, prop: str, k: int, *, crossed: bool, within: list[GroupKey] | None = None
    ) -> list[GroupKey]:
        """The groups of the `prop` population that may be shown (and are among `within`, if given).

        A metric defined for some sessions only (time on task: completed ones) is shown for a
        group only if the group is shown for the whole run and the narrowed group is itself
        k-anonymous, with secondary suppression against the narrowed total.
        """
        keys = shown_groups(self.sizes(prop), self.count(prop), k, pairs=INTERSECTIONS if crossed else ())
        if within is None:
            return keys
        allowed = set(within)
        return [key for key in keys if key in allowed]

    def merge(self, other: GroupTally) -> None:
        for prop, counter in other.counts.items():
            self.counts.setdefault(prop, Counter()).update(counter)
