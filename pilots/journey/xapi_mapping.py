"""Which xAPI activity is which journey step: the `steps:` mapping of observe mode.

Authoring tools name their activities as they like, so a lab says how an activity id (or its
`definition.type`) maps to a step of the journey graph, to an assistance point, or to the journey
as a whole. Activities that match nothing are kept as "unmapped" and reported, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pilots.journey.model import Journey

Target = Literal["step", "assistance", "journey", "unmapped"]


class Matcher(BaseModel):
    """How an activity is recognised: exactly one of `id`, `prefix`, `regex` or `type`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(default=None, description="the activity id, exactly")
    prefix: str | None = Field(default=None, description="activity ids starting with this")
    regex: str | None = Field(default=None, description="activity ids this regular expression finds")
    type: str | None = Field(default=None, description="the activity's definition.type IRI")

    @model_validator(mode="after")
    def _one_matcher(self) -> Matcher:
        given = [k for k in ("id", "prefix", "regex", "type") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of id, prefix, regex, type (got {', '.join(given) or 'none'})"
            )
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex: not a regular expression: {exc}") from None
        return self

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        return re.compile(self.regex) if self.regex is not None else None

    def match(self, activity_id: str, activity_type: str | None) -> re.Match[str] | bool:
        """A regex match (its groups may name the target), True for the other matchers, or False."""
        if self.id is not None:
            return activity_id == self.id
        if self.prefix is not None:
            return activity_id.startswith(self.prefix)
        if self.type is not None:
            return activity_type == self.type
        assert self._pattern is not None
        return self._pattern.search(activity_id) or False


class StepRule(Matcher):
    """Activities of one step; a `regex` with a `(?P<step>...)` group may name the step itself."""

    step: str | None = None

    @model_validator(mode="after")
    def _names_a_step(self) -> StepRule:
        if self.step is None and (self._pattern is None or "step" not in self._pattern.groupindex):
            raise ValueError("step: required unless regex has a (?P<step>...) group")
        return self


class AssistanceRule(Matcher):
    """Activities of one assistance point (a person reached); `(?P<point>...)` may name it."""

    point: str | None = None

    @model_validator(mode="after")
    def _names_a_point(self) -> AssistanceRule:
        if self.point is None and (self._pattern is None or "point" not in self._pattern.groupindex):
            raise ValueError("point: required unless regex has a (?P<point>...) group")
        return self


class StepsMapping(BaseModel):
    """`steps:` in the pilot params: activities to journey steps, assistance points and the journey."""

    model_config = ConfigDict(extra="forbid")

    journey: Matcher = Field(description="the activity that means the whole journey")
    map: list[StepRule] = Field(default_factory=list, description="activities of each step")
    assistance: list[AssistanceRule] = Field(default_factory=list, description="assistance points")


def default_mapping(journey: Journey) -> StepsMapping:
    """civiclab's own convention: `.../steps/STEP_ID`, `.../assistance/ID`, `.../JOURNEY_ID`."""
    return StepsMapping(
        journey=Matcher(regex=rf"/{re.escape(journey.id)}/?$"),
        map=[StepRule(regex=r"/steps/(?P<step>[^/?#]+)/?$")],
        assistance=[AssistanceRule(regex=r"/assistance/(?P<point>[^/?#]+)/?$")],
    )


def unknown_targets(mapping: StepsMapping, journey: Journey) -> list[tuple[str, str]]:
    """(field path, problem) for each rule naming a step or point the journey does not have."""
    steps = {s.id for s in journey.steps}
    points = {a.id for a in journey.assistance_points}
    problems: list[tuple[str, str]] = []
    for i, rule in enumerate(mapping.map):
        if rule.step is not None and rule.step not in steps:
            problems.append(
                (f"map[{i}].step", f"unknown step {rule.step!r} (steps: {', '.join(sorted(steps))})")
            )
    for i, arule in enumerate(mapping.assistance):
        if arule.point is not None and arule.point not in points:
            problems.append((f"assistance[{i}].point", f"unknown assistance point {arule.point!r}"))
    return problems


@dataclass(frozen=True, slots=True)
class Resolved:
    kind: Target
    target: str | None = None


_UNMAPPED = Resolved("unmapped")


class ActivityMap:
    """Resolves activities: an exact `id` wins, then step rules in order, assistance, the journey."""

    def __init__(self, mapping: StepsMapping, journey: Journey) -> None:
        self.mapping = mapping
        self.steps = {s.id for s in journey.steps}
        self.points = {a.id for a in journey.assistance_points}
        self._exact: dict[str, Resolved] = {}
        for rule in mapping.map:
            if rule.id is not None and rule.step is not None:
                self._exact.setdefault(rule.id, Resolved("step", rule.step))
        for arule in mapping.assistance:
            if arule.id is not None and arule.point is not None:
                self._exact.setdefault(arule.id, Resolved("assistance", arule.point))
        if mapping.journey.id is not None:
            self._exact.setdefault(mapping.journey.id, Resolved("journey"))
        # Thousands of statements name the same few activities: resolve each (id, type) once.
        self._cache: dict[tuple[str, str | None], Resolved] = {}

    def resolve(self, activity_id: str, activity_type: str | None = None) -> Resolved:
        key = (activity_id, activity_type)
        found = self._cache.get(key)
        if found is None:
            found = self._exact.get(activity_id) or self._resolve(activity_id, activity_type)
            self._cache[key] = found
        return found

    def _resolve(self, activity_id: str, activity_type: str | None) -> Resolved:
        for rule in self.mapping.map:
            hit = rule.match(activity_id, activity_type)
            if hit:
                step = rule.step or (hit.group("step") if isinstance(hit, re.Match) else None)
                if step in self.steps:
                    return Resolved("step", step)
        for arule in self.mapping.assistance:
            hit = arule.match(activity_id, activity_type)
            if hit:
                point = arule.point or (hit.group("point") if isinstance(hit, re.Match) else None)
                if point in self.points:
                    return Resolved("assistance", point)
        if self.mapping.journey.match(activity_id, activity_type):
            return Resolved("journey")
        return _UNMAPPED
