"""The run manifest: digests of every artifact, the spec and the audit root; and their verification."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from civiclab.errors import AuditError
from civiclab.evidence.audit import AuditSummary, verify_audit_log
from civiclab.records import canonical_json
from civiclab.store.schema import (
    AUDIT_FILE,
    AUDIT_ROOT_TAG,
    MANIFEST_FILE,
    MANIFEST_SHA256_TAG,
    SPEC_SHA256_TAG,
)

MANIFEST = MANIFEST_FILE
MANIFEST_VERSION = 1


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = MANIFEST_VERSION
    run_id: str
    experiment: str
    spec_digest: str
    audit_root: str
    audit_events: int
    artifacts: dict[str, str] = Field(description="relative path -> sha256")
    data_files: dict[str, str] = Field(default_factory=dict)
    anchor: dict[str, Any] | None = None
    reviews: list[dict[str, Any]] = Field(default_factory=list)

    def digest(self) -> str:
        return hashlib.sha256(canonical_json(self.model_dump(mode="json")).encode()).hexdigest()


def sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


DigestCache = dict[str, tuple[int, int, str]]
"""relative path -> (size, mtime in ns, sha256) of files already hashed by this process."""


def artifact_digests(folder: Path, cache: DigestCache | None = None) -> dict[str, str]:
    """sha256 of every file under `folder` except the manifest itself.

    With a `cache` (one run's signing step, then its manifest), a file whose size and modification
    time are unchanged since this process hashed it is not read again: at a million sessions the
    audit log and the records are 13 GB.
    """
    out: dict[str, str] = {}
    from civiclab.store.files import regular_files

    for path in regular_files(folder):
        if path.name == MANIFEST:
            continue
        name, stat = str(path.relative_to(folder)), path.stat()
        known = cache.get(name) if cache is not None else None
        if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
            out[name] = known[2]
            continue
        out[name] = sha256_file(path)
        if cache is not None:
            cache[name] = (stat.st_size, stat.st_mtime_ns, out[name])
    return out


def write_manifest(folder: Path, manifest: Manifest) -> str:
    """Write the manifest atomically (a kill mid-write leaves the old one, never half a file)."""
    tmp = folder.parent / f".{MANIFEST}.{folder.name}.tmp"
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / MANIFEST)
    return manifest.digest()


def read_manifest(folder: Path) -> Manifest:
    from civiclab.store.files import read_artifact

    try:
        raw = read_artifact(folder, MANIFEST)
    except FileNotFoundError:
        raise AuditError(f"{MANIFEST}: missing from the run's artifacts") from None
    try:
        return Manifest.model_validate_json(raw)
    except Exception as exc:
        raise AuditError(f"{MANIFEST}: unreadable: {exc}") from None


def verify_folder(folder: Path, tags: dict[str, str]) -> tuple[Manifest, AuditSummary]:
    """Check a run's artifacts against its manifest and tags; raise naming the first mismatch."""
    from civiclab.store.files import unsafe_entries

    planted = unsafe_entries(folder)
    if planted:
        raise AuditError(f"{planted[0]}: a symbolic link or special file, not a regular artifact")
    manifest = read_manifest(folder)
    expected = tags.get(MANIFEST_SHA256_TAG)
    if expected is None:
        raise AuditError(
            "run has no civiclab.manifest_sha256 tag: it did not finish, or is not a civiclab run"
        )
    if manifest.digest() != expected:
        raise AuditError(f"{MANIFEST}: content does not match the digest recorded in the run's tags")
    if tags.get(SPEC_SHA256_TAG) != manifest.spec_digest:
        raise AuditError("spec digest in the manifest does not match the run's tag")
    audit = verify_audit_log(folder / AUDIT_FILE)
    if audit.root != manifest.audit_root:
        raise AuditError(
            f"audit.jsonl: root {audit.root[:12]}… does not match the manifest's {manifest.audit_root[:12]}…"
        )
    if tags.get(AUDIT_ROOT_TAG) != manifest.audit_root:
        raise AuditError("audit root in the run's tags does not match the manifest")
    actual = artifact_digests(folder)
    for name, digest in sorted(manifest.artifacts.items()):
        if name not in actual:
            raise AuditError(f"{name}: listed in the manifest but missing")
        if actual[name] != digest:
            raise AuditError(f"{name}: sha256 does not match the manifest")
    extra = sorted(set(actual) - set(manifest.artifacts))
    if extra:
        raise AuditError(f"{extra[0]}: not listed in the manifest")
    return manifest, audit
