"""Surveys count each person once (issue 21): content identity, synthetic sources, the response rate."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from civiclab.cli import main
from civiclab.spec.survey import SurveySpec
from civiclab.survey.collect import gather
from civiclab.survey.store import SurveyStore

DEMO = Path(__file__).resolve().parents[2] / "experiments" / "data" / "survey" / "journey" / "responses.csv"
EXPERIMENT = "counted-once"
SCALES = {"SUS": 5, "UTAUT": 5, "TRUST": 7}


def _table(path: Path = DEMO) -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    header = next(reader)
    return header, [row for row in reader if row]


def _valid(header: list[str], row: list[str]) -> bool:
    """Read by hand: every Likert answer empty or within its scale."""
    for heading, cell in zip(header, row, strict=True):
        top = SCALES.get(heading.split("[")[0]) if "[" in heading else None
        if top is not None and cell and not 1 <= int(cell) <= top:
            return False
    return True


def _counts(header: list[str], rows: list[list[str]]) -> tuple[int, int]:
    """(responses stored, complete ones) of these rows, counted without civiclab."""
    valid = [r for r in rows if _valid(header, r)]
    done = header.index("submitdate")
    return len(valid), sum(1 for r in valid if r[done])


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'survey.db'}"


def _import(tmp_path: Path, file: Path, *extra: str) -> int:
    return main(
        [
            "survey",
            "import",
            str(file),
            "--experiment",
            EXPERIMENT,
            "--store",
            _url(tmp_path),
            "--new-experiment",
            *extra,
        ]
    )


def _score(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    capsys.readouterr()
    assert main(["survey", "score", "--experiment", EXPERIMENT, "--store", _url(tmp_path), "--json"]) == 0
    return {m["name"]: m for m in json.loads(capsys.readouterr().out) if m["segment"] is None}


def _stored(tmp_path: Path) -> int:
    store = SurveyStore(_url(tmp_path))
    try:
        return store.count(EXPERIMENT)
    finally:
        store.close()


# Guards issue 21: "the same file imported twice (--wave w1, then without, or two wave names) is stored
# twice: respondents 149 -> 298 and the SUS interval narrows".
def test_the_same_file_imported_under_any_wave_is_stored_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header, rows = _table()
    stored, complete = _counts(header, rows)
    assert (len(rows), stored, complete) == (180, 179, 149)  # the demo file, read by hand
    assert _import(tmp_path, DEMO, "--wave", "w1") == 0
    first = _score(tmp_path, capsys)
    for wave in ((), ("--wave", "w2"), ("--wave", "w1")):
        assert _import(tmp_path, DEMO, *wave) == 0
        out = capsys.readouterr().out
        assert f"stored 0 new responses for {EXPERIMENT!r}" in out
        assert f"{stored} responses already imported from responses.csv (wave w1): skipped" in out
    assert _stored(tmp_path) == stored
    again = _score(tmp_path, capsys)
    assert again["acceptability.respondents"]["value"] == complete == 149
    for name in ("acceptability.sus", "acceptability.trust"):
        assert (again[name]["value"], again[name]["ci_low"], again[name]["ci_high"], again[name]["n"]) == (
            first[name]["value"],
            first[name]["ci_low"],
            first[name]["ci_high"],
            first[name]["n"],
        )


def test_the_same_response_in_a_later_export_is_recognised_and_only_new_ones_are_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header, rows = _table()
    early = _write(tmp_path / "march.csv", header, rows[:100])
    cumulative = _write(tmp_path / "april.csv", header, rows)  # LimeSurvey exports every response so far
    assert _import(tmp_path, early, "--wave", "march") == 0
    capsys.readouterr()
    assert _import(tmp_path, cumulative, "--wave", "april") == 0
    out = capsys.readouterr().out
    before, _ = _counts(header, rows[:100])
    after, _ = _counts(header, rows[100:])
    assert f"stored {after} new responses" in out
    assert f"{before} responses already imported from march.csv (wave march): skipped" in out
    assert _stored(tmp_path) == before + after == 179
    # One answer changed is another response: a second person's, or a correction, never dropped silently.
    changed = [list(r) for r in rows[:100]]
    sus1 = header.index("SUS[SQ001]")
    changed[0][sus1] = "1" if changed[0][sus1] != "1" else "2"
    assert _import(tmp_path, _write(tmp_path / "may.csv", header, changed), "--wave", "may") == 0
    assert _stored(tmp_path) == 180
    assert f"{before - 1} responses already imported from march.csv (wave march): skipped" in (
        capsys.readouterr().out
    )


def _real_export(tmp_path: Path, count: int = 30) -> tuple[Path, int]:
    """A lab's real export: LimeSurvey numbered it from 1 too; other answers, no SYNTHETIC marker."""
    header, rows = _table()
    marker = header.index("datasource")
    kept = [r for r in rows if _valid(header, r)][-count:]
    real = [[str(i + 1), *r[1:marker], *r[marker + 1 :]] for i, r in enumerate(kept)]
    cut = [h for i, h in enumerate(header) if i != marker]
    done = cut.index("submitdate")
    return _write(tmp_path / "export.csv", cut, real), sum(1 for r in real if r[done])


# Guards issue 21: "a lab's real export whose ids collide with the bundled synthetic file's
# (`limesurvey:1`...) loses its rows to the synthetic ones at scoring, with only a warning".
def test_a_real_export_with_the_synthetic_files_ids_keeps_its_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    export, real_complete = _real_export(tmp_path)
    assert _import(tmp_path, export) == 0  # no --wave: its uids are limesurvey:1 ... limesurvey:30
    spec = SurveySpec.model_validate(
        {"store": _url(tmp_path), "responses": [{"path": str(DEMO), "synthetic": True}]},
        context={"base_dir": tmp_path},
    )
    with caplog.at_level("WARNING"):
        got = gather(EXPERIMENT, spec)
    header, rows = _table()
    synthetic, synthetic_complete = _counts(header, rows)
    assert len(got.responses) == synthetic + 30 == 209
    assert sum(r.complete for r in got.responses) == synthetic_complete + real_complete
    real = [r for r in got.responses if r.synthetic is None]
    assert len(real) == 30 and {r.uid for r in real} == {f"limesurvey:{i}" for i in range(1, 31)}
    assert got.collisions == [] and "different answers" not in caplog.text
    assert got.synthetic_files == ["responses.csv"]
    # The same synthetic file also imported into the store is the same responses: counted once.
    assert _import(tmp_path, DEMO, "--wave", "demo") == 0
    again = gather(EXPERIMENT, spec)
    assert len(again.responses) == 209 and again.duplicates == synthetic


# Guards issue 21: "a file's own `datasource: SYNTHETIC` column is ignored on import".
def test_a_synthetic_marker_column_marks_its_rows_and_the_scorecard_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from civiclab.scoring.scorecard import synthetic_evidence
    from civiclab.survey.scoring import score_survey

    header, rows = _table()
    marker = header.index("datasource")
    mixed = [list(r) for r in rows]
    for r in mixed[:40]:
        r[marker] = "fieldwork 2026-03"  # real answers share the file
    stored, _ = _counts(header, rows)
    real, _ = _counts(header, rows[:40])
    assert _import(tmp_path, _write(tmp_path / "mixed.csv", header, mixed)) == 0
    out = capsys.readouterr().out
    assert (
        f"SYNTHETIC: {stored - real} of {stored} responses are marked SYNTHETIC in the datasource column"
        in out
    )
    assert "datasource" not in out.split("ignored columns:")[1].splitlines()[0]

    got = gather(EXPERIMENT, SurveySpec(store=_url(tmp_path)))
    assert got.synthetic_files == ["mixed.csv"]
    marked = [r for r in got.responses if r.synthetic is not None]
    assert len(marked) == stored - real and len(got.responses) == stored
    assert all("datasource column of mixed.csv" in (r.synthetic or "") for r in marked)

    # What the acceptability evaluator does with them: every figure says SYNTHETIC, and so does the card.
    metrics = score_survey(SurveySpec().load_instruments(), got.responses, got.scoring_options(5))
    reason = got.synthetic_reason
    assert reason is not None and "mixed.csv" in reason
    for m in metrics:
        m.synthetic = reason
    [line] = synthetic_evidence(metrics)
    assert line.startswith("acceptability: ") and line.endswith(reason)
    scored = _score(tmp_path, capsys)  # `survey score` says so too
    assert {m["synthetic"] for m in scored.values()} == {reason}


# Guards issue 21: "with 5 invitation codes issued and 358 uncoded responses, the response rate equals
# the completion rate and the public page says '83% of the people invited answered'".
def test_the_response_rate_is_over_issued_invitations_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header, rows = _table()
    uncoded, uncoded_complete = _counts(header, rows)
    store = SurveyStore(_url(tmp_path))
    codes = store.create_invitations(EXPERIMENT, 5)
    for code in codes[:2]:
        store.submit(EXPERIMENT, code, {f"SUS[SQ{i:03d}]": 4 if i % 2 else 2 for i in range(1, 11)}, "en", 4)
    store.close()
    assert _import(tmp_path, DEMO) == 0
    metrics = _score(tmp_path, capsys)
    completion = metrics["acceptability.completion_rate"]
    assert completion["value"] == pytest.approx((uncoded_complete + 2) / (uncoded + 2))
    rate = metrics["acceptability.response_rate"]
    assert rate["value"] == pytest.approx(2 / 5) and rate["n"] == 5
    assert f"{uncoded} responses came without a code" in str(rate["note"])
    assert metrics["acceptability.uncoded_responses"]["value"] == uncoded == 179

    assert (
        main(["survey", "results", "--experiment", EXPERIMENT, "--store", _url(tmp_path), "--lang", "en"])
        == 0
    )
    page = capsys.readouterr().out
    assert "of the people invited answered" not in page and "83% of the people" not in page
    assert f"{uncoded} answers came without an invitation code" in page
    assert "Of the 5 people who received an invitation code, 40% answered." in page
    assert (
        main(["survey", "results", "--experiment", EXPERIMENT, "--store", _url(tmp_path), "--lang", "fr"])
        == 0
    )
    page = capsys.readouterr().out
    assert "des personnes invitées ont répondu" not in page
    assert f"{uncoded} réponses sont arrivées sans code d'invitation" in page


def test_a_declared_invited_count_below_the_responses_gives_no_rate() -> None:
    from civiclab.spec.instruments import load_instrument
    from civiclab.survey.responses import SurveyResponse
    from civiclab.survey.scoring import ScoringOptions, score_survey

    sus = load_instrument("sus")
    answers = {f"SUS[SQ{i:03d}]": 3 for i in range(1, 11)}
    people = [SurveyResponse(uid=f"p{i}", complete=True, answers=answers) for i in range(12)]
    by_name = {
        m.name: m for m in score_survey([sus], people, ScoringOptions(invited=10)) if m.segment is None
    }
    rate = by_name["acceptability.response_rate"]
    assert rate.value is None and "12 responses for 10 people invited" in (rate.error or "")
    by_name = {
        m.name: m for m in score_survey([sus], people, ScoringOptions(invited=40)) if m.segment is None
    }
    assert by_name["acceptability.response_rate"].value == pytest.approx(12 / 40)


# Guards issue 21 on stores written before content identity: a file imported twice then is counted once now.
def test_a_store_that_already_holds_a_file_twice_counts_each_response_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    from civiclab.survey.importer import read_export_file

    db = sqlite3.connect(tmp_path / "survey.db")
    db.execute(  # the table as civiclab 0.1 created it: no missing_items, filename or synthetic column
        "CREATE TABLE survey_responses (id INTEGER PRIMARY KEY AUTOINCREMENT, experiment VARCHAR(64) NOT NULL, "
        "uid VARCHAR(128) NOT NULL, source VARCHAR(300) NOT NULL, complete BOOLEAN NOT NULL, "
        "submitted_at VARCHAR(32), lastpage INTEGER, language VARCHAR(8) NOT NULL, segment JSON NOT NULL, "
        "answers JSON NOT NULL, stored_at VARCHAR(32) NOT NULL, "
        "CONSTRAINT uq_survey_response_uid UNIQUE (experiment, uid))"
    )
    instruments = SurveySpec().load_instruments()
    for wave in ("w1", None):  # what `import --wave w1` then `import` stored before
        report, _ = read_export_file(DEMO, instruments, segments=SurveySpec().segments, wave=wave)
        db.executemany(
            "INSERT INTO survey_responses (experiment, uid, source, complete, submitted_at, lastpage, language, "
            "segment, answers, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '2026-01-01')",
            [
                (EXPERIMENT, r.uid, r.source, r.complete, r.submitted_at, r.lastpage, r.language)
                + (json.dumps(r.segment), json.dumps(r.answers))
                for r in report.accepted
            ],
        )
    db.commit()
    db.close()
    header, rows = _table()
    stored, complete = _counts(header, rows)
    assert _stored(tmp_path) == 2 * stored  # the store holds every response twice
    metrics = _score(tmp_path, capsys)
    assert metrics["acceptability.respondents"]["value"] == complete == 149
    assert metrics["acceptability.started"]["value"] == stored
    assert _import(tmp_path, DEMO, "--wave", "w3") == 0
    assert f"{stored} responses already imported from an earlier import (wave w1): skipped" in (
        capsys.readouterr().out
    )
