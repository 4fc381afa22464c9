"""Re-running evaluators on a run's stored records, to compare with the metrics it signed.

Only evaluators whose metrics are a function of what the run stores (its records, its spec and
its pilot's facts) are re-run; the others are listed with the reason, so a reader knows which
signed numbers were re-derived and which were only checked for integrity.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civiclab.evidence.rerun_inputs import StoredFacts, rerun_plan
from civiclab.plugins.sessionlog import RecordStream
from civiclab.records import Metric, SessionRecord
from civiclab.store.schema import INPUTS_FILE, SESSIONS_FILE

log = logging.getLogger(__name__)


@dataclass
class Rerun:
    metrics: list[Metric]
    rerun: list[str]
    skipped: dict[str, str]
    records: int = 0


def rerun_evaluators(folder: Path, sessions: list[dict[str, Any]] | None = None) -> Rerun:
    """Re-run the deterministic evaluators of the run stored in `folder` (its artifacts).

    Args:
        sessions: the lines of `sessions.jsonl` already parsed (and checked against the audit log), if any.

    Plots and other files they write go to a scratch folder, never into the run's artifacts.
    """
    from civiclab.plugins.evaluation import RunData
    from civiclab.plugins.registry import evaluators

    inputs = json.loads((folder / INPUTS_FILE).read_text(encoding="utf-8"))
    plan = rerun_plan([str(e["name"]) for e in inputs["evaluators"]])
    records: Collection[SessionRecord] = (
        [SessionRecord.model_construct(**d) for d in sessions]
        if sessions is not None
        else RecordStream(folder / SESSIONS_FILE)  # read in streaming passes, never all held
    )
    out: list[Metric] = []
    done: list[str] = []
    with tempfile.TemporaryDirectory(prefix="civiclab-rerun-") as scratch:
        # What evaluators read of the experiment is stored with the run: no data file of the spec is opened.
        run = RunData(
            experiment_name=str(inputs["experiment"]),
            k=int(inputs["k_anonymity"]),
            seed=int(inputs["seed"]),
            records=records,
            artifact_dir=Path(scratch),
            facts=StoredFacts.model_validate(inputs["facts"]) if inputs.get("facts") is not None else None,
        )
        for ref in inputs["evaluators"]:
            name = str(ref["name"])
            if plan.get(name) != "re-run":
                continue
            info = evaluators.get(name)
            params = info.params.model_validate(ref.get("params") or {})
            if "funnel_plot" in type(params).model_fields:
                params = params.model_copy(update={"funnel_plot": False})  # a plot is not a metric
            out.extend(info.fn(run, params))
            done.append(name)
    skipped = {k: v for k, v in plan.items() if v != "re-run"}
    return Rerun(metrics=out, rerun=done, skipped=skipped, records=len(records))
