"""Anchoring each committee review where its run was anchored, so that dropping one is seen on chain.

A review cut from the end of a run's sequence leaves no trace in the run itself (whoever can write the
store can rewrite every copy). When the run was anchored on a node, each review's envelope digest is
anchored there too, under `civiclab:review:<run id>`; `civiclab verify` then reads every review the
trusted issuer anchored for the run and names one missing from its chain. A run anchored on the
in-process chain (a demonstration: it ends with the run) has nowhere to anchor its reviews.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run_anchor_config(folder: Path) -> dict[str, Any] | None:
    """Where the run was anchored (its manifest's record) when it is a node, else None.

    The key that sends the transaction is the one the run's spec names (`audit.anchor.key_env`), if any.
    """
    import yaml

    from civiclab.errors import AuditError
    from civiclab.evidence.manifest import read_manifest
    from civiclab.evm import IN_PROCESS
    from civiclab.store.files import read_artifact
    from civiclab.store.schema import SPEC_COPY_FILE

    record = read_manifest(folder).anchor
    if not record or record.get("ephemeral") or record.get("rpc_url") in (None, IN_PROCESS):
        return None
    config: dict[str, Any] = {"chain": record["rpc_url"], "contract": record.get("contract")}
    try:
        spec = yaml.safe_load(read_artifact(folder, SPEC_COPY_FILE)) or {}
        written = ((spec.get("audit") or {}).get("anchor") or {}) if isinstance(spec, dict) else {}
    except (OSError, AuditError, yaml.YAMLError, AttributeError):
        written = {}
    if isinstance(written, dict) and written.get("key_env"):
        config["key_env"] = written["key_env"]
    return config


def anchor_review(folder: Path, run_id: str, envelope_sha256: str) -> dict[str, Any] | None:
    """Anchor a review's digest where its run was anchored; None when the run is not anchored on a node.

    Raises:
        ChainError: the node cannot be reached or the transaction fails (the review is then not
            recorded: a review of an anchored run is always anchored).
    """
    from civiclab.evidence.anchoring import anchor_audit_root, review_anchor_uri

    config = run_anchor_config(folder)
    if config is None:
        return None
    record = anchor_audit_root(config, envelope_sha256, run_id, None, uri=review_anchor_uri(run_id))
    record["envelope_sha256"] = record.pop("audit_root")
    record.pop("calldata", None)
    return record
