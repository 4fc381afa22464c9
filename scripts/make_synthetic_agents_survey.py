"""Generate SYNTHETIC answers of agents (mediators, helpline advisers) to the agents' survey, two waves.

No real person answered these. Eighteen agents answer before the pilot opens and again after it has run
(linked across waves by a LimeSurvey participant `token`); after the pilot their workload (NASA-TLX
marks, 0-20) is drawn higher and their sense of burden heavier, so the demo's before/after comparison
has something to show. Deterministic: the same seed gives the same bytes.

    .venv/bin/python scripts/make_synthetic_agents_survey.py

Writes experiments/data/survey/journey_agents/before.csv and after.csv.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "experiments" / "data" / "survey" / "journey_agents"
AGENTS = 18
TLX = ("MD", "PD", "TD", "OP", "EF", "FR")
WORK = ("B1", "B2", "B3", "S1", "S2", "S3")
# Mean TLX mark per subscale before and after (0-20): temporal demand and frustration grow most.
TLX_MEANS = {"before": (9, 4, 8, 6, 9, 6), "after": (11, 5, 13, 8, 12, 10)}
WORK_MEANS = {"before": (2.6, 2.4, 2.5, 3.4, 3.0, 3.2), "after": (3.7, 3.9, 3.4, 2.9, 2.4, 2.6)}
DATES = {"before": "2026-01-02", "after": "2026-03-30"}


def wave(name: str, rng: np.random.Generator, person: np.ndarray) -> str:
    header = ["id", "submitdate", "lastpage", "startlanguage", "startdate", "token"]
    header += [f"TLX[{c}]" for c in TLX] + [f"AGW[{c}]" for c in (*WORK, "C1")] + ["datasource"]
    rows = []
    for i in range(AGENTS):
        marks = np.clip(np.rint(np.array(TLX_MEANS[name]) + person[i] * 2 + rng.normal(0, 2, 6)), 0, 20)
        work = np.clip(np.rint(np.array(WORK_MEANS[name]) + rng.normal(0, 0.7, 6)), 1, 5)
        stamp = f"{DATES[name]} {9 + i % 8:02d}:{(7 * i) % 60:02d}:00"
        rows.append(
            [str(i + 1), stamp, "2", "fr", stamp, f"agent-{i + 1:02d}"]
            + [str(int(v)) for v in marks]
            + [str(int(v)) for v in work]
            + ["", "SYNTHETIC agents' answers (scripts/make_synthetic_agents_survey.py)"]
        )
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


def main() -> None:
    rng = np.random.default_rng(2026)
    person = rng.normal(0, 1, AGENTS)  # each agent's own level, the same in both waves
    OUT.mkdir(parents=True, exist_ok=True)
    for name in ("before", "after"):
        (OUT / f"{name}.csv").write_text(wave(name, rng, person), encoding="utf-8")


if __name__ == "__main__":
    main()
