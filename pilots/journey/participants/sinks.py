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


class LrsSink:
    """An xAPI LRS: statements POSTed as they come; withdrawal voids what this server posted."""

    def __init__(self, params: LrsParams, home_page: str) -> None:
        import httpx

        self.url = statements_url(params.url)
        self.where = f"LRS {self.url}"
        self.home_page = home_page
        self._client = httpx.Client(
            timeout=httpx.Timeout(params.timeout_s),
            headers={"X-Experience-API-Version": params.version},
            auth=_credentials(params),
        )
        self._posted: dict[str, list[str]] = defaultdict(list)
        self._lock = threading.Lock()

    def post(self, statements: list[dict[str, Any]]) -> None:
        response = self._client.post(self.url, json=statements)
        if response.status_code not in (200, 204):
            raise PilotError(f"{self.where}: HTTP {response.status_code} on POST statements")
        with self._lock:
            for st in statements:
                registration = st.get("context", {}).get("registration")
                if registration is not None:  # a voiding statement has none
                    self._posted[registration].append(st["id"])

    def withdraw(self, registration: str) -> int:
        with self._lock:
            ids = self._posted.pop(registration, [])
        if not ids:
            return 0
        voiding = [
            {
                "id": str(uuid.uuid4()),
                "actor": {"objectType": "Agent", "account": {"homePage": self.home_page, "name": "civiclab"}},
                "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
                "object": {"objectType": "StatementRef", "id": sid},
            }
            for sid in ids
        ]
        self.post(voiding)
        return len(ids)

    def close(self) -> None:
        self._client.close()
