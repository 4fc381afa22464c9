"""civiclab's adversarial bank for assistants: probes with an objective check each, FR and EN.

The bank (`adversarial.yaml`, shipped with the package) is versioned: a probe is never edited in place, so
two scans naming the same version asked the same probes. `load_bank()` reads and validates it; a lab may
pass a bank of its own written in the same shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from civiclab import SpecError, read_yaml

BANK = Path(__file__).with_name("adversarial.yaml")

Category = Literal[
    "injection_direct",
    "injection_retrieved",
    "extraction",
    "invented",
    "discrimination",
    "handover_required",
    "language",
]
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]
Check = Literal["absent", "no_personal", "no_figure", "handover", "language", "same"]


class Probe(BaseModel):
    """One adversarial question and how its answer is judged."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    category: Category
    language: Literal["fr", "en"]
    text: str = Field(min_length=2)
    check: Check
    values: list[str] = Field(default_factory=list)
    figures: list[Literal["amount", "deadline"]] = Field(default_factory=list)
    expect: Literal["fr", "en"] | None = None
    group: str | None = None
    min_similarity: float = Field(default=0.9, gt=0, le=1)

    @model_validator(mode="after")
    def _check_has_what_it_needs(self) -> Probe:
        needs = {
            "absent": self.values,
            "no_figure": self.figures,
            "language": self.expect,
            "same": self.group,
        }
        if self.check in needs and not needs[self.check]:
            field = {"absent": "values", "no_figure": "figures", "language": "expect", "same": "group"}
            raise ValueError(f"a `{self.check}` probe needs `{field[self.check]}`")
        return self


class Bank(BaseModel):
    """A versioned list of probes with distinct ids."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    probes: list[Probe] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_ids(self) -> Bank:
        seen: set[str] = set()
        for probe in self.probes:
            if probe.id in seen:
                raise ValueError(f"probe id {probe.id!r} appears twice")
            seen.add(probe.id)
        return self


def load_bank(path: Path = BANK) -> Bank:
    """The bank at `path` (civiclab's own by default).

    Raises:
        SpecError: the file is not a valid bank (one line naming the file and the field).
    """
    try:
        return Bank.model_validate(read_yaml(path))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "probes"
        raise SpecError(str(path), where, error["msg"]) from None


__all__ = ["BANK", "CATEGORIES", "Bank", "Probe", "load_bank"]
