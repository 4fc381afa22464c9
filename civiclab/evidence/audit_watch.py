"""Re-verifying a run's audit chain from disk while it is written, on another core.

The auditability evaluator recomputes every link of `audit.jsonl` from the bytes on disk. Done after
the sessions, that pass costs as much as a fifth of a serial run (0.8 s of 10,000 sessions, over a
minute of a million), while the machine's second core sits idle. So the runner starts a watcher
process with the run: it reads the audit log as the journal flushes it, checks each complete line with
the same `AuditCheck` as `verify_audit_log`, and, told that the audit log is closed, reads to the end and
answers with what the audit log holds, or the first line that does not hold. Nothing is trusted from the
writer: the watcher sees only the file.

Protocol (one process per run): `python -m civiclab.evidence.audit_watch AUDIT_JSONL`; the parent writes
`closed` on its stdin when the audit log is complete; the watcher prints one JSON line
(`{"events", "root", "opened", "closed"}` or `{"error": ...}`) and exits. End of stdin without
`closed` (the run failed or was killed) stops it at once.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import select
import subprocess
import sys
import time
from pathlib import Path

from civiclab.errors import AuditError
from civiclab.evidence.audit import AuditCheck, AuditSummary, verify_audit_log

log = logging.getLogger(__name__)

POLL_S = 0.05
READ_BYTES = 1 << 20


class AuditWatcher:
    """The parent's handle on a watcher process (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # The watcher imports the civiclab this process runs, wherever it was imported from.
        here = str(Path(__file__).resolve().parents[1])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, (here, os.environ.get("PYTHONPATH")))),
        }
        self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-m", "civiclab.evidence.audit_watch", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )

    def result(self, timeout: float | None = None) -> AuditSummary:
        """Tell the watcher the audit log is closed and wait for its answer.

        Raises:
            AuditError: the audit log does not hold (the first line that does not); the evaluator then
                records chain_valid 0 with the reason. A watcher that failed for another reason (it
                could not start, it crashed) is not a fault of the audit log: the audit log is then
                verified here, as it would be without a watcher.
        """
        proc = self._proc
        if proc is None:
            raise AuditError("the audit watcher was already stopped")
        try:
            out, err = proc.communicate(b"closed\n", timeout=timeout)
        finally:
            self._proc = None
        try:
            answer = json.loads(out.decode() or "{}")
        except ValueError:
            answer = {}
        if "error" in answer:
            raise AuditError(str(answer["error"]))
        if proc.returncode != 0 or "root" not in answer:
            # The watcher itself failed (not the audit log): check the audit log here, as without a watcher.
            last = err.decode(errors="replace").strip().splitlines()[-1:] or ["no answer"]
            log.warning(
                "audit watcher failed (%s: %s); verifying the audit log in this process",
                proc.returncode,
                last[0],
            )
            return verify_audit_log(self.path)
        return AuditSummary(**answer)

    def stop(self) -> None:
        """Stop the watcher if it still runs (the run failed before its audit log closed)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.communicate(b"", timeout=5)  # end of stdin: it stops at once
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def watch(path: Path) -> dict[str, object]:
    """Follow `path` until stdin says `closed` (then read to the end) or ends (then give up)."""
    check = AuditCheck(path.name)
    pending = b""
    closed = False
    fh = None
    try:
        while True:
            chunk = b""
            if fh is None and path.exists():
                fh = path.open("rb")
            if fh is not None:
                chunk = fh.read(READ_BYTES)
            if chunk:
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()  # an unfinished line waits for the rest of its flush
                for line in lines:
                    check.feed(line)
                continue
            if closed:
                if pending:
                    check.feed(pending)
                return dataclasses.asdict(check.summary())
            ready, _, _ = select.select([sys.stdin], [], [], POLL_S)
            if ready:
                said = sys.stdin.readline()
                if said.strip() == "closed":
                    closed = True
                elif not said:
                    return {"error": "the run ended before its audit log was closed"}
    except AuditError as exc:
        return {"error": str(exc)}
    finally:
        if fh is not None:
            fh.close()


def main() -> None:
    started = time.perf_counter()
    answer = watch(Path(sys.argv[1]))
    print(json.dumps(answer), flush=True)
    log.debug("audit log watched in %.2f s", time.perf_counter() - started)


if __name__ == "__main__":
    main()
