"""`civiclab verify` reads a SQLite store without MLflow, and checks the audit chain on its bytes; the full
pass, which parses every line, is the reference: both find the same, and a line only the full pass can
judge is judged by it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from civiclab.evidence import audit as audit_log
from civiclab.evidence.verify import auditcheck
from civiclab.plugins.gctune import gc_tuned
from civiclab.store.tracker import Tracker
from tests.evidence.signing.conftest import SignedStore

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _format_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """These edit format-1 lines (an event a line); a test asking for `audit_format` runs both."""
    monkeypatch.setattr(audit_log, "WRITTEN_FORMAT", audit_log.PER_EVENT)


def _files(uri: str, run_id: str) -> tuple[Path, Path, int]:
    folder = Tracker(uri).local_artifact_dir(run_id)
    assert folder is not None
    audit = folder / "audit.jsonl"
    return audit, folder / "sessions.jsonl", sum(1 for _ in audit.open("rb"))


def _full(audit: Path, sessions: Path, events: int) -> tuple[Any, list[dict[str, Any]]]:
    kept: list[dict[str, Any]] = []
    with gc_tuned():
        return auditcheck._check_audit_log(audit, sessions, events, kept), kept


def _rechain(audit: Path, lines: list[bytes]) -> None:
    """Write `lines` with every hash and link recomputed, as a forger who knows the format would."""
    prev, out = "0" * 64, []
    for seq, line in enumerate(lines):
        event = line[len(b'{"event":') : line.rindex(b',"hash":"')]
        digest = hashlib.sha256(prev.encode() + event).hexdigest()
        out.append(
            b'{"event":%b,"hash":"%b","prev":"%b","seq":%d}\n' % (event, digest.encode(), prev.encode(), seq)
        )
        prev = digest
    audit.write_bytes(b"".join(out))


@pytest.mark.slow
def test_the_byte_pass_finds_what_the_full_pass_finds(signed_copy: SignedStore, audit_format: int) -> None:
    audit, sessions, events = _files(signed_copy.uri, signed_copy.run_id)
    reference, reference_kept = _full(audit, sessions, events)
    kept: list[dict[str, Any]] = []
    with gc_tuned():
        found = auditcheck._byte_pass(audit, sessions, events, kept)
    assert found == reference
    assert (found.opened, found.closed, found.events) == (60, 60, events)
    assert kept == reference_kept and len(kept) == 60


@pytest.mark.slow
def test_a_correctly_hashed_line_that_is_not_canonical_is_left_to_the_full_pass(
    signed_copy: SignedStore,
) -> None:
    """A space in one event, every hash after it recomputed: the bytes link, but the event is not its
    canonical form, so the chain's definition does not hold; only parsing the line can tell."""
    audit, sessions, events = _files(signed_copy.uri, signed_copy.run_id)
    lines = audit.read_bytes().splitlines(keepends=True)
    assert b'"kind":"' in lines[5]
    lines[5] = lines[5].replace(b'"kind":"', b'"kind": "', 1)
    _rechain(audit, lines)
    with pytest.raises(auditcheck._Undecided), gc_tuned():
        auditcheck._byte_pass(audit, sessions, events, [])
    with pytest.raises(auditcheck.AuditProblem, match=r"audit.jsonl: line 6: hash does not match the event"):
        auditcheck.check_audit_log(audit, sessions, events, [])


@pytest.mark.slow
def test_a_format_2_session_hashed_as_written_but_not_canonical_is_left_to_the_full_pass(
    signed_run: Callable[..., Any], store_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A space in one session, the same bytes in both files, every hash after it recomputed from the bytes:
    they link, but the session is not its canonical form; the full pass names the line."""
    monkeypatch.setattr(audit_log, "WRITTEN_FORMAT", audit_log.PER_SESSION)
    audit, sessions, events = _files(store_uri, signed_run(store_uri, sessions=20).run_id)
    lines = audit.read_bytes().splitlines(keepends=True)
    stored = sessions.read_bytes().splitlines(keepends=True)
    stored[2] = stored[2].replace(b'"kind":"', b'"kind": "', 1)
    sessions.write_bytes(b"".join(stored))
    prev, out = lines[0][lines[0].rindex(b'"hash":"') + 8 :][:64], [lines[0]]
    for seq, line in enumerate(lines[1:], start=1):
        if line.startswith(b'{"hash"'):
            body = stored[seq - 1][: stored[seq - 1].rindex(b',"timings":')] + b"}"
            digest = hashlib.sha256(prev + b"session:" + body).hexdigest().encode()
            out.append(b'{"hash":"%b","prev":"%b","seq":%d,"session":%b}\n' % (digest, prev, seq, body))
        else:
            event = line[len(b'{"event":') : line.rindex(b',"hash":"')]
            digest = hashlib.sha256(prev + event).hexdigest().encode()
            out.append(b'{"event":%b,"hash":"%b","prev":"%b","seq":%d}\n' % (event, digest, prev, seq))
        prev = digest
    audit.write_bytes(b"".join(out))
    with pytest.raises(auditcheck._Undecided), gc_tuned():
        auditcheck._byte_pass(audit, sessions, events, [])
    with pytest.raises(auditcheck.AuditProblem, match=r"audit.jsonl: line 4: hash does not match the event"):
        auditcheck.check_audit_log(audit, sessions, events, [])


@pytest.mark.slow
def test_an_event_changed_in_both_files_and_rechained_gives_the_same_findings(
    signed_copy: SignedStore,
) -> None:
    """The same edit in the audit log and in sessions.jsonl, hashes recomputed: both passes find the same
    chain, with a root other than the one the run signed (which `verify` compares)."""
    audit, sessions, events = _files(signed_copy.uri, signed_copy.run_id)
    signed_root = _full(audit, sessions, events)[0].run_root
    lines = audit.read_bytes().splitlines(keepends=True)
    target = next(i for i, line in enumerate(lines) if b'"kind":"session.open"' in line) + 1
    event = json.loads(lines[target])["event"]
    event["ts"] = "1999-01-01T00:00:00+00:00"
    body = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    lines[target] = b'{"event":%b,"hash":"%b","prev":"%b","seq":%d}\n' % (body, b"0" * 64, b"0" * 64, target)
    _rechain(audit, lines)
    stored = sessions.read_bytes().splitlines(keepends=True)
    first = json.loads(stored[0])
    first["events"][0] = event
    stored[0] = json.dumps(first).encode() + b"\n"
    sessions.write_bytes(b"".join(stored))
    reference, _ = _full(audit, sessions, events)
    with gc_tuned():
        assert auditcheck._byte_pass(audit, sessions, events, []) == reference
    assert reference.run_root != signed_root


@pytest.mark.slow
def test_verify_on_a_sqlite_store_does_not_import_mlflow(signed_copy: SignedStore, trust_file: Path) -> None:
    store_uri, run_id = signed_copy.uri, signed_copy.run_id
    script = (
        "import sys\n"
        "from civiclab.cli import main\n"
        "code = main(['--tracking-uri', sys.argv[1], 'verify', sys.argv[2], '--trust', sys.argv[3], '--json'])\n"
        "print('mlflow imported' if 'mlflow' in sys.modules else 'mlflow not imported', code, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, store_uri, run_id, str(trust_file)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.stderr.strip().splitlines()[-1] == "mlflow not imported 0", done.stderr
    assert json.loads(done.stdout)["ok"] is True
