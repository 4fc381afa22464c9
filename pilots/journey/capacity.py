"""The capacity of a human channel: who is on duty when, how long a request takes, how long people wait.

An assistance point without `capacity` keeps the older model (a fixed median wait and a probability that
someone answers). With `capacity`, waits come from the queue that the run's own sessions build (see
`queueing`): staff per time slot, opening hours, a service time per request type (the step a person was
stuck at), a queue discipline, and the patience of people waiting.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def clock_s(text: str) -> int:
    """Seconds since midnight of an `HH:MM` time (`24:00` is the end of the day)."""
    hours, minutes = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60


class Duration(_Strict):
    """A random duration: log-normal (median, spread) or exponential (mean)."""

    distribution: Literal["lognormal", "exponential"] = "lognormal"
    median_s: float | None = Field(default=None, gt=0, description="log-normal: the median")
    sigma: float = Field(default=0.5, ge=0, le=3, description="log-normal: the spread of ln(duration)")
    mean_s: float | None = Field(default=None, gt=0, description="exponential: the mean")

    @model_validator(mode="after")
    def _parameters(self) -> Duration:
        if self.distribution == "lognormal" and self.median_s is None:
            raise ValueError("median_s: a log-normal duration needs its median")
        if self.distribution == "exponential" and self.mean_s is None:
            raise ValueError("mean_s: an exponential duration needs its mean")
        return self

    def draw(self, rng: random.Random, scale: float = 1.0) -> float:
        """One duration, its median (or mean) multiplied by `scale`."""
        if self.distribution == "exponential":
            assert self.mean_s is not None
            return rng.expovariate(1.0 / (self.mean_s * scale))
        assert self.median_s is not None
        return rng.lognormvariate(math.log(self.median_s * scale), self.sigma)


class StaffSlot(_Strict):
    """Agents on duty from `start` to `end` on open days (local time of the population's start)."""

    start: str = Field(pattern=CLOCK)
    end: str = Field(pattern=CLOCK)
    staff: int = Field(ge=0, le=10_000)

    @model_validator(mode="after")
    def _order(self) -> StaffSlot:
        if clock_s(self.end) <= clock_s(self.start):
            raise ValueError("end: a slot ends after it starts")
        return self


class OpeningHours(_Strict):
    days: list[Day] = Field(default_factory=lambda: list(DAYS), min_length=1)
    open: str = Field(default="00:00", pattern=CLOCK)
    close: str = Field(default="24:00", pattern=CLOCK)

    @model_validator(mode="after")
    def _order(self) -> OpeningHours:
        if clock_s(self.close) <= clock_s(self.open):
            raise ValueError("close: the channel closes after it opens")
        return self


class Capacity(_Strict):
    """What a human channel can absorb. See the module docstring and the pilot's README."""

    staff: Annotated[int, Field(ge=0, le=10_000)] | list[StaffSlot] = Field(
        description="agents on duty whenever open, or a list of slots (no slot: nobody on duty)"
    )
    hours: OpeningHours = Field(default_factory=OpeningHours)
    service: Duration = Field(description="time an agent spends on one request")
    service_by_step: dict[str, Duration] = Field(
        default_factory=dict, description="the request type is the step the person was stuck at"
    )
    when_closed: Literal["turn_away", "next_opening"] = Field(
        default="turn_away",
        description="a request while closed gets no answer, or the person comes back on the next open day "
        "(at a moment of its opening hours) and waits from then on, with their patience",
    )
    discipline: Literal["fifo", "priority"] = "fifo"
    priority: dict[str, list[str]] = Field(
        default_factory=dict,
        description="with `priority`: segment attribute -> values served first (e.g. digital_literacy: [none])",
    )
    patience: Duration = Field(
        default_factory=lambda: Duration(median_s=900, sigma=0.6),
        description="how long a person waits before giving up; a persona trait `queue_patience_s` "
        "replaces the median (or mean)",
    )

    @model_validator(mode="after")
    def _priority_needs_groups(self) -> Capacity:
        if self.discipline == "priority" and not self.priority:
            raise ValueError("priority: name the groups served first when discipline is priority")
        return self

    @property
    def max_staff(self) -> int:
        if isinstance(self.staff, int):
            return self.staff
        return max((slot.staff for slot in self.staff), default=0)

    def service_for(self, step_id: str) -> Duration:
        return self.service_by_step.get(step_id, self.service)

    def is_open(self, when: dt.datetime) -> bool:
        """Whether the channel takes new requests at this moment."""
        if DAYS[when.weekday()] not in self.hours.days:
            return False
        second = when.hour * 3600 + when.minute * 60 + when.second
        return clock_s(self.hours.open) <= second < clock_s(self.hours.close)

    def staff_at(self, when: dt.datetime) -> int:
        """Agents on duty at this moment (none while closed)."""
        if not self.is_open(when):
            return 0
        if isinstance(self.staff, int):
            return self.staff
        second = when.hour * 3600 + when.minute * 60 + when.second
        return sum(s.staff for s in self.staff if clock_s(s.start) <= second < clock_s(s.end))

    def boundaries(self) -> list[int]:
        """Seconds of the day where the number on duty may change."""
        marks = {0, clock_s(self.hours.open), clock_s(self.hours.close)}
        if not isinstance(self.staff, int):
            for slot in self.staff:
                marks.update((clock_s(slot.start), clock_s(slot.end)))
        return sorted(m for m in marks if m < 86_400)

    def next_opening(self, when: dt.datetime) -> dt.datetime | None:
        """The first moment from `when` on when the channel is open (None: not within a week)."""
        if self.is_open(when):
            return when
        midnight = when.replace(hour=0, minute=0, second=0, microsecond=0)
        for day in range(8):
            for mark in self.boundaries():
                moment = midnight + dt.timedelta(days=day, seconds=mark)
                if moment > when and self.is_open(moment):
                    return moment
        return None

    def is_prioritised(self, segment: dict[str, str]) -> bool:
        return self.discipline == "priority" and any(
            segment.get(attribute) in values for attribute, values in self.priority.items()
        )
