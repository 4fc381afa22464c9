"""Where a served journey's statements go: the experiment's LRS, or civiclab's own statement store.

Withdrawal differs: the own store deletes a participant's statements; an LRS keeps what it stored
(xAPI has no delete), so civiclab voids each one, and observe mode leaves voided statements out.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any, Protocol

from civiclab import PilotError
from pilots.journey.lrs import LrsParams, _credentials, statements_url
from pilots.journey.participants.statement_store import StatementStore


class StatementSink(Protocol):
    where: str

    def post(self, statements: list[dict[str, Any]]) -> None: ...

    def withdraw(self, registration: str) -> int: ...

    def close(self) -> None: ...


class StoreSink:
    """civiclab's own store (SQLite)."""

    def __init__(self, path: Path) -> None:
        self.store = StatementStore(path)
        self.where = f"statement store {path}"

    def post(self, statements: list[dict[str, Any]]) -> None:
        self.store.add(statements)

    def withdraw(self, registration: str) -> int:
        return self.store.withdraw(registration)

    def close(self) -> None:
        self.store.close()


VOIDED = "http://adlnet.gov/expapi/verbs/voided"


FLUSH_ENV = "CIVICLAB_JOURNEY_LRS_FLUSH_S"


class LrsSink:
    """An xAPI LRS: statements are sent in batches (every `flush_s` seconds, past `batch` statements,
    and when the server stops); withdrawal drops what is not sent yet and voids what is."""

    def __init__(
        self, params: LrsParams, home_page: str, flush_s: float | None = None, batch: int = 500
    ) -> None:
        import os

        import httpx

        self.url = statements_url(params.url)
        self.where = f"LRS {self.url}"
        self.home_page = home_page
        self._client = httpx.Client(
            timeout=httpx.Timeout(params.timeout_s),
            headers={"X-Experience-API-Version": params.version},
            auth=_credentials(params),
        )
        self._pending: list[dict[str, Any]] = []
        self._posted: dict[str, list[str]] = defaultdict(list)
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self.batch = batch
        self.flush_s = flush_s if flush_s is not None else float(os.environ.get(FLUSH_ENV, "5"))
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._timer = threading.Thread(target=self._every, name="civiclab-lrs-flush", daemon=True)
        self._timer.start()

    def _every(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.flush()
            except PilotError:
                pass  # kept pending; tried again at the next tick and at close

    def post(self, statements: list[dict[str, Any]]) -> None:
        with self._lock:
            self._pending.extend(statements)
            full = len(self._pending) >= self.batch
        if full:  # sent by the flushing thread: a participant's request never waits for the LRS
            self._wake.set()

    def flush(self) -> int:
        """Send what is pending in one request; returns how many were sent."""
        with self._send_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            response = self._client.post(self.url, json=batch)
            if response.status_code not in (200, 204):
                with self._lock:
                    self._pending[:0] = batch
                raise PilotError(f"{self.where}: HTTP {response.status_code} on POST statements")
            with self._lock:
                for st in batch:
                    registration = st.get("context", {}).get("registration")
                    if registration is not None:  # a voiding statement has none
                        self._posted[registration].append(st["id"])
            return len(batch)

    def withdraw(self, registration: str) -> int:
        with self._lock:
            kept = [st for st in self._pending if st.get("context", {}).get("registration") != registration]
            dropped = len(self._pending) - len(kept)
            self._pending = kept
            ids = self._posted.pop(registration, [])
        if ids:
            # xAPI has no delete: what reached the LRS is voided, and observe mode leaves it out.
            self.post([self._voiding(sid) for sid in ids])
        return dropped + len(ids)

    def _voiding(self, statement_id: str) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "account": {"homePage": self.home_page, "name": "civiclab"}},
            "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": statement_id},
        }

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._timer.join(timeout=self.flush_s + 5)
        try:
            self.flush()
        finally:
            self._client.close()
