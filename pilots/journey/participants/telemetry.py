"""What a participant's browser reports, and the xAPI statements civiclab makes of it.

The browser never writes statements itself: it posts a small typed event (`ParticipantEvent`) and
the server builds the statement, so a participant can neither forge another's telemetry nor send a
head or hand position stream (there is no field for one). Verbs are ADL/cmi5 where one exists;
civiclab's own verbs and extensions are listed in the pilot README.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ADL = "http://adlnet.gov/expapi/verbs/"
ADL_W3ID = "https://w3id.org/xapi/adl/verbs/"
CIVICLAB = "https://w3id.org/civiclab/xapi/"
ACTIVITIES = CIVICLAB + "journeys/"

EXT_SEGMENT = CIVICLAB + "segment"
EXT_CHANNEL = CIVICLAB + "channel"  # "immersive_3d" or "accessible_twin": where the participant is
EXT_SETTING = CIVICLAB + "comfort-setting"
EXT_VALUE = CIVICLAB + "comfort-value"
EXT_REASON = CIVICLAB + "exit-reason"
EXT_IMMERSIVE_S = CIVICLAB + "immersive-seconds"
EXT_FPS = CIVICLAB + "frame-rate-median"
EXT_STEP = CIVICLAB + "step"

VERB_IRIS: dict[str, str] = {
    "initialized": ADL + "initialized",  # cmi5
    "attempted": ADL + "attempted",  # a step entered
    "completed": ADL + "completed",  # cmi5
    "failed": ADL + "failed",  # cmi5
    "abandoned": ADL_W3ID + "abandoned",  # cmi5
    "terminated": ADL + "terminated",  # cmi5: the participant left
    "asked": CIVICLAB + "verbs/escalated",  # a help point used: a person asked for
    "adjusted": CIVICLAB + "verbs/adjusted",  # a comfort setting changed
    "switched": CIVICLAB + "verbs/switched-channel",  # to the accessible twin
}

Channel = Literal["immersive_3d", "accessible_twin"]
ComfortSetting = Literal["seated", "snap_turn", "vignette", "captions", "large_text"]
ExitReason = Literal["finished", "stopped", "sickness", "discomfort", "technical", "other"]


class ParticipantEvent(BaseModel):
    """One thing that happened in the scene or the twin, as the browser reports it."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal[
        "step_entered",
        "step_completed",
        "step_failed",
        "step_abandoned",
        "help",
        "comfort",
        "switch_to_twin",
        "journey_completed",
    ]
    step: str | None = Field(default=None, max_length=80, pattern=r"^[a-z0-9_\-]+$")
    channel: Channel = "immersive_3d"
    setting: ComfortSetting | None = None
    value: str | None = Field(default=None, max_length=20, pattern=r"^[a-z0-9_\-]+$")
    fps_median: float | None = Field(default=None, ge=0, le=1000, description="frame rate so far, a median")


class ExitSummary(BaseModel):
    """What is kept of a session's immersion when it ends: aggregates only."""

    model_config = ConfigDict(extra="forbid")

    reason: ExitReason = "finished"
    immersive_s: float | None = Field(default=None, ge=0, le=24 * 3600)
    fps_median: float | None = Field(default=None, ge=0, le=1000)


class StatementMaker:
    """Statements of one journey: activity ids under civiclab's convention (`.../steps/ID`)."""

    def __init__(self, experiment: str, journey_id: str, home_page: str) -> None:
        self.journey_activity = f"{ACTIVITIES}{experiment}/{journey_id}"
        self.home_page = home_page

    def activity(self, step: str | None = None, point: str | None = None) -> str:
        if point is not None:
            return f"{self.journey_activity}/assistance/{point}"
        return self.journey_activity if step is None else f"{self.journey_activity}/steps/{step}"

    def statement(
        self,
        participant: str,
        registration: str,
        segment: dict[str, str],
        verb: str,
        activity: str,
        *,
        channel: str,
        result: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One xAPI 1.0.3 statement; the actor is an account named by the participant's pseudonym only."""
        st: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "actor": {
                "objectType": "Agent",
                "account": {"homePage": self.home_page, "name": participant},
            },
            "verb": {"id": VERB_IRIS[verb], "display": {"en-US": verb}},
            "object": {"objectType": "Activity", "id": activity},
            "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "context": {
                "registration": registration,
                "extensions": {EXT_SEGMENT: dict(segment), EXT_CHANNEL: channel},
            },
            "version": "1.0.3",
        }
        if result:
            st["result"] = result
        return st

    def of_event(
        self, participant: str, registration: str, segment: dict[str, str], event: ParticipantEvent
    ) -> dict[str, Any]:
        """The statement of a browser's event (see the README's table)."""
        step, channel = self.activity(event.step), event.channel
        make = self.statement
        if event.kind == "step_entered":
            return make(participant, registration, segment, "attempted", step, channel=channel)
        if event.kind == "step_completed":
            return make(
                participant, registration, segment, "completed", step, channel=channel,
                result={"completion": True},
            )  # fmt: skip
        if event.kind == "step_failed":
            return make(
                participant, registration, segment, "failed", step, channel=channel, result={"success": False}
            )
        if event.kind == "step_abandoned":
            return make(participant, registration, segment, "abandoned", step, channel=channel)
        if event.kind == "help":
            return make(participant, registration, segment, "asked", step, channel=channel)
        if event.kind == "comfort":
            ext = {EXT_SETTING: event.setting or "", EXT_VALUE: event.value or ""}
            return make(
                participant, registration, segment, "adjusted", self.journey_activity, channel=channel,
                result={"extensions": ext},
            )  # fmt: skip
        if event.kind == "switch_to_twin":
            return make(
                participant, registration, segment, "switched", self.journey_activity,
                channel="accessible_twin", result={"extensions": {EXT_STEP: event.step or ""}},
            )  # fmt: skip
        return make(
            participant, registration, segment, "completed", self.journey_activity, channel=channel,
            result={"completion": True},
        )  # fmt: skip

    def exit(
        self,
        participant: str,
        registration: str,
        segment: dict[str, str],
        summary: ExitSummary,
        channel: str,
        *,
        finished: bool,
    ) -> list[dict[str, Any]]:
        """`abandoned` (unless the journey was finished), then `terminated` with the session's aggregates."""
        ext: dict[str, Any] = {EXT_REASON: summary.reason}
        if summary.immersive_s is not None:
            ext[EXT_IMMERSIVE_S] = round(summary.immersive_s, 1)
        if summary.fps_median is not None:
            ext[EXT_FPS] = round(summary.fps_median, 1)
        out = []
        if not finished:
            out.append(
                self.statement(
                    participant, registration, segment, "abandoned", self.journey_activity, channel=channel
                )
            )
        out.append(
            self.statement(
                participant, registration, segment, "terminated", self.journey_activity, channel=channel,
                result={"extensions": ext},
            )
        )  # fmt: skip
        return out
