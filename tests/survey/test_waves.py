"""Survey waves (issue 21): per-wave scores and a before/after comparison, paired where people answered twice."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from civiclab.cli import main

DEMO = Path(__file__).resolve().parents[2] / "experiments" / "data" / "survey" / "journey" / "responses.csv"
EXPERIMENT = "waves-test"


def _complete_valid_rows() -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(DEMO.read_text(encoding="utf-8"), newline=""))
    header = next(reader)
    sus = [header.index(f"SUS[SQ{i:03d}]") for i in range(1, 11)]
    done = header.index("submitdate")
    rows = [
        r
        for r in reader
        if r and r[done] and all(r[i] and 1 <= int(r[i]) <= 5 for i in sus)  # every SUS item answered
    ]
    return header, rows


def sus_by_hand(header: list[str], row: list[str]) -> float:
    """Brooke's SUS: 2.5 x (sum of odd items - 1, plus 5 - even items)."""
    values = [int(row[header.index(f"SUS[SQ{i:03d}]")]) for i in range(1, 11)]
    return 2.5 * sum(v - 1 if i % 2 == 0 else 5 - v for i, v in enumerate(values))


def _waves(tmp_path: Path, people: int, tokens: bool) -> tuple[list[float], list[float]]:
    """Two waves of the same `people`: the second rates usability higher (odd SUS items +1, up to 5)."""
    header, rows = _complete_valid_rows()
    rows = rows[:people]
    head = [*header, "token"] if tokens else header
    later = []
    for row in rows:
        changed = list(row)
        for i in range(1, 11, 2):
            column = header.index(f"SUS[SQ{i:03d}]")
            changed[column] = str(min(5, int(changed[column]) + 1))
        changed[header.index("submitdate")] = "2026-09-01 10:00:00"
        later.append(changed)
    for name, table in (("before.csv", rows), ("after.csv", later)):
        body = [[*r, f"tok{i}"] if tokens else r for i, r in enumerate(table)]
        if name == "after.csv":  # LimeSurvey numbers the new wave from 1, in the order people answered it
            body = [[str(n + 1), *r[1:]] for n, r in enumerate(reversed(body))]
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([head, *body])
        (tmp_path / name).write_text(out.getvalue(), encoding="utf-8")
        url = f"sqlite:///{tmp_path / 'survey.db'}"
        wave = name.removesuffix(".csv")
        cmd = [
            "survey",
            "import",
            str(tmp_path / name),
            "--experiment",
            EXPERIMENT,
            "--store",
            url,
            "--new-experiment",
        ]
        assert main([*cmd, "--wave", wave]) == 0
    return [sus_by_hand(header, r) for r in rows], [sus_by_hand(header, r) for r in later]


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    cmd = ["survey", "waves", "--experiment", EXPERIMENT, "--store", url]
    assert main([*cmd, "--before", "before", "--after", "after", "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_each_wave_is_scored_on_its_own_and_the_change_is_paired_by_person(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scipy import stats

    before, after = _waves(tmp_path, 80, tokens=True)
    got = _run(tmp_path, capsys)
    waves = {w: {m["name"]: m for m in ms} for w, ms in got["waves"].items()}  # type: ignore[attr-defined]
    assert set(waves) == {"before", "after"}
    # The demo rows carry their SYNTHETIC marker into both waves: the comparison says so.
    assert got["synthetic"] == "SYNTHETIC responses from before.csv, after.csv (demo data, not real people)"
    assert waves["before"]["acceptability.sus"]["value"] == pytest.approx(np.mean(before))
    assert waves["after"]["acceptability.sus"]["value"] == pytest.approx(np.mean(after))
    assert waves["before"]["acceptability.respondents"]["value"] == 80
    [sus] = [c for c in got["comparison"] if c["metric"] == "acceptability.sus"]  # type: ignore[attr-defined]
    diffs = np.array(after) - np.array(before)
    assert sus["pairs"] == 80 and sus["result"]["paired"] is True
    assert sus["result"]["delta"] == pytest.approx(diffs.mean())
    # The paired bootstrap interval agrees with the paired t interval (a reference computed by scipy).
    t = stats.ttest_rel(after, before)
    low, high = t.confidence_interval(0.95)
    width = high - low
    assert abs(sus["result"]["delta_low"] - low) < 0.15 * width
    assert abs(sus["result"]["delta_high"] - high) < 0.15 * width
    assert sus["result"]["p_value"] < 0.001 and t.pvalue < 0.001


def test_without_a_participant_token_the_waves_are_compared_unpaired(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, after = _waves(tmp_path, 60, tokens=False)
    got = _run(tmp_path, capsys)
    [sus] = [c for c in got["comparison"] if c["metric"] == "acceptability.sus"]  # type: ignore[attr-defined]
    assert sus["pairs"] == 0 and sus["result"]["paired"] is False
    assert sus["result"]["delta"] == pytest.approx(np.mean(after) - np.mean(before))
    assert "no one is known to have answered both waves" in sus["note"]
    assert (sus["result"]["n_a"], sus["result"]["n_b"]) == (60, 60)


def test_an_unknown_wave_is_one_line_naming_the_waves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _waves(tmp_path, 10, tokens=True)
    capsys.readouterr()
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    cmd = [
        "survey",
        "waves",
        "--experiment",
        EXPERIMENT,
        "--store",
        url,
        "--before",
        "spring",
        "--after",
        "after",
    ]
    assert main(cmd) == 2
    err = capsys.readouterr().err
    assert "wave 'spring': no complete response (waves: before, after)" in err
