"""Auditability: the audit log is complete and valid, every session opened and closed, provenance, replay."""

from __future__ import annotations

from civiclab import AuditError, Metric, RunData, evaluator, verify_audit_log
from civiclab.store.schema import (
    AUDIT_FILE,
    GIT_SHA_TAG,
    LIBRARY_TAG_PREFIX,
    PYTHON_TAG,
    RECORDED_LIBRARIES,
    SPEC_SHA256_TAG,
    VERSION_TAG,
)

DIM = "auditability"
REQUIRED_TAGS = (SPEC_SHA256_TAG, GIT_SHA_TAG, VERSION_TAG, PYTHON_TAG) + tuple(
    LIBRARY_TAG_PREFIX + lib for lib in RECORDED_LIBRARIES
)


@evaluator(
    "auditability",
    dimension=DIM,
    metrics={
        "auditability.chain_valid": "1 when every line of audit.jsonl recomputes",
        "auditability.sessions_closed": "share of sessions opened and closed in the audit log",
        "auditability.provenance": "share of provenance tags present (spec digest, code, versions)",
        "auditability.reproducible": "1 when replayed sessions give identical records",
        "auditability.session_errors": "share of sessions whose pilot crashed",
    },
)
def auditability(run: RunData, params: object) -> list[Metric]:
    """Audit log validity, session coverage, provenance and reproducibility of the run."""
    out: list[Metric] = []
    n = len(run.records)
    path = run.artifact_dir / AUDIT_FILE
    try:
        # The watcher re-verified the file on another core while it was written, when there is one.
        summary = run.audit_check() if run.audit_check is not None else verify_audit_log(path)
        valid = 1.0 if run.audit is None or summary.root == run.audit.root else 0.0
        out.append(
            Metric(
                name=f"{DIM}.chain_valid",
                value=valid,
                unit="bool",
                dimension=DIM,
                higher_is_better=True,
                n=summary.events,
            )
        )
        covered = min(summary.opened, summary.closed) / n if n else None
        out.append(
            Metric(
                name=f"{DIM}.sessions_closed",
                value=covered,
                unit="share",
                dimension=DIM,
                higher_is_better=True,
                n=n,
            )
        )
    except (AuditError, OSError) as exc:
        out.append(
            Metric(
                name=f"{DIM}.chain_valid",
                value=0.0,
                unit="bool",
                dimension=DIM,
                higher_is_better=True,
                note=str(exc),
            )
        )
    present = [t for t in REQUIRED_TAGS if run.tags.get(t) not in (None, "", "unknown", "absent")]
    out.append(
        Metric(
            name=f"{DIM}.provenance",
            value=len(present) / len(REQUIRED_TAGS),
            unit="share",
            dimension=DIM,
            higher_is_better=True,
            n=len(REQUIRED_TAGS),
            note="missing: " + ", ".join(sorted(set(REQUIRED_TAGS) - set(present))) or None,
        )
    )
    if run.reproducible is None:
        out.append(
            Metric(
                name=f"{DIM}.reproducible",
                value=None,
                dimension=DIM,
                error="this pilot's sessions have side effects and are not replayed",
            )
        )
    else:
        out.append(
            Metric(
                name=f"{DIM}.reproducible",
                value=float(run.reproducible),
                unit="bool",
                dimension=DIM,
                higher_is_better=True,
            )
        )
    crashed = run.rows(containing=b'"outcome":"failed"')  # only failed sessions are parsed
    errors = sum(r["outcome"] == "failed" and r.get("error") is not None for r in crashed)
    out.append(
        Metric(
            name=f"{DIM}.session_errors",
            value=errors / n if n else None,
            unit="share",
            dimension=DIM,
            higher_is_better=False,
            n=n,
        )
    )
    return out
