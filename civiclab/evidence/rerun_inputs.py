"""What a run stores so that `civiclab verify` can re-run its evaluators: the inputs and the plan.

Written when a run is sealed (`write_inputs`), named in its signed statement (`rerun_plan`), and read
by `civiclab.evidence.verify.rerun`; it sits below both signing and verification.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict

from civiclab.plugins.piloting import PilotFacts
from civiclab.store.schema import INPUTS_FILE

if TYPE_CHECKING:
    from civiclab.plugins.experiment import Experiment

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
