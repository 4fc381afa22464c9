"""What a served journey's telemetry says about immersion, kept in the session record's `immersive` field.

Read from civiclab's own verbs and extensions (see the README's table): where the participant started
(3D or the plain-page twin), whether and where they switched to the twin, the comfort settings they
changed, why they left, time in the 3D part and the frame rate (both as summaries). Absent for
telemetry that carries none of them (another platform's export).
"""

from __future__ import annotations

from typing import Any


class Immersion:
    def __init__(self) -> None:
        self.seen = False
        self.started_in: str | None = None
        self.switched_to_twin = False
        self.switched_at: str | None = None
        self.comfort: dict[str, str] = {}
        self.exit_reason: str | None = None
        self.immersive_s: float | None = None
        self.fps_median: float | None = None

    def read(self, st: dict[str, Any]) -> str | None:
        """Take one statement's immersion facts; returns the event kind to log, if any."""
        detail = st.get("detail") or {}
        if not detail:
            return None
        self.seen = True
        if self.started_in is None and isinstance(detail.get("channel"), str):
            self.started_in = detail["channel"]
        verb = st["verb"]
        if verb == "switched" and not self.switched_to_twin:
            self.switched_to_twin = True
            self.switched_at = detail.get("step") or None
            return "channel.switch"
        if verb == "adjusted" and isinstance(detail.get("comfort-setting"), str):
            self.comfort[detail["comfort-setting"]] = str(detail.get("comfort-value", ""))
            return "comfort.setting"
        if verb == "terminated":
            self.exit_reason = (
                detail.get("exit-reason") if isinstance(detail.get("exit-reason"), str) else None
            )
            if isinstance(detail.get("immersive-seconds"), int | float):
                self.immersive_s = float(detail["immersive-seconds"])
            if isinstance(detail.get("frame-rate-median"), int | float):
                self.fps_median = float(detail["frame-rate-median"])
        return None

    def record(self) -> dict[str, Any] | None:
        if not self.seen:
            return None
        return {
            "started_in": self.started_in,
            "switched_to_twin": self.switched_to_twin,
            "switched_at": self.switched_at,
            "comfort": dict(sorted(self.comfort.items())),
            "exit_reason": self.exit_reason,
            "immersive_s": self.immersive_s,
            "fps_median": self.fps_median,
        }
