"""Property-based tests of both importers (issue 15): random rows and columns never crash the
import and never lose a valid row.

The two importers are `read_export(format="limesurvey")` (LimeSurvey "question code" exports)
and `read_export(format="csv", columns=...)` (any CSV with a column mapping).
"""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civiclab.errors import SurveyError
from civiclab.spec.instruments import load_instrument
from civiclab.spec.survey import DEFAULT_SEGMENT_COLUMNS
from civiclab.survey.importer import read_export

INSTRUMENTS = [load_instrument("sus"), load_instrument("feedback")]
ITEMS = [col for inst in INSTRUMENTS for col in inst.columns]
LIKERT = {col for inst in INSTRUMENTS for col, item in inst.columns.items() if item.type == "likert"}
SYSTEM = ["id", "submitdate", "lastpage", "startlanguage", "AGEBAND"]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60)
JUNK = st.one_of(TEXT, st.integers(-100, 100).map(str), st.floats(allow_nan=True).map(str))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def valid_row(draw: st.DrawFn) -> dict[str, str]:
    row = {
        "submitdate": draw(st.sampled_from(["", "2026-03-01 10:00:00"])),
        "lastpage": draw(st.sampled_from(["", "1", "4"])),
        "startlanguage": draw(st.sampled_from(["fr", "en", ""])),
        "AGEBAND": draw(st.sampled_from(["", "18-24", "65-79", "80+"])),
    }
    for column in ITEMS:
        if column in LIKERT:
            row[column] = draw(st.sampled_from(["", "1", "2", "3", "4", "5", " 3 ", "4.0"]))
        else:
            row[column] = draw(TEXT)
    return row


@st.composite
def export(draw: st.DrawFn) -> tuple[list[str], list[list[str]], set[str]]:
    """A header (items in random order, unknown columns mixed in) and rows, some valid, some junk."""
    unknown = draw(st.lists(st.sampled_from(["seed", "datestamp", "ipaddr", "Q9", "refurl"]), unique=True))
    columns = draw(st.permutations([*SYSTEM, *ITEMS, *unknown]))
    header = ["id", *[c for c in columns if c != "id"]]
    n = draw(st.integers(0, 12))
    valid_ids: set[str] = set()
    rows: list[list[str]] = []
    for i in range(1, n + 1):
        if draw(st.booleans()):
            values = draw(valid_row())
            valid_ids.add(str(i))
            rows.append([str(i) if c == "id" else values.get(c, draw(TEXT)) for c in header])
        else:
            width = draw(st.sampled_from([len(header), len(header), len(header) - 1, len(header) + 2]))
            rows.append([str(i), *[draw(JUNK) for _ in range(max(0, width - 1))]])
    return header, rows, valid_ids


def _csv(header: list[str], rows: list[list[str]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    # "\r\n" as LimeSurvey and spreadsheets write it: a CR inside a cell is quoted.
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue().encode()


@SETTINGS
@given(export(), st.sampled_from([",", ";", "\t"]))
def test_limesurvey_import_never_crashes_and_keeps_every_valid_row(
    data: tuple[list[str], list[list[str]], set[str]], delimiter: str
) -> None:
    header, rows, valid_ids = data
    report = read_export(
        _csv(header, rows, delimiter), "x.csv", INSTRUMENTS, segments=DEFAULT_SEGMENT_COLUMNS
    )
    accepted = {r.uid.removeprefix("limesurvey:") for r in report.accepted}
    assert valid_ids <= accepted
    assert report.rows == len(rows) and len(report.accepted) + len(report.rejected) == len(rows)
    for response in report.accepted:
        assert all(1 <= v <= 5 for c, v in response.answers.items() if c in LIKERT)  # type: ignore[operator]


@SETTINGS
@given(export())
def test_plain_csv_import_with_a_mapping_keeps_every_valid_row(
    data: tuple[list[str], list[list[str]], set[str]],
) -> None:
    header, rows, valid_ids = data
    # The lab's own headings, mapped back to civiclab's: q1..qN for the items, who/done for the system.
    renamed = {c: f"q{i}" for i, c in enumerate(ITEMS)} | {"id": "who", "submitdate": "done"}
    mapping = {renamed[c]: c for c in header if c in renamed}
    plain_header = [renamed.get(c, c) for c in header]
    report = read_export(_csv(plain_header, rows), "plain.csv", INSTRUMENTS, format="csv", columns=mapping)
    assert valid_ids <= {r.uid.removeprefix("csv:") for r in report.accepted}


@SETTINGS
@given(st.binary(max_size=400) | TEXT.map(str.encode))
def test_any_bytes_are_an_import_or_one_line_survey_error(raw: bytes) -> None:
    for fmt in ("limesurvey", "csv"):
        try:
            read_export(raw, "random.csv", INSTRUMENTS, format=fmt)  # type: ignore[arg-type]
        except SurveyError as exc:
            assert str(exc).startswith("random.csv: ") and "\n" not in str(exc)


@SETTINGS
@given(export(), st.lists(st.sampled_from(ITEMS), min_size=1, unique=True))
def test_a_header_missing_items_is_refused_in_one_line_or_flagged(
    data: tuple[list[str], list[list[str]], set[str]], dropped: list[str]
) -> None:
    header, rows, _valid = data
    keep = [i for i, c in enumerate(header) if c not in dropped]
    cut_header = [header[i] for i in keep]
    cut_rows = [[row[i] for i in keep if i < len(row)] for row in rows]
    raw = _csv(cut_header, cut_rows)
    scored_missing = [c for c in dropped if c in LIKERT]
    try:
        read_export(raw, "cut.csv", INSTRUMENTS)
        refused = None
    except SurveyError as exc:
        refused = str(exc)
    if scored_missing and len(scored_missing) < len(LIKERT):
        assert refused is not None and "is missing" in refused and "\n" not in refused
    if refused is None or "is missing" in refused:
        try:
            report = read_export(raw, "cut.csv", INSTRUMENTS, allow_missing_items=True)
        except SurveyError as exc:  # e.g. no item column left at all
            assert "no item column" in str(exc)
        else:
            assert sorted(report.missing_items) == sorted(scored_missing)
            assert all(sorted(r.missing_items) == sorted(scored_missing) for r in report.accepted)
