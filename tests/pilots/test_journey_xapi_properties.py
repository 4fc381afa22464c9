"""Property tests of the xAPI reader: no statement, however malformed, crashes observe mode."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilots.journey.lrs import LrsParams, _wanted
from pilots.journey.model import load_journey
from pilots.journey.xapi import plans_from_statements, session_from_statements
from pilots.journey.xapi_mapping import ActivityMap, default_mapping
from tests.pilots.xapi_support import ADL, BASE, W3ID, Writer

JOURNEY = load_journey(Path(__file__).parents[2] / "experiments/data/journey/housing_benefit.yaml")
ACTIVITIES = ActivityMap(default_mapping(JOURNEY), JOURNEY)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
verbs = st.sampled_from(
    [ADL + v for v in ("initialized", "launched", "attempted", "passed", "failed", "completed", "terminated")]
    + [W3ID + v for v in ("abandoned", "waived", "satisfied")]
    + [ADL + "voided", "http://example.org/verbs/danced"]
)
objects = st.sampled_from(
    [
        BASE,
        f"{BASE}/steps/web_start",
        f"{BASE}/steps/identity",
        f"{BASE}/assistance/phone_line",
        "https://v.example/1",
    ]
)
FIELDS = [
    ("id",),
    ("actor",),
    ("actor", "mbox"),
    ("verb",),
    ("verb", "id"),
    ("object",),
    ("object", "id"),
    ("object", "objectType"),
    ("timestamp",),
    ("context",),
    ("context", "registration"),
    ("result",),
    ("result", "success"),
    ("result", "completion"),
    ("result", "duration"),
    ("version",),
]


@st.composite
def statements(draw: st.DrawFn) -> list[Any]:
    """Valid statements of a few registrations, some fields then replaced by random JSON."""
    out: list[Any] = []
    for registration in range(draw(st.integers(1, 4))):
        w = Writer(registration)
        for _ in range(draw(st.integers(1, 6))):
            result = draw(
                st.none() | st.fixed_dictionaries({"success": st.booleans(), "duration": st.just("PT1M")})
            )
            w(draw(verbs), draw(objects), result)
        out += w.statements
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(out) - 1))
        path = draw(st.sampled_from(FIELDS))
        target = out[i] = copy.deepcopy(out[i])
        for key in path[:-1]:
            target = target.setdefault(key, {}) if isinstance(target, dict) else {}
        if isinstance(target, dict):
            target[path[-1]] = draw(json_values)
    if draw(st.booleans()):
        out.insert(draw(st.integers(0, len(out))), draw(json_values))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statements())
@pytest.mark.slow
def test_random_statements_never_crash_and_every_one_is_accounted_for(sts: list[Any]) -> None:
    plans, observed = plans_from_statements(sts, "salt", {}, 100, ACTIVITIES)
    records = [session_from_statements(JOURNEY, p) for p in plans]
    report = observed.report
    assert report.statements_read == len(sts)
    rejected = [p for p in observed.problems if p.kind == "rejected"]
    assert len(rejected) == report.rejected
    for problem in observed.problems:
        assert 0 <= problem.index < len(sts)
        assert problem.field.split(".")[0].split("[")[0] in {f[0] for f in FIELDS} | {"statement"}
    assert all(r.outcome in ("completed", "abandoned", "escalated_to_human") for r in records)
    assert len({p.source["registration_hash"] for p in plans}) == len(plans)


@given(st.sampled_from(FIELDS[1:]), json_values)
@settings(max_examples=200, deadline=None)
def test_a_malformed_field_is_reported_with_its_index_and_field(path: tuple[str, ...], value: Any) -> None:
    w = Writer(1)
    w("initialized", BASE)
    broken = w("completed", BASE, {"success": True, "duration": "PT1M"})
    broken = w.statements[1] = copy.deepcopy(broken)  # the Writer shares its actor between statements
    target: Any = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    plans, observed = plans_from_statements(w.statements, "salt", {}, 10, ACTIVITIES)
    for problem in observed.problems:
        assert problem.index == 1
        assert problem.field.startswith(path[0]) or problem.field == "statement"
    used = any(s["index"] == 1 for p in plans for s in p.source["statements"])
    report = observed.report
    # Every statement is used, reported with its field, or counted (a non-activity object, a voiding).
    assert used or observed.problems or report.not_activities or report.voiding_statements


@given(json_values | statements().map(lambda sts: sts[0]))
@settings(max_examples=200, deadline=None)
def test_the_lrs_client_side_filters_never_crash(statement: Any) -> None:
    params = LrsParams(
        url="http://127.0.0.1:1/xAPI/", activity=BASE, registration="00000000-0000-4000-8000-000000000001"
    )
    assert _wanted(statement, params) in (True, False)
