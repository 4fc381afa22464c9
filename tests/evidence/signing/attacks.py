"""What an attacker with write access to the tracking store and the artifacts (but no lab key) does.

Each attack edits the store's database directly (SQLite file, or the PostgreSQL database behind an
MLflow server) and/or the run's artifact files, as a new user found they could; `civiclab verify`
must then exit 1 and name the check that failed.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civiclab.evidence.audit import GENESIS, link_hash, session_hash
from civiclab.evidence.manifest import Manifest, artifact_digests
from civiclab.store.tracker import Tracker


@dataclass
class Store:
    """A tracking store as an attacker sees it: its database and the run's artifact folder."""

    uri: str
    execute: Callable[[str, tuple[Any, ...]], None]
    artifacts: Callable[[str], Path]

    @property
    def tracker(self) -> Tracker:
        return Tracker(self.uri)


def sqlite_store(uri: str) -> Store:
    db = uri.removeprefix("sqlite:///")

    def execute(sql: str, args: tuple[Any, ...]) -> None:
        with sqlite3.connect(db) as con:
            assert con.execute(sql, args).rowcount >= 1, sql

    def artifacts(run_id: str) -> Path:
        folder = Tracker(uri).local_artifact_dir(run_id)
        assert folder is not None
        return folder

    return Store(uri, execute, artifacts)


def postgres_store(uri: str, db_url: str, artifact_root: Path) -> Store:
    def execute(sql: str, args: tuple[Any, ...]) -> None:
        import psycopg

        with psycopg.connect(db_url, autocommit=True) as con:
            assert con.execute(sql.replace("?", "%s"), args).rowcount >= 1, sql  # type: ignore[arg-type]

    def artifacts(run_id: str) -> Path:
        (folder,) = list(artifact_root.glob(f"*/{run_id}/artifacts"))
        return folder

    return Store(uri, execute, artifacts)


# --- edits in the store --------------------------------------------------------------------------


def set_metric(store: Store, run_id: str, key: str, value: float) -> None:
    for table in ("metrics", "latest_metrics"):
        store.execute(f"UPDATE {table} SET value = ? WHERE run_uuid = ? AND key = ?", (value, run_id, key))


def delete_metric(store: Store, run_id: str, key: str) -> None:
    for table in ("metrics", "latest_metrics"):
        store.execute(f"DELETE FROM {table} WHERE run_uuid = ? AND key = ?", (run_id, key))


def set_param(store: Store, run_id: str, key: str, value: str) -> None:
    store.execute("UPDATE params SET value = ? WHERE run_uuid = ? AND key = ?", (value, run_id, key))


def set_tag(store: Store, run_id: str, key: str, value: str) -> None:
    store.execute("UPDATE tags SET value = ? WHERE run_uuid = ? AND key = ?", (value, run_id, key))


def delete_tag(store: Store, run_id: str, key: str) -> None:
    store.execute("DELETE FROM tags WHERE run_uuid = ? AND key = ?", (run_id, key))


def move_run(store: Store, run_id: str, experiment: str) -> None:
    """File the run under another experiment (made for it), as an UPDATE of the runs table does."""
    experiment_id = store.tracker.client.create_experiment(experiment)
    store.execute("UPDATE runs SET experiment_id = ? WHERE run_uuid = ?", (int(experiment_id), run_id))


def rename_run(store: Store, run_id: str, name: str) -> None:
    """Rename the run in the runs table and in the tag MLflow keeps its name in."""
    store.execute("UPDATE runs SET name = ? WHERE run_uuid = ?", (name, run_id))
    set_tag(store, run_id, "mlflow.runName", name)


# --- edits of the artifacts ----------------------------------------------------------------------


def read_chain(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "audit.jsonl").read_text().splitlines()]


def chain_items(folder: Path) -> list[dict[str, Any]]:
    """Each line of the audit log as `write_chain` takes it: its event, or `{"session": …}` for a
    format-2 session line."""
    return [line["event"] if "event" in line else {"session": line["session"]} for line in read_chain(folder)]


def write_chain(folder: Path, events: list[dict[str, Any]]) -> None:
    """Re-link a list of events (and format-2 sessions) into a valid chain: anyone can, no key is needed."""
    prev, lines = GENESIS, []
    for seq, item in enumerate(events):
        if "session" in item and "kind" not in item:
            digest = session_hash(prev, item["session"])
            line = {"session": item["session"], "hash": digest, "prev": prev, "seq": seq}
        else:
            digest = link_hash(prev, item)
            line = {"event": item, "hash": digest, "prev": prev, "seq": seq}
        lines.append(json.dumps(line, sort_keys=True))
        prev = digest
    (folder / "audit.jsonl").write_text("\n".join(lines) + "\n")


def rewrite_manifest(store: Store, run_id: str, folder: Path, **changes: Any) -> None:
    """Recompute the manifest's digests and its tag and the audit root tag, consistently."""
    from civiclab.evidence.audit import verify_audit_log

    manifest = Manifest.model_validate_json((folder / "manifest.json").read_text())
    chain = verify_audit_log(folder / "audit.jsonl")
    manifest.audit_root, manifest.audit_events = chain.root, chain.events
    manifest.artifacts = artifact_digests(folder)
    for key, value in changes.items():
        setattr(manifest, key, value)
    (folder / "manifest.json").write_text(
        json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True)
    )
    store.tracker.set_tags(
        run_id, {"civiclab.manifest_sha256": manifest.digest(), "civiclab.audit_root": chain.root}
    )


def forge_metric_file(folder: Path, name: str, value: float) -> None:
    metrics = json.loads((folder / "metrics.json").read_text())
    for m in metrics:
        if m["name"] == name and m.get("segment") is None:
            m["value"] = value
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=1))


def resign_statement(folder: Path, mutate: Callable[[dict[str, Any]], None], signer: Any | None) -> str:
    """Edit the signed statement; re-sign with the attacker's own key, or keep the old signature."""
    from civiclab.evidence.signing.envelope import canonical, read_envelope, sign_statement
    from civiclab.evidence.signing.keys import b64url

    path = folder / "statement.dsse.json"
    envelope = read_envelope(path.read_bytes())
    statement = envelope.statement()
    mutate(statement)
    if signer is not None:
        statement["predicate"]["signer"] = {"keyid": signer.keyid, "public_key": b64url(signer.public_key)}
        envelope = sign_statement(statement, signer)
    else:
        envelope = envelope.model_copy(update={"payload": base64.b64encode(canonical(statement)).decode()})
    path.write_text(envelope.to_json())
    return envelope.digest()
