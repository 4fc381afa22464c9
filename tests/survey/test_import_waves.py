"""Response identity, waves, later exports and missing item columns (issue 15, "Data loss and integrity")."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from civiclab.cli import main
from civiclab.survey.store import SurveyStore

DEMO = Path(__file__).resolve().parents[2] / "experiments" / "data" / "survey" / "journey" / "responses.csv"


def _rows() -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(DEMO.read_text(encoding="utf-8"), newline=""))
    header = next(reader)
    return header, [row for row in reader if row]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _second_wave(tmp_path: Path, name: str = "wave2.csv") -> Path:
    """Another wave of the same survey: LimeSurvey numbered its responses from 1 again."""
    header, rows = _rows()
    answers = [row[1:] for row in reversed(rows)]
    return _write(
        tmp_path / name, header, [[row[0], *other] for row, other in zip(rows, answers, strict=True)]
    )


def _import(tmp_path: Path, file: Path, *extra: str) -> int:
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    args = ["survey", "import", str(file), "--experiment", "wave-test", "--store", url, "--new-experiment"]
    return main([*args, *extra])


def _stored(tmp_path: Path) -> SurveyStore:
    return SurveyStore(f"sqlite:///{tmp_path / 'survey.db'}")


# Guards issue 15: on main a second wave whose ids restart at 1 was dropped (179 of 180 "already stored").
def test_a_second_wave_whose_ids_restart_at_1_is_imported_with_wave(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _header, rows = _rows()
    assert _import(tmp_path, DEMO) == 0
    first = len(_stored(tmp_path).responses("wave-test"))
    assert first == len(rows) - 1 > 100  # the demo file has one row rejected on purpose
    assert _import(tmp_path, _second_wave(tmp_path), "--wave", "2026-autumn") == 0
    out = capsys.readouterr().out
    assert f"stored {first} new responses" in out
    stored = _stored(tmp_path).responses("wave-test")
    assert len(stored) == 2 * first
    second = {r.uid for r in stored if r.source == "limesurvey:2026-autumn"}
    assert len(second) == first and f"limesurvey:2026-autumn:{rows[0][0]}" in second


# Guards issue 15: "a collision across sources is reported, never silent".
def test_a_second_wave_without_a_name_is_reported_as_collisions_not_dropped_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import(tmp_path, DEMO) == 0
    before = [(r.uid, r.answers) for r in _stored(tmp_path).responses("wave-test")]
    capsys.readouterr()
    assert _import(tmp_path, _second_wave(tmp_path)) == 0
    captured = capsys.readouterr()
    assert "COLLISIONS left unchanged" in captured.out and "--wave NAME" in captured.err
    collided = int(captured.err.split("warning: ")[1].split()[0])
    assert collided > 100
    after = dict((r.uid, r.answers) for r in _stored(tmp_path).responses("wave-test"))
    assert all(after[uid] == answers for uid, answers in before)  # nothing overwritten


def test_the_survey_id_in_a_limesurvey_file_name_is_the_source(tmp_path: Path) -> None:
    header, rows = _rows()
    assert _import(tmp_path, _write(tmp_path / "results-survey123456.csv", header, rows[:20])) == 0
    # Another survey whose ids also start at 1, answered by other people (rows 21-40's answers).
    other = [[row[0], *later[1:]] for row, later in zip(rows[:20], rows[20:40], strict=True)]
    assert _import(tmp_path, _write(tmp_path / "results-survey654321.csv", header, other)) == 0
    uids = [r.uid for r in _stored(tmp_path).responses("wave-test")]
    assert len(uids) == 40 and uids[0] == f"limesurvey:survey123456:{rows[0][0]}"


# Guards issue 15: "a row incomplete in one export and complete in a later one is updated".
def test_a_response_incomplete_then_complete_in_a_later_export_is_updated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header, rows = _rows()
    done = header.index("submitdate")
    early = [list(r) for r in rows[:10]]
    early[3][done] = ""  # still answering when the first export was taken
    sus = [i for i, h in enumerate(header) if h.startswith("SUS[")]
    for i in sus[5:]:
        early[3][i] = ""
    assert _import(tmp_path, _write(tmp_path / "early.csv", header, early)) == 0
    [partial] = [r for r in _stored(tmp_path).responses("wave-test") if r.uid == f"limesurvey:{rows[3][0]}"]
    assert not partial.complete and len([k for k in partial.answers if k.startswith("SUS[")]) == 5
    capsys.readouterr()
    assert _import(tmp_path, _write(tmp_path / "later.csv", header, rows[:10])) == 0
    assert "completed 1 that were incomplete, 9 already stored unchanged" in capsys.readouterr().out
    [now] = [r for r in _stored(tmp_path).responses("wave-test") if r.uid == f"limesurvey:{rows[3][0]}"]
    assert now.complete and len([k for k in now.answers if k.startswith("SUS[")]) == 10


# Guards issue 15: "re-importing the same file archives it once".
def test_re_importing_the_same_file_archives_it_once(tmp_path: Path) -> None:
    for _ in range(3):
        assert _import(tmp_path, DEMO) == 0
    archived = _stored(tmp_path).raw_imports("wave-test")
    assert len(archived) == 1 and archived[0][2] == DEMO.read_bytes()


# Guards issue 15: one SUS column missing moved SUS from 69.18 to 67.38, silently.
def test_a_missing_item_column_is_refused_or_flags_every_score_it_enters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header, rows = _rows()
    drop = header.index("SUS[SQ003]")
    cut = _write(
        tmp_path / "cut.csv",
        [h for i, h in enumerate(header) if i != drop],
        [[c for i, c in enumerate(r) if i != drop] for r in rows],
    )
    capsys.readouterr()
    assert _import(tmp_path, cut) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("civiclab: error")]
    assert len(err) == 1 and str(cut) in err[0] and "column 'SUS[SQ003]' is missing" in err[0]
    assert _stored(tmp_path).responses("wave-test") == []

    assert _import(tmp_path, cut, "--allow-missing-items") == 0
    capsys.readouterr()
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    assert main(["survey", "score", "--experiment", "wave-test", "--store", url, "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    sus = [m for m in metrics if m["name"].startswith("acceptability.sus") and m["value"] is not None]
    assert sus and all("MISSING ITEMS" in (m["note"] or "") and "SUS[SQ003]" in m["note"] for m in sus)
    trust = [m for m in metrics if m["name"].startswith("acceptability.trust") and m["value"] is not None]
    assert trust and not any("MISSING" in (m["note"] or "") for m in trust)


# Guards issue 15 "never silent", then issue 21: a declared file and the store sharing ids are two sources.
def test_a_declared_file_and_the_store_sharing_ids_both_count(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from civiclab.spec.survey import SurveySpec
    from civiclab.survey.collect import gather

    assert _import(tmp_path, DEMO) == 0
    stored = len(_stored(tmp_path).responses("wave-test"))
    wave2 = _second_wave(tmp_path)
    spec = SurveySpec.model_validate(
        {"store": f"sqlite:///{tmp_path / 'survey.db'}", "responses": [{"path": str(wave2)}]},
        context={"base_dir": tmp_path},
    )
    with caplog.at_level("WARNING"):
        got = gather("wave-test", spec)
    # The declared file's identity includes its digest: its ids never take the place of the store's.
    assert got.collisions == [] and "different answers" not in caplog.text
    assert len(got.responses) == 2 * stored
    spec.responses[0].wave = "2026-autumn"
    got = gather("wave-test", spec)
    assert got.collisions == [] and len(got.responses) == 2 * stored
