"""The checks of `civiclab verify` on a signed run; each returns one row of the table.

Every check compares something a writer of the store or the artifacts could change against the
signed statement, or re-derives it; the first difference found is named.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from civiclab.errors import AuditError, SigningError
from civiclab.evidence.manifest import MANIFEST, sha256_file
from civiclab.evidence.signing.envelope import Envelope, verify_signature
from civiclab.evidence.signing.keys import b64url_decode, public_key_id
from civiclab.evidence.signing.statement import POST_SIGNING_TAGS, STATEMENT_FILE, subjects_of
from civiclab.evidence.signing.trust import TrustFile
from civiclab.evidence.verify.result import Check, failed, ok
from civiclab.store.schema import AUDIT_FILE, MANIFEST_SHA256_TAG, SPEC_SHA256_TAG, TAG_PREFIX
from civiclab.store.tracker import RunSummary, metric_rows

# Files written after signing, each verified by its own check (the audit log is checked link by link
# up to the signed root, because reviews extend it).
UNSIGNED_FILES = frozenset({STATEMENT_FILE, MANIFEST, AUDIT_FILE})


def embedded_key(statement: dict[str, Any]) -> dict[str, bytes]:
    """The signer's public key the statement carries (proves nothing about trust by itself)."""
    signer = (statement.get("predicate") or {}).get("signer") or {}
    try:
        raw = b64url_decode(str(signer.get("public_key", "")))
    except ValueError:
        return {}
    return {public_key_id(raw): raw} if len(raw) == 32 else {}


def check_signature(
    envelope: Envelope, run_id: str, trust: TrustFile | None
) -> tuple[Check, str | None, bool | None]:
    """The DSSE signature, the run it is for, and whether its signer is a trusted lab.

    Returns:
        (row, signer label, trusted): trusted is None when no trust file was given.
    """
    name = "signature"
    try:
        statement = envelope.statement()
    except SigningError as exc:
        return failed(name, str(exc)), None, None
    if (statement.get("predicate") or {}).get("run_id") != run_id:
        other = (statement.get("predicate") or {}).get("run_id")
        return failed(name, f"{STATEMENT_FILE}: signed for run {other}, not {run_id}"), None, None
    if trust is not None:
        keyid = verify_signature(envelope, trust.lab_keys())
        if keyid is not None:
            lab = trust.lab(keyid)
            assert lab is not None
            return ok(name, f"signed by {lab.name} (key {keyid[:16]}…), trusted"), lab.name, True
    keyid = verify_signature(envelope, embedded_key(statement))
    if keyid is None:
        return failed(name, f"{STATEMENT_FILE}: no signature verifies (altered or forged)"), None, None
    label = f"key {keyid[:16]}…"
    if trust is None:
        return (
            Check(
                name=name,
                status="warning",
                detail=f"valid signature by {label}; signer not checked: no trust file",
            ),
            label,
            None,
        )
    return (
        failed(name, f"signed by {label}, which the trust file does not list as a lab: untrusted"),
        label,
        False,
    )


def check_artifacts(folder: Path, statement: dict[str, Any], digests: dict[str, str]) -> Check:
    """Every signed file present with its signed digest, and no file the statement does not list.

    Args:
        digests: sha256 of every file of the folder (computed once, shared with the manifest check).
    """
    name = "artifacts"
    subjects = subjects_of(statement)
    for file, digest in sorted(subjects.items()):
        if file in UNSIGNED_FILES:
            continue
        if file not in digests:
            return failed(name, f"{file}: signed but missing")
        if digests[file] != digest:
            return failed(name, f"{file}: sha256 differs from the signed statement")
    extra = sorted(set(digests) - set(subjects) - UNSIGNED_FILES)
    if extra:
        return failed(name, f"{extra[0]}: not in the signed statement")
    return ok(name, f"{len(subjects)} files match the signed statement")


def check_manifest(
    manifest_path: Path,
    tags: dict[str, str],
    digests: dict[str, str],
    audit_root: str | None,
    audit_events: int,
) -> tuple[Check, Any]:
    """The manifest (which lists reviews and the anchor record) against its tag, audit log and files."""
    from civiclab.evidence.manifest import Manifest

    name = "manifest"
    try:
        from civiclab.store.files import read_artifact

        manifest = Manifest.model_validate_json(read_artifact(manifest_path.parent, manifest_path.name))
    except (OSError, ValueError) as exc:
        return failed(name, f"{MANIFEST}: missing or unreadable: {str(exc).splitlines()[0]}"), None
    if manifest.digest() != tags.get(MANIFEST_SHA256_TAG):
        return failed(
            name, f"{MANIFEST}: content does not match the digest recorded in the run's tags"
        ), manifest
    if tags.get(SPEC_SHA256_TAG) != manifest.spec_digest:
        return failed(name, "spec digest in the manifest does not match the run's tag"), manifest
    if audit_root is not None and (manifest.audit_root, manifest.audit_events) != (audit_root, audit_events):
        return failed(name, f"{MANIFEST}: audit root or event count differs from audit.jsonl"), manifest
    listed = {k: v for k, v in digests.items() if k != MANIFEST}
    for file, digest in sorted(manifest.artifacts.items()):
        if listed.get(file) != digest:
            return failed(name, f"{file}: missing or differs from the manifest"), manifest
    extra = sorted(set(listed) - set(manifest.artifacts))
    if extra:
        return failed(name, f"{extra[0]}: not listed in the manifest"), manifest
    return ok(name, "matches its tag, the audit log and the files"), manifest


def file_digests(folder: Path) -> dict[str, str]:
    """sha256 of every regular file of the folder; links and special files are never read."""
    from civiclab.store.files import regular_files

    return {str(p.relative_to(folder)): sha256_file(p) for p in regular_files(folder)}


def check_planted(folder: Path) -> Check:
    """No symbolic link, FIFO, device or socket among the run's artifacts (civiclab writes none)."""
    from civiclab.store.files import unsafe_entries

    planted = unsafe_entries(folder)
    if planted:
        more = f" (and {len(planted) - 1} more)" if len(planted) > 1 else ""
        return failed(
            "artifacts", f"{planted[0]}: a symbolic link or special file, not a regular artifact{more}"
        )
    return ok("artifacts", "regular files only")


def same_number(a: float, b: Any) -> bool:
    """A value as stored or re-computed, and as signed (non-finite values are signed as text)."""
    if isinstance(b, str):  # non-finite values are signed as text
        return repr(float(a)) == b
    return a == b or math.isclose(a, float(b), rel_tol=1e-12, abs_tol=0.0)


def check_metrics(stored: dict[str, float], statement: dict[str, Any]) -> Check:
    name = "store: metrics"
    signed: dict[str, Any] = (statement.get("predicate") or {}).get("metrics") or {}
    for key, value in sorted(signed.items()):
        if key not in stored:
            return failed(name, f"{key}: signed but missing from the tracking store (deleted?)")
        if not same_number(stored[key], value):
            return failed(name, f"{key}: store has {stored[key]!r}, the signed value is {value!r}")
    extra = sorted(set(stored) - set(signed))
    if extra:
        return failed(name, f"{extra[0]}: in the tracking store but not in the signed statement")
    return ok(name, f"{len(signed)} values match")


MLFLOW_RUN_NAME_TAG = "mlflow.runName"  # MLflow keeps the run's name in this tag too


def signed_tracking_experiment(predicate: dict[str, Any]) -> str:
    """The MLflow experiment the statement files the run under.

    Statements signed before it was a field of its own give it through the spec as run (its signed
    params): `tracking.experiment` when the spec set one, else the experiment's name.
    """
    if "tracking_experiment" in predicate:
        return str(predicate["tracking_experiment"])
    chosen = str((predicate.get("params") or {}).get("tracking.experiment", ""))
    return chosen if chosen not in ("", "None") else str(predicate.get("experiment", ""))


def check_store_run(run: RunSummary, statement: dict[str, Any]) -> Check:
    """The experiment the store files the run under, and its name, are the signed ones."""
    name = "store: run"
    predicate = statement.get("predicate") or {}
    experiment = signed_tracking_experiment(predicate)
    if run.experiment != experiment:
        return failed(
            name,
            f"experiment: the store files the run under {run.experiment!r}, the signed one is {experiment!r}",
        )
    if "run_name" not in predicate:
        return ok(name, f"experiment {experiment!r} matches (this run's statement does not sign its name)")
    signed = str(predicate["run_name"])
    for where, stored in (
        ("run name", run.run_name),
        (MLFLOW_RUN_NAME_TAG, run.tags.get(MLFLOW_RUN_NAME_TAG)),
    ):
        if stored is not None and stored != signed:
            return failed(name, f"{where}: store has {stored!r}, the signed name is {signed!r}")
    return ok(name, f"experiment {experiment!r} and run name {signed!r} match")


def check_params(stored: dict[str, str], statement: dict[str, Any]) -> Check:
    name = "store: params"
    signed: dict[str, str] = (statement.get("predicate") or {}).get("params") or {}
    for key, value in sorted(signed.items()):
        if stored.get(key) != value:
            return failed(name, f"{key}: store has {stored.get(key)!r}, the signed value is {value!r}")
    extra = sorted(set(stored) - set(signed))
    if extra:
        return failed(name, f"{extra[0]}: in the tracking store but not in the signed statement")
    return ok(name, f"{len(signed)} params match")


def check_tags(stored: dict[str, str], statement: dict[str, Any], derived: dict[str, str]) -> Check:
    """Signed tags must be unchanged; tags set after signing must equal what verify derives."""
    name = "store: tags"
    signed: dict[str, str] = (statement.get("predicate") or {}).get("tags") or {}
    for key, value in sorted(signed.items()):
        if stored.get(key) != value:
            return failed(name, f"{key}: store has {stored.get(key)!r}, the signed value is {value!r}")
    for key, value in sorted(derived.items()):
        if stored.get(key) != value:
            return failed(name, f"{key}: store has {stored.get(key)!r}, the run's files give {value!r}")
    unknown = sorted(
        k for k in stored if k.startswith(TAG_PREFIX) and k not in signed and k not in POST_SIGNING_TAGS
    )
    if unknown:
        return failed(name, f"{unknown[0]}: set after the run was signed")
    return ok(name, f"{len(signed)} signed tags match, {len(derived)} derived tags match")


def check_rerun(
    folder: Path, statement: dict[str, Any], sessions: list[dict[str, Any]] | None = None
) -> Check:
    """Re-run the deterministic evaluators on the stored records; their metrics must be the signed ones."""
    from civiclab.evidence.verify.rerun import rerun_evaluators

    name = "evaluators re-run"
    try:
        result = rerun_evaluators(folder, sessions)
    except (OSError, ValueError, KeyError, AuditError) as exc:
        return failed(name, f"cannot re-run on the stored records: {type(exc).__name__}: {exc}")
    predicate = statement.get("predicate") or {}
    expected = int((predicate.get("audit") or {}).get("sessions", -1))
    if result.records != expected:  # never an "equal" over fewer records than the run signed
        return failed(name, f"re-run read {result.records} records, the run signed {expected} sessions")
    signed: dict[str, Any] = predicate.get("metrics") or {}
    rows = metric_rows(result.metrics)
    for key, value in sorted(rows.items()):
        if key not in signed:
            return failed(name, f"{key}: re-computed from the records but not signed")
        if not same_number(value, signed[key]):
            return failed(name, f"{key}: the records give {value!r}, the signed value is {signed[key]!r}")
    skipped = "; ".join(f"{k}: {v}" for k, v in sorted(result.skipped.items()))
    detail = f"{', '.join(result.rerun) or 'none'} re-run, {len(rows)} values equal"
    if skipped:
        detail += f"; not re-run: {skipped}"
    return ok(name, detail)
