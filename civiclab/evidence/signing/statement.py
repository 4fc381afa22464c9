"""The run statement: an in-toto Statement v1 over everything a committee reads of a run.

Subjects are every artifact with its sha256; the predicate holds what is stored outside the
artifacts (every metric value and interval bound as logged, every param, every civiclab tag set
before signing) and what the scorecard concluded, so that `civiclab verify` can compare the
tracking store and the files against one signed claim.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from civiclab.evidence.signing.keys import b64url
from civiclab.records import Metric
from civiclab.store.schema import (
    EVIDENCE_TAGS,
    LIBRARY_TAG_PREFIX,
    PYTHON_TAG,
    STATEMENT_FILE,
    TAG_PREFIX,
    VERSION_TAG,
)
from civiclab.store.tracker import metric_rows

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://civiclab.eu/attestations/run/v1"
REVIEW_PREDICATE_TYPE = "https://civiclab.eu/attestations/review/v1"
PREDICATE_VERSION = 1

# Tags that change after the run is signed (reviews move the root; the statement and manifest
# digests cannot be inside what they digest). `verify` derives each of them instead.
POST_SIGNING_TAGS = frozenset(EVIDENCE_TAGS)


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json_number(value: float) -> float | str:
    # RFC 8785 has no NaN or infinity; the store can hold them, so they are signed as text.
    return value if math.isfinite(value) else repr(value)


def signed_tags(tags: dict[str, str]) -> dict[str, str]:
    """The civiclab tags that are final when the run is signed."""
    return {k: v for k, v in sorted(tags.items()) if k.startswith(TAG_PREFIX) and k not in POST_SIGNING_TAGS}


def build_run_statement(
    *,
    run_id: str,
    experiment: str,
    tracking_experiment: str,
    run_name: str,
    spec_digest: str,
    artifacts: dict[str, str],
    metrics: Iterable[Metric],
    params: dict[str, str],
    tags: dict[str, str],
    audit_root: str,
    audit_events: int,
    sessions: int,
    scorecard: Any,
    energy_method: str,
    started: str,
    ended: str,
    signer_keyid: str,
    signer_public_key: bytes,
    deterministic: dict[str, str],
) -> dict[str, Any]:
    """The in-toto Statement v1 of a finished run (a plain JSON value, ready to canonicalise).

    Args:
        experiment: the experiment's name in its spec.
        tracking_experiment: the MLflow experiment the run is filed under (the spec's
            `tracking.experiment`, else its name); with `run_name`, what `verify` compares with the
            store, so a run moved or renamed there is seen.
    """
    rows = metric_rows(metrics)
    card = scorecard
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": name, "digest": {"sha256": digest}} for name, digest in sorted(artifacts.items())
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "version": PREDICATE_VERSION,
            "run_id": run_id,
            "experiment": experiment,
            "tracking_experiment": tracking_experiment,
            "run_name": run_name,
            "spec_sha256": spec_digest,
            "started": started,
            "ended": ended,
            "metrics": {k: _json_number(v) for k, v in sorted(rows.items())},
            "params": dict(sorted(params.items())),
            "tags": signed_tags(tags),
            "audit": {"root": audit_root, "events": audit_events, "sessions": sessions},
            "scorecard": {
                "recommendation": card.recommendation,
                "criteria": [
                    {"label": c.label, "metric": c.metric, "segment": c.segment, "verdict": c.verdict}
                    for c in card.criteria
                ],
                "dimensions": {d.dimension: d.verdict for d in card.dimensions},
            },
            "energy_method": energy_method,
            "versions": {
                k.removeprefix(LIBRARY_TAG_PREFIX): v
                for k, v in tags.items()
                if k.startswith(LIBRARY_TAG_PREFIX)
            }
            | {"civiclab": tags.get(VERSION_TAG, ""), "python": tags.get(PYTHON_TAG, "")},
            "evaluators": deterministic,
            "signer": {"keyid": signer_keyid, "public_key": b64url(signer_public_key)},
        },
    }


def build_review_statement(
    *,
    run_id: str,
    run_statement_sha256: str,
    decision: str,
    comment: str,
    ts: str,
    reviewer: str,
    signer_keyid: str,
    signer_public_key: bytes,
    conditions: list[str] | None = None,
    sequence: int | None = None,
    previous_review_sha256: str | None = None,
    acknowledges: list[str] | None = None,
) -> dict[str, Any]:
    """A committee decision as an in-toto Statement whose subject is the run's signed statement.

    `conditions` (what an approval or a revision requires, one item each) are signed as a field of
    their own, left out when there are none (so reviews signed before they existed read the same).
    `sequence` (the review's position, from 0) and `previous_review_sha256` (the digest of the review
    before it, None for the first) chain the reviews: dropping, reordering or replaying one breaks the
    chain. `acknowledges` lists conditions of earlier reviews this one accepts.
    """
    statement: dict[str, Any] = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": f"run:{run_id}/{STATEMENT_FILE}", "digest": {"sha256": run_statement_sha256}}],
        "predicateType": REVIEW_PREDICATE_TYPE,
        "predicate": {
            "version": PREDICATE_VERSION,
            "run_id": run_id,
            "decision": decision,
            "comment": comment,
            "ts": ts,
            "reviewer": reviewer,
            "signer": {"keyid": signer_keyid, "public_key": b64url(signer_public_key)},
        },
    }
    if conditions:
        statement["predicate"]["conditions"] = list(conditions)
    if sequence is not None:
        statement["predicate"]["sequence"] = sequence
        statement["predicate"]["previous_review_sha256"] = previous_review_sha256
    if acknowledges:
        statement["predicate"]["acknowledges"] = list(acknowledges)
    return statement


def subjects_of(statement: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["digest"]["sha256"] for s in statement.get("subject", [])}


def statement_path(folder: Path) -> Path:
    return folder / STATEMENT_FILE
