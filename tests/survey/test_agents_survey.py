"""The agents' survey: NASA-TLX scored by hand, and the agents' answers before and after the pilot."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from civiclab.cli import main
from civiclab.spec.instruments import load_instrument
from civiclab.survey.responses import SurveyResponse
from civiclab.survey.scoring import construct_scores

AGENTS = Path(__file__).resolve().parents[2] / "experiments" / "data" / "survey" / "journey_agents"
SUBSCALES = ("MD", "PD", "TD", "OP", "EF", "FR")


def test_raw_tlx_is_the_mean_of_the_six_subscales_on_0_to_100() -> None:
    # Marks on the paper form (0-20, five points each): mental 14 (70), physical 2 (10), temporal 16
    # (80), performance 6 (30, where 0 is perfect), effort 12 (60), frustration 10 (50).
    # Raw TLX (Hart 2006) = (70 + 10 + 80 + 30 + 60 + 50) / 6 = 300 / 6 = 50.
    tlx = load_instrument("tlx")
    [raw] = tlx.constructs
    marks = dict(zip(SUBSCALES, (14, 2, 16, 6, 12, 10), strict=True))
    full = SurveyResponse(uid="a", complete=True, answers={f"TLX[{k}]": v for k, v in marks.items()})
    lowest = SurveyResponse(uid="b", complete=True, answers={f"TLX[{k}]": 0 for k in SUBSCALES})
    partial = SurveyResponse(uid="c", complete=True, answers={f"TLX[{k}]": 20 for k in SUBSCALES[:5]})
    scores = construct_scores(tlx, raw, [full, lowest, partial])
    assert scores[0] == pytest.approx(50.0)
    assert scores[1] == 0.0
    assert math.isnan(scores[2])  # a raw TLX needs all six subscales


def _by_hand(path: Path) -> float:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    return sum(sum(5 * int(r[f"TLX[{k}]"]) for k in SUBSCALES) / 6 for r in rows) / len(rows)


def test_agents_answers_are_compared_before_and_after_the_pilot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:///{tmp_path / 'survey.db'}"
    for wave in ("before", "after"):
        cmd = ["survey", "import", str(AGENTS / f"{wave}.csv"), "--experiment", "journey_agents"]
        assert main([*cmd, "--store", store, "--wave", wave]) == 0
    capsys.readouterr()
    cmd = ["survey", "waves", "--experiment", "journey_agents", "--store", store]
    assert main([*cmd, "--before", "before", "--after", "after", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    waves = {w: {m["name"]: m for m in ms} for w, ms in got["waves"].items()}
    before, after = _by_hand(AGENTS / "before.csv"), _by_hand(AGENTS / "after.csv")
    assert waves["before"]["acceptability.tlx.raw"]["value"] == pytest.approx(before)
    assert waves["after"]["acceptability.tlx.raw"]["value"] == pytest.approx(after)
    [tlx] = [c for c in got["comparison"] if c["metric"] == "acceptability.tlx.raw"]
    # The same 18 agents answered both waves (linked by their token, kept only as a keyed hash).
    assert tlx["pairs"] == 18 and tlx["result"]["paired"] is True
    assert tlx["result"]["delta"] == pytest.approx(after - before)
    assert tlx["result"]["delta_low"] > 0  # the synthetic agents' workload grew with the pilot
    assert "agent-01" not in json.dumps(got)
