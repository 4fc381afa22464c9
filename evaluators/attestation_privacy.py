"""Attestation privacy: no personal value of any document on chain or in any logged artifact."""

from __future__ import annotations

import json
from collections import Counter

from pydantic import BaseModel

from civiclab import Metric, PersonalValueProbe, RunData, evaluator

DIM = "privacy"
REPORT = "attestation/privacy_scan.json"


class ProbeFacts(BaseModel):
    """What this evaluator reads of a pilot's facts: the values to look for and the chain's bytes."""

    personal_values: list[str] = []
    onchain_blobs: list[tuple[str, bytes]] = []
    onchain_storage: dict[bytes, bytes] | None = None
    onchain_storage_method: str = "unknown"


@evaluator(
    "attestation_privacy",
    dimension=DIM,
    metrics={
        "privacy.personal_values_on_chain": "personal values found in tx inputs, event logs and storage (must be 0)",
        "privacy.personal_values_in_artifacts": "personal values found in the run's logged files (must be 0)",
        "privacy.onchain_bytes_scanned": "bytes of the chain scanned",
        "privacy.values_probed": "distinct personal values looked for",
    },
)
def attestation_privacy(run: RunData, params: object) -> list[Metric]:
    """Scan every on-chain byte and every artifact written so far for the documents' personal values.

    Run it last in the experiment's evaluator list, so that the artifacts of the others are scanned too.
    """
    facts = run.facts_as(ProbeFacts) or ProbeFacts()
    probe = PersonalValueProbe(facts.personal_values)
    if len(probe) == 0:
        why = "the pilot gave no personal values to look for: a scan for nothing proves nothing"
        return [Metric(name=f"{DIM}.{m}", value=None, dimension=DIM, error=why)
                for m in ("personal_values_on_chain", "personal_values_in_artifacts")]  # fmt: skip
    chain_hits: Counter[str] = Counter()
    scanned = 0
    for where, blob in facts.onchain_blobs:
        scanned += len(blob)
        for hit in probe.scan_bytes(blob, where):
            chain_hits[hit.where] += 1
    storage = facts.onchain_storage
    method = facts.onchain_storage_method
    if storage is not None:
        for key, value in storage.items():
            scanned += len(key) + len(value)
            for hit in probe.scan_bytes(key + value, f"storage slot 0x{key.hex()}"):
                chain_hits[hit.where] += 1
    file_hits: Counter[str] = Counter()
    files = sorted(p for p in run.artifact_dir.rglob("*") if p.is_file())
    for path in files:
        rel = str(path.relative_to(run.artifact_dir))
        for hit in probe.scan_file(path, rel):
            file_hits[hit.where] += 1
    report = run.artifact_dir / REPORT
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        json.dumps(
            {
                "values_probed": len(probe),
                "onchain_bytes_scanned": scanned,
                "storage": method,
                "files_scanned": [str(p.relative_to(run.artifact_dir)) for p in files],
                "hits_on_chain": dict(chain_hits),
                "hits_in_files": dict(file_hits),
                "note": "places only: the values themselves are never written",
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    run.add_artifact(report)
    storage_note = f"storage read via {method}" if storage is not None else f"storage NOT scanned: {method}"
    return [
        Metric(name=f"{DIM}.personal_values_on_chain", value=float(sum(chain_hits.values())), unit="values",
               dimension=DIM, higher_is_better=False, n=len(probe),
               note=f"{scanned} bytes: tx inputs, event logs; {storage_note}"),
        Metric(name=f"{DIM}.personal_values_in_artifacts", value=float(sum(file_hits.values())), unit="values",
               dimension=DIM, higher_is_better=False, n=len(probe), note=f"{len(files)} files scanned"),
        Metric(name=f"{DIM}.onchain_bytes_scanned", value=float(scanned), unit="bytes", dimension=DIM),
        Metric(name=f"{DIM}.values_probed", value=float(len(probe)), unit="values", dimension=DIM),
    ]  # fmt: skip
