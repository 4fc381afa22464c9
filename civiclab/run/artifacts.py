"""What a finished run leaves: metrics.json, the scorecard files, the spec, the manifest and its tags.

The manifest is written last, over every file of the artifact folder, so `civiclab verify` can
name any file changed afterwards; the tags point at the manifest and the audit root.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from civiclab.evidence.audit import AuditSummary
from civiclab.evidence.manifest import DigestCache, Manifest, artifact_digests, write_manifest
from civiclab.plugins.experiment import Experiment
from civiclab.privacy.credentials import strip_credentials
from civiclab.records import EnergyReading, Metric
from civiclab.scoring.scorecard import Scorecard
from civiclab.scoring.scorecard_text import to_markdown
from civiclab.store.tracker import Tracker

log = logging.getLogger(__name__)


def write_results(folder: Path, experiment: Experiment, metrics: list[Metric], card: Scorecard) -> None:
    """metrics.json, scorecard.json, scorecard.md and a byte-for-byte copy of the spec."""
    (folder / "metrics.json").write_text(json.dumps([m.model_dump(mode="json") for m in metrics], indent=1))
    (folder / "scorecard.json").write_text(card.model_dump_json(indent=2))
    (folder / "scorecard.md").write_text(to_markdown(card), encoding="utf-8")
    (folder / "spec.yaml").write_text(  # the spec as written, minus passwords in URLs
        strip_credentials(experiment.path.read_text(encoding="utf-8")), encoding="utf-8"
    )


def final_tags(card: Scorecard, energy: EnergyReading, sessions: int) -> dict[str, str]:
    """The tags a finished run ends with (signed in its statement, then set in the store)."""
    return {
        "civiclab.recommendation": card.recommendation,
        "civiclab.energy_method": energy.method,
        "civiclab.energy_source": energy.source,
        "civiclab.status": "finished",
        "civiclab.sessions": str(sessions),
    }


def anchor_statement(experiment: Experiment, statement_sha256: str, run_id: str) -> dict[str, Any] | None:
    """Anchor the signed statement's digest when the spec asks for it (None otherwise).

    The statement covers the audit root, every artifact and every metric: anchoring it, rather than
    the root alone, leaves nothing a later rewrite could change unseen.
    """
    if not experiment.spec.audit.anchor:
        return None
    from civiclab.evidence.anchoring import anchor_statement as anchor

    record = anchor(experiment.spec.audit.anchor, statement_sha256, run_id, experiment)
    log.info("signed statement anchored: %s", record.get("tx_hash"))
    return record


def write_run_manifest(
    folder: Path,
    experiment: Experiment,
    run_id: str,
    audit: AuditSummary,
    anchor: dict[str, Any] | None,
    digests: DigestCache | None = None,
) -> str:
    """The manifest over every artifact now in `folder`; returns its sha256.

    `digests` holds the files hashed for the run's statement: those unchanged are not read again.
    """
    manifest = Manifest(
        run_id=run_id,
        experiment=experiment.spec.name,
        spec_digest=experiment.digest,
        audit_root=audit.root,
        audit_events=audit.events,
        artifacts=artifact_digests(folder, digests),
        data_files=experiment.data_files,
        anchor=anchor,
    )
    return write_manifest(folder, manifest)


def store_results(
    tracker: Tracker,
    run_id: str,
    *,
    metrics: list[Metric],
    card: Scorecard,
    audit: AuditSummary,
    energy: EnergyReading,
    manifest_sha: str,
    sessions: int,
    anchor: dict[str, Any] | None,
    staging: Path | None,
    signed: dict[str, str] | None = None,
) -> None:
    """Metrics in batches, the tags that point at the evidence, and staged artifacts for a remote store.

    `signed` are the tags naming the signed statement and its signer.
    """
    tracker.log_metrics(run_id, metrics)
    tracker.set_tags(
        run_id,
        {
            "civiclab.audit_root": audit.root,
            "civiclab.manifest_sha256": manifest_sha,
            **final_tags(card, energy, sessions),
            **(signed or {}),
            **({"civiclab.anchor_tx": str(anchor.get("tx_hash"))} if anchor else {}),
        },
    )
    if staging is not None:
        tracker.log_artifacts(run_id, staging)
