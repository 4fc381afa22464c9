"""Groups decided from counts (one streaming pass) are the groups of records held in a list."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from civiclab.plugins.evaluation import group_intersections, group_records
from civiclab.privacy.grouping import INTERSECTIONS, GroupTally, group_keys, group_name
from civiclab.records import SEGMENT_ATTRIBUTES, SessionRecord

VALUES = {
    "age_band": ["18-24", "65-79", "80+"],
    "digital_literacy": ["none", "low", "high"],
    "territory": ["urban", "rural"],
    "disability": ["none", "visual"],
    "language": ["fr", "en"],
}

segments = st.fixed_dictionaries({a: st.sampled_from(v) for a, v in VALUES.items()})


def _record(i: int, segment: dict[str, str]) -> SessionRecord:
    return SessionRecord(session_id=f"s{i}", persona_id="p", segment=segment, outcome="completed")


@settings(max_examples=80, deadline=None)
@given(st.lists(segments, min_size=0, max_size=120), st.integers(min_value=1, max_value=12))
def test_groups_shown_from_counts_are_the_groups_of_the_records(
    population: list[dict[str, str]], k: int
) -> None:
    records = [_record(i, s) for i, s in enumerate(population)]
    singles = group_records(records, SEGMENT_ATTRIBUTES, k)
    listed = {**singles, **group_intersections(records, INTERSECTIONS, k, singles)}
    tally = GroupTally()
    for s in population:
        tally.add(group_keys(s), ["session"])
    shown = tally.shown("session", k, crossed=True)
    assert [group_name(key) for key in shown] == list(listed)
    for key in shown:
        assert tally.count("session", key) == len(listed[group_name(key)])  # type: ignore[index]
        assert tally.count("session", key) >= k


@settings(max_examples=40, deadline=None)
@given(st.lists(segments, min_size=1, max_size=80), st.integers(min_value=2, max_value=8))
def test_a_narrowed_group_is_shown_only_if_shown_for_the_whole_run_and_itself_k_anonymous(
    population: list[dict[str, str]], k: int
) -> None:
    tally = GroupTally()
    for i, s in enumerate(population):
        tally.add(group_keys(s), ["session", "completed"] if i % 3 else ["session"])
    everyone = tally.shown("session", k, crossed=True)
    narrowed = tally.shown("completed", k, crossed=True, within=everyone)
    assert set(narrowed) <= set(everyone)
    assert all(tally.count("completed", key) >= k for key in narrowed)
    singles = [key for key in narrowed if len(key) == 1]
    for attribute in VALUES:
        shown_n = sum(tally.count("completed", key) for key in singles if key[0].startswith(f"{attribute}="))
        hidden = tally.count("completed") - shown_n
        assert hidden == 0 or hidden >= k or not shown_n  # no recoverable remainder below k
