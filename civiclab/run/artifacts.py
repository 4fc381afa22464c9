"""What a finished run leaves: metrics.json, the scorecard files, the spec, the signed statement, the
manifest and its tags.

The manifest is written last, over every file of the artifact folder, so `civiclab verify` can
name any file changed afterwards; the tags point at the manifest and the audit root.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from civiclab.evidence.audit import AuditSummary
from civiclab.evidence.manifest import DigestCache, Manifest, artifact_digests, write_manifest
from civiclab.evidence.rerun_inputs import write_inputs
from civiclab.plugins.experiment import Experiment
from civiclab.privacy.credentials import strip_credentials
from civiclab.privacy.spec_text import stored_spec_text
from civiclab.records import EnergyReading, Metric
from civiclab.run.recording import Recorded
from civiclab.scoring.scorecard import Scorecard
from civiclab.scoring.scorecard_text import to_markdown
from civiclab.store.schema import (
    ANCHOR_TX_TAG,
    AUDIT_ROOT_TAG,
    ENERGY_METHOD_TAG,
    ENERGY_SOURCE_TAG,
    FINISHED,
    MANIFEST_SHA256_TAG,
    METRICS_FILE,
    RECOMMENDATION_TAG,
    SCORECARD_FILE,
    SCORECARD_TEXT_FILE,
    SESSIONS_TAG,
    SIGNER_TAG,
    SPEC_COPY_FILE,
    STATEMENT_SHA256_TAG,
    SYNTHETIC_TAG,
)
from civiclab.store.status import status_tag
from civiclab.store.stored_run import StoredRun

if TYPE_CHECKING:
    from civiclab.evidence.signing.keys import Signer
    from civiclab.plugins.piloting import PilotFacts

log = logging.getLogger(__name__)

Figures = Callable[[Path, Scorecard, list[Metric]], None]
"""Draws a finished run's figures into its artifact folder, before it is signed (`civiclab run` passes
the report's plots: see `civiclab.reporting.stored_plots`)."""


def write_results(folder: Path, experiment: Experiment, metrics: list[Metric], card: Scorecard) -> None:
    """metrics.json, scorecard.json, scorecard.md and a byte-for-byte copy of the spec."""
    (folder / METRICS_FILE).write_text(json.dumps([m.model_dump(mode="json") for m in metrics], indent=1))
    (folder / SCORECARD_FILE).write_text(card.model_dump_json(indent=2))
    (folder / SCORECARD_TEXT_FILE).write_text(to_markdown(card), encoding="utf-8")
    (folder / SPEC_COPY_FILE).write_text(  # the spec as written, minus passwords in URLs and personal data
        stored_spec_text(strip_credentials(experiment.path.read_text(encoding="utf-8"))), encoding="utf-8"
    )


def final_tags(card: Scorecard, energy: EnergyReading, sessions: int) -> dict[str, str]:
    """The tags a finished run ends with (signed in its statement, then set in the store)."""
    return {
        RECOMMENDATION_TAG: card.recommendation,
        ENERGY_METHOD_TAG: energy.method,
        ENERGY_SOURCE_TAG: energy.source,
        **status_tag(FINISHED),
        SESSIONS_TAG: str(sessions),
        # Listings (the desk's runs page) mark generated evidence without opening scorecard.json.
        SYNTHETIC_TAG: ",".join(line.split(":", 1)[0] for line in card.synthetic),
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


def stored_tags(
    card: Scorecard,
    energy: EnergyReading,
    sessions: int,
    audit: AuditSummary,
    manifest_sha: str,
    anchor: dict[str, Any] | None,
    signed: dict[str, str],
) -> dict[str, str]:
    """The tags a finished run ends with in the store: the final ones, and those that point at the
    evidence (`signed`: the tags naming the signed statement and its signer)."""
    return {
        AUDIT_ROOT_TAG: audit.root,
        MANIFEST_SHA256_TAG: manifest_sha,
        **final_tags(card, energy, sessions),
        **signed,
        **({ANCHOR_TX_TAG: str(anchor.get("tx_hash"))} if anchor else {}),
    }


def seal_and_store(
    run: StoredRun,
    experiment: Experiment,
    *,
    signer: Signer,
    started: str,
    params: dict[str, str],
    tags: dict[str, str],
    metrics: list[Metric],
    card: Scorecard,
    recorded: Recorded,
    facts: PilotFacts | None,
    timings: dict[str, float],
    names: tuple[str, str],
    figures: Figures | None = None,
) -> None:
    """Write the results, sign the run's statement, anchor it if asked, write the manifest last, and
    store metrics, tags and (for a remote store) the files.

    Args:
        names: the MLflow experiment the run is filed under, and the run's name (both are signed).
        figures: draws figures into the run's folder, signed with the other files.
    """
    from civiclab.evidence.signing.seal import seal_run

    folder, audit, energy = run.folder, recorded.audit, recorded.energy
    write_results(folder, experiment, metrics, card)
    if figures is not None:
        t_figures = time.perf_counter()
        figures(folder, card, metrics)
        timings["figures_s"] = time.perf_counter() - t_figures
    t_sign = time.perf_counter()
    write_inputs(folder, experiment, facts)
    hashed: DigestCache = {}  # the statement's file digests, reused by the manifest
    seal = seal_run(
        folder,
        signer=signer,
        run_id=run.run_id,
        experiment=experiment,
        tracking_experiment=names[0],
        run_name=names[1],
        artifacts=artifact_digests(folder, hashed),
        metrics=metrics,
        params=params,
        tags={**tags, **final_tags(card, energy, recorded.sessions)},
        audit_root=audit.root,
        audit_events=audit.events,
        sessions=recorded.sessions,
        scorecard=card,
        energy_method=energy.method,
        started=started,
    )
    timings["signing_s"] = time.perf_counter() - t_sign  # inputs, digests, statement, signature
    anchor = anchor_statement(experiment, seal.digest, run.run_id)
    manifest_sha = write_run_manifest(folder, experiment, run.run_id, audit, anchor, hashed)
    signed = {STATEMENT_SHA256_TAG: seal.digest, SIGNER_TAG: signer.keyid}
    run.store_results(
        metrics, stored_tags(card, energy, recorded.sessions, audit, manifest_sha, anchor, signed)
    )
