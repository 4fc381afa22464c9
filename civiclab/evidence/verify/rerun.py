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
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict

from civiclab.plugins.piloting import PilotFacts
from civiclab.plugins.sessionlog import RecordStream
from civiclab.records import Metric, SessionRecord
from civiclab.store.schema import INPUTS_FILE, SESSIONS_FILE

if TYPE_CHECKING:
    from civiclab.plugins.experiment import Experiment

log = logging.getLogger(__name__)

# Evaluators whose metrics depend only on stored records, spec and facts (bootstraps are seeded).
DETERMINISTIC: frozenset[str] = frozenset({"human_centered", "attestation"})
NOT_RERUN: dict[str, str] = {
    "energy": "measures the energy of the run's own machine and process; it cannot be measured again",
    "auditability": "reads the audit chain as it was before reviews and the session replay of the run; "
    "verify checks the audit log itself",
    "acceptability": "reads survey responses outside the run (their digests are in the spec digest)",
    "assistant": "runs retrieval with the embedding model and the knowledge base outside the run",
    "assistant_audit": "scans the assistant's knowledge base and labelled redaction set outside the run",
    "attestation_privacy": "reads on-chain blobs of the run's chain, which ended with it",
}


class StoredFacts(PilotFacts):
    """A pilot's facts as the run stored them: evaluators read them through their own views."""

    model_config = ConfigDict(extra="allow", frozen=True)


def rerun_plan(names: list[str]) -> dict[str, str]:
    """For each evaluator of a run: 're-run' or why it is not."""
    return {
        name: "re-run"
        if name in DETERMINISTIC
        else NOT_RERUN.get(name, "not declared deterministic (a third-party evaluator)")
        for name in names
    }


def write_inputs(folder: Path, experiment: Experiment, facts: PilotFacts | None) -> Path:
    """Store what a re-run needs besides the records: what evaluators read of the spec, and the facts."""
    spec = experiment.spec
    data = {
        "experiment": spec.name,
        "k_anonymity": spec.privacy.k_anonymity,
        "seed": spec.population.seed,
        "evaluators": [
            {"name": ev.info.name, "params": ev.params.model_dump(mode="json")}
            for ev in experiment.evaluators
        ],
        # Fields a pilot excludes (personal values) are not dumped, so never stored.
        "facts": _plain(facts.model_dump()) if facts is not None else None,
    }
    path = folder / INPUTS_FILE
    path.write_text(json.dumps(data, default=str, sort_keys=True), encoding="utf-8")
    return path


def _plain(value: Any) -> Any:
    """Facts as JSON: bytes (on-chain blobs, roots) as 0x-hex, keys as text, anything else as str."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {(k.hex() if isinstance(k, bytes) else str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


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
