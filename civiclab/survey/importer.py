"""Reading response exports: LimeSurvey CSV (code headings) and plain CSV with a column mapping.

A LimeSurvey "Responses" export with *question codes* as headings has the system columns `id`,
`submitdate` (empty while a response is incomplete), `lastpage`, `startlanguage`, then one
column per sub-question of an array as `CODE[SQ001]`. Rules:

- a file that cannot be read as such an export (encoding, no header, duplicate or unknown item
  headings) is refused as a whole with one line naming it: nothing is stored;
- a row with an out-of-range or unreadable value is rejected with its row number and the reason,
  and the other rows are used;
- columns civiclab does not know (`seed`, `datestamp`, timings...) are ignored and listed;
- a scored (Likert) item column of the survey's instruments that is missing refuses the file,
  unless `allow_missing_items`: then every response carries the columns it lacked, and every
  score they enter says so (SUS would otherwise silently impute the centre point);
- a response's identity includes its source, so that two waves whose LimeSurvey ids both start
  at 1 do not collide: `wave` when given, else the survey id in a LimeSurvey export's file name
  (`results-survey123456.csv`), else none (`limesurvey:ID`, as before waves existed); a file an
  experiment declares adds its digest (`limesurvey@3fa2c0d1e2f3:ID`), so that its rows never take
  the place of another file's;
- a `token` column (LimeSurvey's participant token) links one person's answers across waves: only
  a keyed hash of it is kept (`civiclab.survey.codes.person_key`);
- a `datasource` column whose cell starts with `SYNTHETIC` (as `scripts/make_synthetic_survey.py`
  writes it) marks that row's response synthetic: generated, not a real person's.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from civiclab.errors import SurveyError
from civiclab.spec.instruments import Instrument, Item
from civiclab.survey.responses import Answer, SurveyResponse

ARRAY_COLUMN = re.compile(r"^([A-Za-z][A-Za-z0-9]*)\[([^\]]*)\]$")
SURVEY_ID_IN_NAME = re.compile(r"survey[_-]?(\d{3,10})", re.IGNORECASE)
WAVE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_SEGMENT_CHARS = 64
TOKEN_COLUMN = "token"
MARKER_COLUMNS = ("datasource", "data_source")
"""Headings (any case) of the column that says where a row comes from; `SYNTHETIC...` marks it generated."""
csv.field_size_limit(1024 * 1024)


@dataclass
class RejectedRow:
    row: int
    line: int
    reason: str

    def __str__(self) -> str:
        return f"row {self.row} (line {self.line}): {self.reason}"


@dataclass
class ImportReport:
    """What an import read: accepted responses, rejected rows with reasons, ignored columns."""

    file: str
    sha256: str
    format: str
    rows: int = 0
    accepted: list[SurveyResponse] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    item_columns: int = 0
    source: str = ""
    missing_items: list[str] = field(default_factory=list)
    marker_column: str | None = None

    @property
    def complete(self) -> int:
        return sum(r.complete for r in self.accepted)

    @property
    def synthetic(self) -> int:
        """Accepted responses marked SYNTHETIC by the file's own marker column."""
        return sum(r.synthetic is not None for r in self.accepted)

    @property
    def incomplete(self) -> int:
        return sum(not r.complete for r in self.accepted)

    def lines(self) -> list[str]:
        """The report as printed by `civiclab survey import` and archived with a run."""
        out = [
            f"{self.file}: {self.rows} rows read ({self.format}), {len(self.accepted)} accepted "
            f"({self.complete} complete, {self.incomplete} incomplete), {len(self.rejected)} rejected",
            f"sha256 {self.sha256}; {self.item_columns} item columns; source {self.source}",
        ]
        if self.synthetic:
            out.append(
                f"SYNTHETIC: {self.synthetic} of {len(self.accepted)} responses are marked SYNTHETIC in the "
                f"{self.marker_column} column (generated, not real people): every score they enter says so"
            )
        if self.missing_items:
            out.append(
                f"MISSING item columns (scores that use them are flagged): {', '.join(self.missing_items)}"
            )
        if self.ignored_columns:
            shown = ", ".join(self.ignored_columns[:12]) + (" ..." if len(self.ignored_columns) > 12 else "")
            out.append(f"ignored columns: {shown}")
        out.extend(f"rejected {r}" for r in self.rejected)
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "format": self.format,
            "rows": self.rows,
            "accepted": len(self.accepted),
            "complete": self.complete,
            "incomplete": self.incomplete,
            "rejected": [{"row": r.row, "line": r.line, "reason": r.reason} for r in self.rejected],
            "ignored_columns": self.ignored_columns,
            "source": self.source,
            "missing_items": self.missing_items,
            "synthetic": self.synthetic,
        }


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SurveyError(
            f"{name}: not UTF-8 text (byte {exc.start}); export it again as UTF-8 CSV"
        ) from None


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _parse_likert(item: Item, instrument: Instrument, column: str, text: str) -> int:
    scale = instrument.scale
    assert scale is not None
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        raise ValueError(f"{column}: {text[:40]!r} is not a number") from None
    if not number.is_integer():
        raise ValueError(f"{column}: {text[:40]!r} is not a whole number")
    value = int(number)
    if not scale.min <= value <= scale.max:
        raise ValueError(f"{column}: {value} is out of range {scale.min}-{scale.max}")
    return value


def parse_value(instrument: Instrument, item: Item, column: str, text: str) -> Answer | None:
    """One cell as an answer (None when empty), or ValueError naming the column and the problem."""
    text = text.strip()
    if not text:
        return None
    if item.type == "likert":
        return _parse_likert(item, instrument, column, text)
    if len(text) > item.max_length:
        raise ValueError(f"{column}: text longer than {item.max_length} characters")
    return text


def read_export(
    raw: bytes,
    name: str,
    instruments: Sequence[Instrument],
    *,
    format: Literal["limesurvey", "csv"] = "limesurvey",
    columns: dict[str, str] | None = None,
    segments: dict[str, str] | None = None,
    wave: str | None = None,
    allow_missing_items: bool = False,
    digest_in_source: bool = False,
) -> ImportReport:
    """Validate an export and return what can be used from it.

    Args:
        raw: the file's bytes (kept unchanged by callers, so they can archive them).
        name: the file name, for messages.
        instruments: the survey's instruments; their `CODE[ITEM]` columns are read.
        format: `limesurvey` (code headings) or `csv` (any headings, renamed by `columns`).
        columns: plain CSV only: source heading -> civiclab heading (`id`, `submitdate`, `SUS[SQ001]`...).
        segments: segment attribute -> column holding it.
        wave: the source of the responses (`--wave NAME`), part of each response's identity.
        allow_missing_items: accept a file without some scored item columns (flagged, not refused).
        digest_in_source: add the file's digest to the source (a file an experiment declares).

    Raises:
        SurveyError: the file as a whole cannot be used (one line naming the file and the problem).
    """
    if len(raw) > MAX_FILE_BYTES:
        raise SurveyError(f"{name}: file larger than {MAX_FILE_BYTES // 2**20} MiB")
    sha = hashlib.sha256(raw).hexdigest()
    text = _decode(raw, name)
    if not text.strip():
        raise SurveyError(f"{name}: empty file, expected a header line")
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text.splitlines()[0]), strict=True
    )
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        raise SurveyError(f"{name}: line 1: malformed CSV header: {exc}") from None
    if format == "csv" and columns:
        missing = [src for src in columns if src not in header]
        if missing:
            raise SurveyError(f"{name}: mapped column {missing[0]!r} is not in the header")
        header = [columns.get(h, h) for h in header]
    for i, heading in enumerate(header):
        if not heading:
            raise SurveyError(f"{name}: column {i + 1} has an empty heading")
        if heading in header[:i]:
            raise SurveyError(f"{name}: column {heading!r} appears twice in the header")
    if format == "limesurvey" and "id" not in header:
        raise SurveyError(f"{name}: no `id` column: not a LimeSurvey export with question codes as headings")

    by_code = {inst.code: inst for inst in instruments}
    item_columns: dict[int, tuple[Instrument, Item, str]] = {}
    ignored: list[str] = []
    system = {"id", "submitdate", "lastpage", "startlanguage", TOKEN_COLUMN}
    segment_columns = {col: attr for attr, col in (segments or {}).items()}
    marker = next((h for h in header if h.lower() in MARKER_COLUMNS and h not in segment_columns), None)
    for i, heading in enumerate(header):
        match = ARRAY_COLUMN.match(heading)
        if match and match.group(1) in by_code:
            instrument = by_code[match.group(1)]
            item = instrument.columns.get(heading)
            if item is None:
                known = ", ".join(i.code for i in instrument.items)
                raise SurveyError(
                    f"{name}: column {heading!r}: unknown item code {match.group(2)!r} of {instrument.name} "
                    f"(known: {known})"
                )
            item_columns[i] = (instrument, item, heading)
        elif heading not in system and heading not in segment_columns and heading != marker:
            ignored.append(heading)
    if not item_columns:
        codes = ", ".join(f"{c}[...]" for c in by_code)
        raise SurveyError(f"{name}: no item column of this survey's instruments ({codes})")
    present = set(header)
    missing = [
        column
        for inst in instruments
        for column, item in inst.columns.items()
        if item.type == "likert" and column not in present
    ]
    if missing and not allow_missing_items:
        raise SurveyError(
            f"{name}: column {missing[0]!r} is missing ({len(missing)} scored item column(s) missing): "
            "export every item, or pass --allow-missing-items to flag the scores that lack them"
        )
    source = response_source(format, name, wave)
    if digest_in_source:
        source = f"{source}@{sha[:12]}"

    report = ImportReport(
        file=name,
        sha256=sha,
        format=format,
        ignored_columns=ignored,
        item_columns=len(item_columns),
        source=source,
        missing_items=missing,
        marker_column=marker,
    )
    index = {h: i for i, h in enumerate(header)}
    seen_ids: set[str] = set()
    secret: bytes | None = None
    line = 1
    row_number = 0
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise SurveyError(f"{name}: line {start}: malformed CSV: {exc}") from None
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        row_number += 1
        report.rows += 1
        try:
            response = _read_row(
                cells, header, index, item_columns, segment_columns, seen_ids, row_number, format, source
            )
            response.missing_items = list(missing)
            response.filename = Path(name).name
            if marker is not None:
                response.synthetic = synthetic_marker(cells[index[marker]], marker, response.filename)
            token = cells[index[TOKEN_COLUMN]].strip() if TOKEN_COLUMN in index else ""
            if token:
                from civiclab.privacy.secrets import lab_secret
                from civiclab.survey.codes import SECRET_NAME, person_key

                secret = secret or lab_secret(SECRET_NAME)
                response.person = person_key(token, secret)
            report.accepted.append(response)
        except ValueError as exc:
            report.rejected.append(RejectedRow(row_number, start, str(exc)))
    return report


def _read_row(
    cells: list[str],
    header: list[str],
    index: dict[str, int],
    item_columns: dict[int, tuple[Instrument, Item, str]],
    segment_columns: dict[str, str],
    seen_ids: set[str],
    row_number: int,
    format: str,
    source: str,
) -> SurveyResponse:
    if len(cells) != len(header):
        raise ValueError(f"expected {len(header)} fields, found {len(cells)}")

    def cell(column: str) -> str | None:
        i = index.get(column)
        return None if i is None else cells[i].strip()

    rid = cell("id")
    if rid is None:
        rid = str(row_number)
    if not rid:
        raise ValueError("id: empty")
    if rid in seen_ids:
        raise ValueError(f"id: {rid!r} appears twice in the file")
    submitdate = cell("submitdate")
    complete = submitdate is None or bool(submitdate)
    lastpage_text = cell("lastpage")
    lastpage: int | None = None
    if lastpage_text:
        try:
            lastpage = int(lastpage_text)
        except ValueError:
            raise ValueError(f"lastpage: {lastpage_text[:20]!r} is not a number") from None
    language = (cell("startlanguage") or "fr").lower()[:8]
    answers: dict[str, Answer] = {}
    for i, (instrument, item, column) in item_columns.items():
        value = parse_value(instrument, item, column, cells[i])
        if value is not None:
            answers[column] = value
    segment: dict[str, str] = {}
    for column, attribute in segment_columns.items():
        value = cell(column)
        if value:
            if len(value) > MAX_SEGMENT_CHARS:
                raise ValueError(f"{column}: segment value longer than {MAX_SEGMENT_CHARS} characters")
            segment[attribute] = value.lower() if attribute == "language" else value
    seen_ids.add(rid)
    return SurveyResponse(
        uid=f"{source}:{rid}",
        complete=complete,
        answers=answers,
        segment=segment,
        language=language,
        lastpage=lastpage,
        source=source,
        submitted_at=submitdate or None,
        local_id=rid,
    )


def synthetic_marker(cell: str, column: str, filename: str) -> str | None:
    """Why a row is synthetic, from its marker cell (`SYNTHETIC scripts/... seed=101`), or None when it is real."""
    text = cell.strip()
    if not text.upper().startswith("SYNTHETIC"):
        return None
    return f"marked SYNTHETIC in the {column} column of {filename} ({text[:80]})"


def response_source(format: str, name: str, wave: str | None) -> str:
    """Where responses come from, the prefix of their identity: `limesurvey:wave2`, `limesurvey:survey123456`.

    Raises:
        SurveyError: `wave` is not a short name (letters, digits, `_`, `-`, `.`).
    """
    if wave is not None:
        if not WAVE.match(wave):
            raise SurveyError(
                f"--wave {wave[:50]!r}: give a short name (letters, digits, _ - .), e.g. 2026-spring"
            )
        return f"{format}:{wave}"
    found = SURVEY_ID_IN_NAME.search(Path(name).name) if format == "limesurvey" else None
    return f"{format}:survey{found.group(1)}" if found else format


def read_export_file(
    path: Path,
    instruments: Sequence[Instrument],
    *,
    format: Literal["limesurvey", "csv"] = "limesurvey",
    columns: dict[str, str] | None = None,
    segments: dict[str, str] | None = None,
    wave: str | None = None,
    allow_missing_items: bool = False,
    digest_in_source: bool = False,
) -> tuple[ImportReport, bytes]:
    """`read_export` on a file; returns the report and the raw bytes (to archive them)."""
    from civiclab.spec.limits import max_data_bytes

    if path.is_dir():
        raise SurveyError(f"{path}: is a folder, expected a response export (CSV)")
    if path.exists() and not path.is_file():
        raise SurveyError(f"{path}: not a regular file")
    limit = max_data_bytes()
    try:
        size = path.stat().st_size
        if size > limit:
            raise SurveyError(
                f"{path}: file is {size // 10**6} MB, over the {limit // 10**6} MB limit "
                "(set CIVICLAB_MAX_DATA_BYTES to raise it)"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SurveyError(f"{path}: file not found") from None
    except OSError as exc:
        raise SurveyError(f"{path}: cannot read: {exc.strerror}") from None
    report = read_export(
        raw,
        str(path),
        instruments,
        format=format,
        columns=columns,
        segments=segments,
        wave=wave,
        allow_missing_items=allow_missing_items,
        digest_in_source=digest_in_source,
    )
    return report, raw
