"""Statements as other authoring tools and LMSs write them, for the journey's observe-mode tests."""

from __future__ import annotations

import uuid
from typing import Any

ADL = "http://adlnet.gov/expapi/verbs/"
W3ID = "https://w3id.org/xapi/adl/verbs/"
BASE = "https://belleval.example/journeys/housing-benefit"
TOOL = "https://vr-tool.example/scorm/course-42"


class Writer:
    """Writes one registration's statements a minute apart, with fresh ids."""

    def __init__(
        self, registration: int, actor: dict[str, Any] | None = None, version: str = "1.0.3"
    ) -> None:
        self.registration = f"00000000-0000-4000-8000-{registration:012d}"
        self.actor = actor or {"objectType": "Agent", "mbox": f"mailto:citizen{registration}@example.org"}
        self.version = version
        self.minute = 0
        self.statements: list[dict[str, Any]] = []

    def __call__(
        self, verb: str, obj: str, result: dict[str, Any] | None = None, activity_type: str | None = None
    ) -> dict[str, Any]:
        self.minute += 1
        st: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "actor": self.actor,
            "verb": {"id": verb if ":" in verb else ADL + verb},
            "object": {"objectType": "Activity", "id": obj},
            "timestamp": f"2026-03-02T10:{self.minute:02d}:00Z"
            if self.version.startswith("1")
            else f"2026-03-02T11:{self.minute:02d}:00+01:00",
            "context": {"registration": self.registration},
            "version": self.version,
        }
        if activity_type is not None:
            st["object"]["definition"] = {"type": activity_type}
        if result is not None:
            st["result"] = result
        self.statements.append(st)
        return st


def voiding(target: dict[str, Any]) -> dict[str, Any]:
    """An administrator's statement voiding `target` (no registration, as an LRS admin would send)."""
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": "mailto:admin@belleval.example"},
        "verb": {"id": ADL + "voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target["id"]},
        "timestamp": "2026-03-02T12:00:00Z",
    }
