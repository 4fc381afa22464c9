"""The canonical JSON the audit chain hashes never changes: every stored chain was hashed with it.

Three pins: against the standard library's `json` (an independent serialiser) for every JSON value
whose numbers are integers; against the function as it stood when the chains on disk were written
(copied below, verbatim) for any JSON value, floats included; and byte for byte on the files a
real journey run writes, recomputed with `json` alone.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from civiclab.records import canonical_bytes, canonical_json
from tests.audit_formats import audit_format

__all__ = ["audit_format"]

# Unicode text without lone surrogates (JSON text is UTF-8; a lone surrogate cannot be encoded).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
INTS = st.integers(min_value=-(2**63), max_value=2**64 - 1)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def json_values(numbers: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | numbers | TEXT
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=5),
        max_leaves=25,
    )


def stdlib_canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical_json_as_written(value: Any) -> str:
    """`civiclab.records.canonical_json` as it stood when the stored chains were hashed (08f6671)."""
    try:
        return orjson.dumps(
            value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str
        ).decode()
    except (TypeError, orjson.JSONEncodeError):  # e.g. integers past 64 bits
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(json_values(INTS | st.integers()))
@example({"é": "\u2028", "a": [1, {"z": None, "b": True}], "ключ": "значение 🙂"})
@example({"big": 2**70, "n": -(2**63)})
def test_canonical_json_is_the_standard_librarys_sorted_compact_form(value: Any) -> None:
    assert canonical_bytes(value) == stdlib_canonical(value)


@SETTINGS
@given(json_values(INTS | FLOATS | st.integers()))
@example({"small": 1e-7, "tiny": 1e-05, "large": 1e16, "half": 0.5, "zero": -0.0})
@example({"big": 2**70, "small": 1e-7})  # past 64 bits: the whole value falls back to `json`
def test_canonical_bytes_are_the_bytes_every_stored_chain_was_hashed_with(value: Any) -> None:
    assert canonical_bytes(value) == canonical_json_as_written(value).encode("utf-8")
    assert canonical_json(value) == canonical_json_as_written(value)
    assert json.loads(canonical_bytes(value)) == value


def test_floats_are_written_as_orjson_writes_them_not_as_json_does() -> None:
    # Why the docstring no longer claims equality with `json.dumps` for every value.
    assert canonical_bytes([1e-7, 1e-05, 1e16, 90.0]) == b"[1e-7,0.00001,1e+16,90.0]"
    assert stdlib_canonical([1e-7, 1e-05, 1e16, 90.0]) == b"[1e-07,1e-05,1e+16,90.0]"


def reference_chain(path: Path) -> str:
    """The chain's root recomputed with `json` alone, checking each line is the canonical entry."""
    prev = "0" * 64
    for line in path.read_bytes().splitlines(keepends=True):
        entry = json.loads(line)
        assert line == stdlib_canonical(entry) + b"\n"
        assert entry["prev"] == prev
        if "session" in entry:  # format 2: a whole session, its hash domain-separated from events
            body = b"session:" + stdlib_canonical(entry["session"])
        else:
            body = stdlib_canonical(entry["event"])
        digest = hashlib.sha256(prev.encode() + body).hexdigest()
        assert entry["hash"] == digest
        prev = digest
    return prev


@pytest.fixture(scope="module")
def journey_records() -> list[Any]:
    from civiclab.plugins.experiment import load_experiment
    from civiclab.plugins.population import iter_plans
    from civiclab.run.sessions import build_pilot

    spec = Path(__file__).resolve().parents[1] / "experiments" / "journey.yaml"
    experiment = load_experiment(spec, {"population.sessions": 50})
    pilot = build_pilot(experiment)
    pilot.setup()
    plans = iter_plans(experiment.personas, 50, experiment.spec.population.seed)
    return [pilot.run_session(plan) for plan in plans]


def test_a_journey_runs_files_are_what_json_alone_would_write(
    tmp_path: Path, journey_records: list[Any], audit_format: int
) -> None:
    from civiclab.run.journal import Journal, redacted

    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with Journal(tmp_path, start) as journal:
        journal.open_run({"experiment": "journey", "sessions": 50})
        for record in journey_records:
            journal.session(record)
        chain = journal.close_run()
    if audit_format == 2:
        assert chain.events == 50 + 2  # run.open, a line per session (its events inside), run.close
    else:
        assert chain.events > 50 * 10  # the journeys' own events are in it, not only civiclab's
    assert reference_chain(tmp_path / "audit.jsonl") == chain.root
    # sessions.jsonl: one canonical line per session, as the slow path (model_dump, then redact) gives.
    lines = (tmp_path / "sessions.jsonl").read_bytes().splitlines(keepends=True)
    expected = [stdlib_canonical(redacted(r).model_dump(mode="json")) + b"\n" for r in journey_records]
    if audit_format == 2:  # the chained session's bytes, then its timings (never chained)
        expected = []
        for record in journey_records:
            dumped = redacted(record).model_dump(mode="json")
            timings = dumped.pop("timings")
            chained = stdlib_canonical(dumped)
            expected.append(chained[:-1] + b',"timings":' + stdlib_canonical(timings) + b"}\n")
    assert lines == expected
