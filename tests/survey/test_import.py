"""LimeSurvey and plain-CSV imports: row-level rejections, file-level refusals, the CLI and the store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civiclab.cli import main
from civiclab.errors import SurveyError
from civiclab.spec.instruments import load_instrument
from civiclab.spec.survey import DEFAULT_SEGMENT_COLUMNS
from civiclab.survey.importer import read_export
from civiclab.survey.store import SurveyStore

INSTRUMENTS = [load_instrument("sus"), load_instrument("feedback")]
SUS_HEAD = ",".join(f"SUS[SQ{i:03d}]" for i in range(1, 11))
HEADER = f"id,submitdate,lastpage,startlanguage,seed,AGEBAND,{SUS_HEAD},FB[SQ001]"


def export(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


GOOD = "2026-03-01 10:00:00,4,fr,123,40-64,4,2,4,2,4,2,4,2,4,2,Très bien"


def test_limesurvey_rows_are_read_and_bad_rows_rejected_with_their_number() -> None:
    raw = export(
        f"1,{GOOD}",
        "2,,1,en,9,80+,3,3,,,,,,,,,",  # row 2: incomplete (no submitdate): drop-off only
        "3,2026-03-01 11:00:00,4,fr,1,25-39,4,2,4,2,4,2,4,2,4,9,",  # row 3: 9 out of 1-5
        "4,2026-03-01 11:00:00,4,fr,1,25-39,4,2,4,abc,4,2,4,2,4,2,",  # row 4: not a number
        "5,2026-03-01 11:00:00,4,fr,1,25-39,4,2",  # row 5: ragged
        f"1,{GOOD}",  # row 6: id seen before
        '7,2026-03-01 12:00:00,4,fr,1,18-24,5,1,5,1,5,1,5,1,5,1,"Deux lignes,\nune virgule"',
        "8,2026-03-01 12:00:00,4,fr,1,18-24,5,1,5,1,5,1,5,1,5,2.5,",  # row 8: not whole
    )
    report = read_export(raw, "export.csv", INSTRUMENTS, segments=DEFAULT_SEGMENT_COLUMNS)
    assert report.rows == 8
    assert [r.uid for r in report.accepted] == ["limesurvey:1", "limesurvey:2", "limesurvey:7"]
    assert [r.complete for r in report.accepted] == [True, False, True]
    assert (
        report.accepted[0].answers["SUS[SQ001]"] == 4
        and report.accepted[0].answers["FB[SQ001]"] == "Très bien"
    )
    assert report.accepted[0].segment == {"age_band": "40-64", "language": "fr"}
    assert report.accepted[2].answers["FB[SQ001]"] == "Deux lignes,\nune virgule"
    rejected = {r.row: r.reason for r in report.rejected}
    assert rejected == {
        3: "SUS[SQ010]: 9 is out of range 1-5",
        4: "SUS[SQ004]: 'abc' is not a number",
        5: "expected 17 fields, found 8",
        6: "id: '1' appears twice in the file",
        8: "SUS[SQ010]: '2.5' is not a whole number",
    }
    assert report.rejected[-1].line == 10  # row 7 spans two lines
    assert report.ignored_columns == ["seed"]
    assert any(
        "rejected row 3 (line 4): SUS[SQ010]: 9 is out of range 1-5" in line for line in report.lines()
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "empty file"),
        (b"\xff\xfeid,x\n", "not UTF-8"),
        (b"respid,SUS[SQ001]\n1,3\n", "no `id` column"),
        (
            export(f"1,{GOOD}", header=HEADER.replace("SUS[SQ010]", "SUS[SQ011]")),
            "column 'SUS[SQ011]': unknown item code 'SQ011' of sus",
        ),
        (b"id,submitdate,Q1\n1,x,3\n", "no item column"),
        (export(f"1,{GOOD}", header=HEADER.replace("seed", "id")), "appears twice in the header"),
        (f'id,{SUS_HEAD}\n1,"3\n'.encode(), "malformed CSV"),
    ],
)
def test_a_malformed_export_is_refused_as_a_whole(raw: bytes, expected: str) -> None:
    with pytest.raises(SurveyError, match=expected.replace("[", r"\[").replace("(", r"\(")):
        read_export(raw, "bad.csv", INSTRUMENTS)


def test_plain_csv_with_a_mapping_and_semicolons() -> None:
    header = "respondent;done;" + ";".join(f"q{i}" for i in range(1, 11))
    raw = (header + "\nA;yes;" + ";".join(["5", "1"] * 5) + "\nB;;3;3;3;3;3;3;3;3;3;3\n").encode()
    columns = {"respondent": "id", "done": "submitdate", **{f"q{i}": f"SUS[SQ{i:03d}]" for i in range(1, 11)}}
    report = read_export(raw, "plain.csv", INSTRUMENTS, format="csv", columns=columns)
    assert [(r.uid, r.complete) for r in report.accepted] == [("csv:A", True), ("csv:B", False)]
    assert report.accepted[0].answers["SUS[SQ002]"] == 1
    with pytest.raises(SurveyError, match="mapped column 'nope'"):
        read_export(raw, "plain.csv", INSTRUMENTS, format="csv", columns={"nope": "id"})


def test_cli_import_stores_valid_rows_and_a_bad_file_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # The lab's spec, found by its `name:` under experiments/: its survey is SUS and free text.
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "lab.yaml").write_text(
        "name: pilot-x\nsurvey:\n  instruments: [sus, feedback]\n", encoding="utf-8"
    )
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    good = tmp_path / "export.csv"
    good.write_bytes(export(f"1,{GOOD}", "2,2026-03-01 11:00:00,4,fr,1,25-39,4,2,4,2,4,2,4,2,4,9,"))
    assert main(["survey", "import", str(good), "--experiment", "pilot-x", "--store", url]) == 0
    out = capsys.readouterr().out
    assert "rejected row 2 (line 3): SUS[SQ010]: 9 is out of range 1-5" in out
    assert "stored 1 new responses for 'pilot-x'" in out

    store = SurveyStore(url)
    before = [(r.uid, r.answers) for r in store.responses("pilot-x")]
    assert before == [
        (
            "limesurvey:1",
            {**{f"SUS[SQ{i:03d}]": 4 - 2 * (i % 2 == 0) for i in range(1, 11)}, "FB[SQ001]": "Très bien"},
        )
    ]
    raw_files = store.raw_imports("pilot-x")
    assert raw_files[0][2] == good.read_bytes()  # the raw file is kept, byte for byte

    # Re-import: the same id is not stored twice, nor changed.
    changed = tmp_path / "changed.csv"
    changed.write_bytes(export("1,2026-03-01 10:00:00,4,fr,123,40-64,1,1,1,1,1,1,1,1,1,1,"))
    assert main(["survey", "import", str(changed), "--experiment", "pilot-x", "--store", url]) == 0
    assert "0 new responses" in capsys.readouterr().out

    bad = tmp_path / "bad.csv"
    bad.write_bytes(export(f"1,{GOOD}", header=HEADER.replace("SUS[SQ010]", "SUS[SQ099]")))
    assert main(["survey", "import", str(bad), "--experiment", "pilot-x", "--store", url]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("civiclab: error")]
    assert len(errors) == 1 and "unknown item code 'SQ099'" in errors[0]
    assert main(["survey", "import", str(good), "--experiment", "pilot-x", "--store", url, "--strict"]) == 2
    assert "--strict given: nothing stored" in capsys.readouterr().err
    assert [(r.uid, r.answers) for r in store.responses("pilot-x")] == before
    store.close()


def test_cli_invite_stores_only_hashes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    args = ["survey", "invite", "--experiment", "pilot-x", "--count", "3", "--store", url]
    assert main([*args, "--segment", "age_band=65-79"]) == 0
    codes = capsys.readouterr().out.split()
    assert len(codes) == 3 and len(set(codes)) == 3
    store = SurveyStore(url)
    assert store.invitation("pilot-x", codes[0].lower()).segment == {"age_band": "65-79"}
    assert store.invited_count("pilot-x") == 3
    dump = b"".join(p.read_bytes() for p in tmp_path.glob("survey.db*"))
    assert not any(c.replace("-", "").encode() in dump or c.encode() in dump for c in codes)
    store.close()
    assert main([*args, "--segment", "shoe_size=42"]) == 2
    assert main(["survey", "invite", "--experiment", "pilot-x", "--count", "0", "--store", url]) == 2


def test_an_unreachable_store_is_one_line_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://lab:s3cret@127.0.0.1:1/survey"
    assert main(["survey", "invite", "--experiment", "pilot-x", "--count", "1", "--store", url]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("civiclab: error")]
    assert len(errors) == 1 and "cannot open the survey store" in errors[0] and "s3cret" not in errors[0]


def test_cli_import_of_a_plain_csv_with_a_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    data = tmp_path / "plain.csv"
    data.write_text("who,q1,q2\nA,5,1\nB,4,2\n", encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("who: id\nq1: SUS[SQ001]\nq2: SUS[SQ002]\n", encoding="utf-8")
    args = ["survey", "import", str(data), "--experiment", "pilot-x", "--store", url, "--new-experiment"]
    # Only two of the ten SUS items: refused unless allowed (issue 15), and then flagged.
    assert main([*args, "--format", "csv", "--mapping", str(mapping)]) == 2
    assert "column 'SUS[SQ003]' is missing" in capsys.readouterr().err
    assert main([*args, "--format", "csv", "--mapping", str(mapping), "--allow-missing-items"]) == 0
    out = capsys.readouterr().out
    assert "stored 2 new responses" in out and "MISSING item columns" in out
    store = SurveyStore(url)
    assert [r.answers for r in store.responses("pilot-x")] == [
        {"SUS[SQ001]": 5, "SUS[SQ002]": 1},
        {"SUS[SQ001]": 4, "SUS[SQ002]": 2},
    ]
    store.close()
    assert main([*args, "--mapping", str(mapping)]) == 2  # a mapping is for plain CSV only


def test_cli_results_in_plain_language_and_as_a_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = (
        Path(__file__).resolve().parents[2] / "experiments" / "data" / "survey" / "journey" / "responses.csv"
    )
    spec = tmp_path / "pilot.yaml"
    spec.write_text(
        f"name: pilot-x\nsurvey:\n  read_store: false\n  responses: [{{path: {demo}, synthetic: true}}]\n"
        "privacy: {k_anonymity: 10}\n",
        encoding="utf-8",
    )
    assert main(["survey", "results", "--experiment", str(spec), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SYNTHETIC demo data\n149 people answered the whole survey.")
    assert "- Usability (SUS score): 69 out of 100, most likely between" in out
    page = tmp_path / "results.html"
    assert main(["survey", "results", "--experiment", str(spec), "--html", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert '<html lang="fr">' in html and "<style>" in html and "/static/" not in html
    assert "Aucun groupe de moins de 10 personnes" in html and "digital_literacy=none" not in html
    counts = [int(n) for n in re.findall(r"<td>(\d+)</td></tr>", html)]
    assert counts and min(counts) >= 10  # every group shown has at least k people
