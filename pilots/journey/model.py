"""A journey: a YAML graph of the steps of a public-service procedure, across channels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from civiclab import SpecError
from pilots.journey.capacity import Capacity

Channel = Literal["online_form", "immersive_3d", "phone", "counter", "mobile_app", "mail"]
HUMAN_CHANNELS: frozenset[str] = frozenset({"phone", "counter"})
DIGITAL_CHANNELS: frozenset[str] = frozenset({"online_form", "immersive_3d", "mobile_app"})
Feature = Literal[
    "screen_reader",
    "captions",
    "audio_description",
    "easy_read",
    "multilingual",
    "keyboard_navigation",
    "seated_mode",
    "sign_language",
    "large_text",
    "save_and_resume",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Demands(Strict):
    """What a step asks of a citizen; each load is on a 0 (none) to 1 (heavy) scale."""

    reading_load: float = Field(default=0.0, ge=0, le=1)
    form_fields: int = Field(default=0, ge=0, le=200)
    uploads: int = Field(default=0, ge=0, le=20)
    identity_check: bool = False
    navigation_3d: float = Field(default=0.0, ge=0, le=1)
    headset: bool = False
    audio: bool = False


class StepTime(Strict):
    """Time on a step for an expert user: log-normal with this median and spread."""

    median_s: float = Field(gt=0)
    sigma: float = Field(default=0.4, ge=0, le=2)


class Step(Strict):
    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    title: str
    channel: Channel
    demands: Demands = Field(default_factory=Demands)
    accessibility: list[Feature] = Field(default_factory=list)
    time: StepTime
    next: str | None = Field(default=None, description="next step id; None ends the journey")
    fallback: str | None = Field(default=None, description="step id on another channel to switch to")
    assistance: str | None = Field(default=None, description="assistance point reachable from this step")
    caption: str | None = Field(
        default=None, max_length=1000, description="what the avatar says at this step (shown as captions)"
    )


class AssistancePoint(Strict):
    """A human within reach: a mediator at a counter, a phone line."""

    id: str
    label: str
    channel: Literal["phone", "counter", "video"]
    wait_median_s: float = Field(default=300, gt=0)
    availability: float = Field(default=1.0, ge=0, le=1, description="probability a human answers")
    accessibility: list[Feature] = Field(
        default_factory=list, description="e.g. sign_language: a phone or video line a deaf person can use"
    )
    capacity: Capacity | None = Field(
        default=None,
        description="staff, hours, service and patience: waits then come from the run's own queue, and "
        "wait_median_s and availability are not used; absent, the older fixed-wait model applies",
    )


@dataclass(frozen=True)
class Access:
    """What a persona can get to on its own: its device, digital literacy and disability.

    The rules (shared by the simulation and the `human_in_reach` metric, so that what the metric
    says is what simulated people could do):
    - a digital step (online form, 3D, mobile app) needs a device; a step that needs a headset
      needs a headset;
    - a phone line (a phone step or a phone assistance point) is out of reach of a person with a
      hearing disability unless it offers `sign_language`; a video point needs a device;
    - a person with no digital literacy does not switch to a *digital* fallback on their own;
    - an assistance point shown on a step is only seen by someone who can open that step.
    """

    device: str = "computer"
    digital_literacy: str = "medium"
    disability: str = "none"

    @classmethod
    def of(cls, segment: Mapping[str, str]) -> Access:
        return cls(
            device=segment.get("device", "computer"),
            digital_literacy=segment.get("digital_literacy", "medium"),
            disability=segment.get("disability", "none"),
        )

    def can_use(self, step: Step) -> bool:
        """Whether the device (and, for a phone step, the hearing) allows the step at all."""
        if step.demands.headset and self.device != "headset":
            return False
        if step.channel in DIGITAL_CHANNELS and self.device == "none":
            return False
        return not (
            step.channel == "phone"
            and self.disability == "hearing"
            and "sign_language" not in step.accessibility
        )

    def can_switch_to(self, step: Step) -> bool:
        """Whether, stuck elsewhere, the person would take this step as a fallback on their own."""
        if step.channel in DIGITAL_CHANNELS and self.digital_literacy == "none":
            return False
        return self.can_use(step)

    def can_reach(self, point: AssistancePoint) -> bool:
        """Whether the person can talk to this assistance point's human."""
        if point.channel in ("phone", "video") and self.disability == "hearing":
            return "sign_language" in point.accessibility
        return not (point.channel == "video" and self.device == "none")


class Journey(Strict):
    id: str
    title: str
    procedure: str = ""
    start: str
    steps: list[Step] = Field(min_length=1)
    assistance_points: list[AssistancePoint] = Field(default_factory=list)
    _memo: dict[Any, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _graph(self) -> Journey:
        ids = [s.id for s in self.steps]
        for i, sid in enumerate(ids):
            if sid in ids[:i]:
                raise ValueError(f"steps[{i}].id: duplicate step id {sid!r}")
        known = set(ids)
        points = {a.id for a in self.assistance_points}
        if self.start not in known:
            raise ValueError(f"start: unknown step {self.start!r}")
        for i, step in enumerate(self.steps):
            for field in ("next", "fallback"):
                target = getattr(step, field)
                if target is not None and target not in known:
                    raise ValueError(f"steps[{i}].{field}: unknown step {target!r}")
            if step.fallback is not None:
                other = self.step(step.fallback)
                if other.channel == step.channel:
                    raise ValueError(f"steps[{i}].fallback: {step.fallback!r} is on the same channel")
            if step.assistance is not None and step.assistance not in points:
                raise ValueError(f"steps[{i}].assistance: unknown assistance point {step.assistance!r}")
        for i, point in enumerate(self.assistance_points):
            for sid in point.capacity.service_by_step if point.capacity else ():
                if sid not in known:
                    raise ValueError(f"assistance_points[{i}].capacity.service_by_step: unknown step {sid!r}")
        # Every path must end: follow `next` links from each step without revisiting.
        for step in self.steps:
            seen: set[str] = set()
            cursor: str | None = step.id
            while cursor is not None:
                if cursor in seen:
                    raise ValueError(f"steps: the `next` links loop through {cursor!r}")
                seen.add(cursor)
                cursor = self.step(cursor).next
        return self

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def assistance(self, point_id: str) -> AssistancePoint:
        for a in self.assistance_points:
            if a.id == point_id:
                return a
        raise KeyError(point_id)

    @property
    def memo(self) -> dict[Any, Any]:
        """What the simulation computes once per persona and step (pure functions of the two)."""
        return self._memo

    @property
    def has_capacity(self) -> bool:
        """Whether some human channel has capacity, so that sessions share its queue."""
        return any(a.capacity is not None for a in self.assistance_points)

    def human_in_reach(self, step_id: str, access: Access) -> bool:
        """Whether this person, stuck at this step, can actually get to a human.

        A human is in reach through the step itself (a human channel they can use), an assistance
        point on a step they can open and a line they can use, or a fallback they would take and
        can use, followed through further fallbacks. The graph alone is not enough: a phone number
        inside a 3D town hall is out of reach of someone without a headset.
        """
        seen: set[str] = set()
        cursor: str | None = step_id
        while cursor is not None and cursor not in seen:
            seen.add(cursor)
            step = self.step(cursor)
            usable = access.can_use(step)
            if usable and step.channel in HUMAN_CHANNELS:
                return True
            if usable and step.assistance is not None and access.can_reach(self.assistance(step.assistance)):
                return True
            fallback = None if step.fallback is None else self.step(step.fallback)
            cursor = fallback.id if fallback is not None and access.can_switch_to(fallback) else None
        return False

    def main_path(self) -> list[str]:
        """Step ids from the start, following `next` (the funnel's order)."""
        path: list[str] = []
        cursor: str | None = self.start
        while cursor is not None:
            path.append(cursor)
            cursor = self.step(cursor).next
        return path


def load_journey(path: Path) -> Journey:
    """Read and validate a journey file; errors name the file and the field."""
    from civiclab import read_yaml, validation_to_spec_error

    data = read_yaml(path)
    if isinstance(data, dict) and "journey" in data and len(data) == 1:
        data = data["journey"]
    try:
        return Journey.model_validate(data)
    except ValidationError as exc:
        raise validation_to_spec_error(exc, path) from None
    except SpecError:
        raise


def _merged(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def _nested(changes: Mapping[str, Any]) -> dict[str, Any]:
    """A capacity field named directly on the point (`staff=3`) is the capacity's."""
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in AssistancePoint.model_fields and key in Capacity.model_fields:
            out.setdefault("capacity", {})[key] = value
        else:
            out[key] = value
    return out


def with_overrides(journey: Journey, overrides: Mapping[str, Mapping[str, Any]], path: Path) -> Journey:
    """The journey with some assistance points' fields replaced (a staffing what-if), validated again.

    Raises:
        SpecError: an unknown point, or a replaced field the journey's models refuse, named under
            `pilot.params.assistance` in `path`.
    """
    if not overrides:
        return journey
    known = [a.id for a in journey.assistance_points]
    for point_id in overrides:
        if point_id not in known:
            raise SpecError(
                path,
                f"pilot.params.assistance.{point_id}",
                f"unknown assistance point; known: {', '.join(known)}",
            )
    data = journey.model_dump(exclude_unset=True)
    data["assistance_points"] = [
        _merged(point, _nested(overrides.get(point["id"], {}))) for point in data.get("assistance_points", [])
    ]
    try:
        return Journey.model_validate(data)
    except ValidationError as exc:
        from civiclab import validation_to_spec_error

        error = validation_to_spec_error(exc, path)
        field = error.field
        for i, point_id in enumerate(known):  # name the override, not the merged list's index
            field = field.replace(f"assistance_points[{i}]", f"pilot.params.assistance.{point_id}")
        raise SpecError(path, field, error.problem) from None
