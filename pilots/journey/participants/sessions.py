"""Who is taking part right now: one entry per enrolled participant, found by a cookie's random token.

The token is the only thing the browser holds; the code it was enrolled with is not kept. The
pseudonym names the participant in statements, the registration groups their statements into one
session, and both are random: nothing links them to the code or to the person.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

COOKIE = "civiclab_participant"


@dataclass
class Participant:
    registration: str
    pseudonym: str
    segment: dict[str, str]
    consented: bool = False
    channel: str = "immersive_3d"
    step: str | None = None
    finished: bool = False
    left: bool = False
    scene_since: float | None = None
    immersive_s: float = 0.0
    fps_median: float | None = None
    help_asked: bool = False
    flags: set[str] = field(default_factory=set)

    def enter_scene(self) -> None:
        if self.scene_since is None:
            self.scene_since = time.monotonic()
        self.channel = "immersive_3d"

    def leave_scene(self) -> None:
        """Add the time since the scene was opened to the time spent immersed."""
        if self.scene_since is not None:
            self.immersive_s += time.monotonic() - self.scene_since
            self.scene_since = None


class Participants:
    """The participants of a served journey, in memory (a restart ends the sessions in progress)."""

    def __init__(self) -> None:
        self._by_token: dict[str, Participant] = {}
        self._lock = threading.Lock()

    def enrol(self, segment: dict[str, str]) -> tuple[str, Participant]:
        token = secrets.token_urlsafe(32)
        participant = Participant(
            registration=str(uuid.uuid4()), pseudonym="p-" + secrets.token_hex(8), segment=segment
        )
        with self._lock:
            self._by_token[token] = participant
        return token, participant

    def get(self, token: str | None) -> Participant | None:
        if not token:
            return None
        with self._lock:
            found = self._by_token.get(token)
        return None if found is None or found.left else found

    def forget(self, token: str) -> None:
        with self._lock:
            self._by_token.pop(token, None)
