"""Sealing a finished run: its signed statement, written as an artifact, its digest as a tag."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civiclab.evidence.rerun_inputs import rerun_plan
from civiclab.evidence.signing.envelope import Envelope, sign_statement
from civiclab.evidence.signing.keys import Signer, ensure_demo_key, load_signer
from civiclab.evidence.signing.statement import STATEMENT_FILE, build_run_statement, now_utc
from civiclab.home import lab_home
from civiclab.records import Metric

log = logging.getLogger(__name__)


def run_signer(name: str | None = None, *, create_demo: bool = True) -> Signer:
    """The key a run is signed with, loaded before the run starts so a bad passphrase fails early.

    When no key exists at all, a local demo key is created (and said so, once): a run is always
    signed, and the committee decides in its trust file whether that key counts.
    """
    if name is None and create_demo:
        created_name, created = ensure_demo_key()
        if created:
            print(
                f"civiclab: created a local demo signing key {created_name!r} in {lab_home() / 'keys'}; "
                f"no committee trusts it until its public key is in their trust file "
                f"(civiclab keys export {created_name})",
                file=sys.stderr,
            )
    return load_signer(name)


@dataclass(frozen=True)
class Seal:
    envelope: Envelope
    digest: str
    path: Path
    seconds: float


def seal_run(
    folder: Path,
    *,
    signer: Signer,
    run_id: str,
    experiment: Any,
    tracking_experiment: str,
    run_name: str,
    artifacts: dict[str, str],
    metrics: list[Metric],
    params: dict[str, str],
    tags: dict[str, str],
    audit_root: str,
    audit_events: int,
    sessions: int,
    scorecard: Any,
    energy_method: str,
    started: str,
) -> Seal:
    """Sign the run's statement and write it as `statement.dsse.json` in its artifacts."""
    t0 = time.perf_counter()
    statement = build_run_statement(
        run_id=run_id,
        experiment=experiment.spec.name,
        tracking_experiment=tracking_experiment,
        run_name=run_name,
        spec_digest=experiment.digest,
        artifacts=artifacts,
        metrics=metrics,
        params=params,
        tags=tags,
        audit_root=audit_root,
        audit_events=audit_events,
        sessions=sessions,
        scorecard=scorecard,
        energy_method=energy_method,
        started=started,
        ended=now_utc(),
        signer_keyid=signer.keyid,
        signer_public_key=signer.public_key,
        deterministic=rerun_plan([ev.info.name for ev in experiment.evaluators]),
    )
    envelope = sign_statement(statement, signer)
    path = folder / STATEMENT_FILE
    path.write_text(envelope.to_json(), encoding="utf-8")
    log.info("run %s signed by %s (statement %s)", run_id, signer.name, envelope.digest()[:16])
    return Seal(envelope=envelope, digest=envelope.digest(), path=path, seconds=time.perf_counter() - t0)
