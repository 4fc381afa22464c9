"""Per-unit values an evaluator keeps beside its metrics, so runs that share units can be paired.

When two runs ask the same questions (the same bank, personas and seed), their metrics rest on the same
units of replication; `civiclab compare` then tests the difference unit by unit (a paired test over the
shared questions) instead of treating the runs as independent samples. An evaluator records, for each
overall metric, each unit's sum and count (`record_unit_values`); the file is an artifact of the run,
`units/<evaluator>.json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from civiclab.plugins.evaluation import RunData

UNIT_VALUES_DIR = "units"
"""The artifact folder of per-unit values (one JSON file per evaluator)."""

UnitTotals = dict[str, dict[str, tuple[float, int]]]
"""metric name -> unit id -> (sum of the values, observations)."""


def record_unit_values(run: RunData, evaluator: str, unit: str, totals: UnitTotals) -> Path:
    """Write `units/<evaluator>.json` under the run's artifacts and declare it."""
    path = run.artifact_dir / UNIT_VALUES_DIR / f"{evaluator}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "unit": unit,
        "metrics": {m: {u: list(v) for u, v in sorted(t.items())} for m, t in totals.items()},
    }
    path.write_text(json.dumps(body, sort_keys=True, indent=0), encoding="utf-8")
    run.add_artifact(path)
    return path


def parse_unit_values(raw: bytes) -> tuple[str, dict[str, dict[str, tuple[float, int]]]]:
    """(unit, metric -> unit id -> (sum, count)) from the bytes of one `units/*.json`.

    Raises:
        ValueError: not such a file.
    """
    try:
        body = json.loads(raw)
        metrics = {
            str(m): {str(u): (float(v[0]), int(v[1])) for u, v in per_unit.items()}
            for m, per_unit in body["metrics"].items()
        }
        return str(body["unit"]), metrics
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ValueError(f"not a file of per-unit values: {exc}") from None
