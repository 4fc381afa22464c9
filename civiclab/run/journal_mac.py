"""The journal's MAC: the lab vouches, while a run writes them, for what `audit.jsonl` and
`sessions.jsonl` hold, so that a resume continues the run's own journal and no other.

The audit log is a hash chain and a finished run signs both files, but until it is signed anyone who can
write the store can rewrite a killed run's files consistently (outcomes changed, the chain recomputed),
and a resume would sign what it found. So at every flush of the journal a *checkpoint* is appended to a
sidecar: how many audit lines there are and the chain's root at the last, how many sessions lines, their
bytes and their sha256; each checkpoint carries an HMAC-SHA256 over those figures and the run's id, with
a key the lab keeps in its secrets (`journal-mac`, under CIVICLAB_HOME, never logged). The root at a
line commits to every line before it, and so does the running sha256 of the sessions file: a checkpoint
vouches for the whole prefix. A resume keeps the sessions up to the last checkpoint (a kill may cost
the sessions of one flush, a second's worth, beyond it) and refuses a journal that differs from any
checkpoint or falls short of one, naming the file and the line (`civiclab.run.resume`).

The sidecar lives in the lab's home (`journals/RUN_ID.jsonl`), beside the key, not in the run's folder:
it is not an artifact, so what a finished run signs, its manifest and its audit root are what they were
without it, and a store writer can neither read nor remove it. It is removed when the journal closes the
run (a closed run cannot be resumed); a killed run keeps it until it is resumed to its end. A run killed
on another machine, or before civiclab kept these, has none here and cannot be resumed here.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from civiclab.errors import AuditError
from civiclab.home import lab_home
from civiclab.privacy.secrets import lab_secret, secret_key_id
from civiclab.records import canonical_bytes

KEY_NAME = "journal-mac"
JOURNALS_FOLDER = "journals"


def sidecar_path(run_id: str) -> Path:
    """Where the lab keeps the checkpoints of a run's journal."""
    return lab_home() / JOURNALS_FOLDER / f"{run_id}.jsonl"


@dataclass(frozen=True)
class Checkpoint:
    """What the journal's two files held at one flush (both at a session boundary)."""

    audit_events: int
    audit_root: str
    sessions: int
    sessions_bytes: int
    sessions_sha256: str


def checkpoint_mac(key: bytes, run_id: str, checkpoint: Checkpoint) -> str:
    """HMAC-SHA256, with the lab's journal key, of a checkpoint bound to its run."""
    body = canonical_bytes({"run_id": run_id, **asdict(checkpoint)})
    return hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass
class SessionsDigest:
    """The running sha256 of the sessions file, with its bytes and lines: where a checkpoint starts from."""

    sha256: Any  # hashlib's running object
    lines: int = 0
    bytes: int = 0

    @classmethod
    def empty(cls) -> SessionsDigest:
        return cls(hashlib.sha256())


class JournalMac:
    """Appends a run's checkpoints to its sidecar.

    Args:
        run_id: the run the checkpoints are bound to.
        kept: after a resume, the sessions file as recovery kept it (the sidecar is appended to);
            None for a new run (a new sidecar).
    """

    def __init__(self, run_id: str, kept: SessionsDigest | None = None) -> None:
        self.run_id = run_id
        self.key = lab_secret(KEY_NAME)
        self.key_id = secret_key_id(self.key)
        self.sessions = kept or SessionsDigest.empty()
        self.path = sidecar_path(run_id)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if kept else os.O_TRUNC)
        self._fh: IO[bytes] = os.fdopen(os.open(self.path, flags, 0o600), "ab" if kept else "wb")

    def sessions_written(self, data: bytes) -> None:
        """Count bytes appended to the sessions file (before the next checkpoint)."""
        digest = self.sessions
        digest.sha256.update(data)
        digest.lines += data.count(b"\n")
        digest.bytes += len(data)  # last: a checkpoint is written only when this matches the file

    def checkpoint(self, audit_events: int, audit_root: str, sessions_position: int) -> None:
        """Vouch for both files as they are now; skipped unless every byte of the sessions file went
        through `sessions_written` (an interrupted flush vouches for nothing after it)."""
        digest = self.sessions
        if self._fh.closed or sessions_position != digest.bytes:
            return
        point = Checkpoint(audit_events, audit_root, digest.lines, digest.bytes, digest.sha256.hexdigest())
        line = {**asdict(point), "key_id": self.key_id, "mac": checkpoint_mac(self.key, self.run_id, point)}
        self._fh.write(canonical_bytes(line) + b"\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def discard(self) -> None:
        """Close and remove the sidecar: the run's journal is closed, there is nothing to resume."""
        self.close()
        self.path.unlink(missing_ok=True)


def read_checkpoints(run_id: str) -> tuple[list[Checkpoint], list[int]]:
    """The run's checkpoints, each MAC checked, and the byte offset where each one's line ends.

    Raises:
        AuditError: there is no sidecar, it was made with another lab's key, or a line's MAC does
            not match (a torn last line, from a kill, is left out).
    """
    path = sidecar_path(run_id)
    if not path.exists():
        raise AuditError(
            f"run {run_id}: this lab holds no MAC of its journal ({path}); a journal the lab cannot vouch "
            "for is not resumed (resume it where it ran, or start a new run)"
        )
    key = lab_secret(KEY_NAME)
    key_id = secret_key_id(key)
    points: list[Checkpoint] = []
    ends: list[int] = []
    offset = 0
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.endswith(b"\n"):
                break
            offset += len(line)
            try:
                row = orjson.loads(line)
                mac, made_with = row.pop("mac"), row.pop("key_id")
                point = Checkpoint(**row)
            except (orjson.JSONDecodeError, KeyError, TypeError):
                raise AuditError(f"{path}: line {number}: not a journal checkpoint") from None
            if made_with != key_id:
                raise AuditError(
                    f"{path}: line {number}: made with the journal key {made_with}, this lab's is {key_id}"
                )
            if not hmac.compare_digest(str(mac), checkpoint_mac(key, run_id, point)):
                raise AuditError(f"{path}: line {number}: its MAC does not match: the checkpoint was altered")
            points.append(point)
            ends.append(offset)
    return points, ends


def keep_checkpoints(run_id: str, end: int) -> None:
    """Cut the sidecar after the checkpoint a resume continues from (those after vouch for cut data)."""
    with sidecar_path(run_id).open("r+b") as fh:
        fh.truncate(end)
