"""What a session holds before anything is anchored: shared by issuing (the pilot) and presenting (tampering)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from civiclab import SessionPlan


@dataclass
class Prepared:
    """A session's document, salt and leaf, fixed by its plan before anything is anchored."""

    plan: SessionPlan
    scenario: str
    kind: str
    document: Any
    salt: bytes
    digest: bytes
    leaf: bytes
