"""Who can present an attestation, and how long a verifier takes to check one: a model of people, declared.

The holder: a credential kept in a wallet app needs a device that can hold and show it and the digital
literacy to do so; a paper document (the 2D-Doc baseline, or a credential the town hall also prints as a QR
code) needs neither. Which devices and which literacy are enough is the lab's assumption, written in the
experiment (`pilot.params.people`) and judged per persona of the population model, so the share of people
who can present comes with the groups who cannot. The verifier: seconds to scan, plus seconds per field a
clerk compares by eye (a barcode's decoded fields against the paper; none for a credential whose digest
the software compares), plus the measured machine time of the check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Literacy = Literal["none", "low", "medium", "high"]
LITERACY_ORDER: tuple[str, ...] = ("none", "low", "medium", "high")


class PeopleModel(BaseModel):
    """Assumptions about holders and verifiers, with where they come from."""

    model_config = ConfigDict(extra="forbid")

    devices: list[str] = Field(
        default_factory=lambda: ["smartphone", "tablet", "computer"],
        description="persona devices on which a wallet holds and shows a credential",
    )
    min_literacy: Literacy = Field(
        default="medium", description="digital literacy needed to present from a wallet"
    )
    paper_copy: bool = Field(
        default=False, description="the town hall also hands a printed copy (QR code): anyone can present it"
    )
    scan_s: float = Field(default=5.0, ge=0, description="seconds for a verifier to scan the code")
    compare_s_per_field: float = Field(default=3.0, ge=0, description="seconds to compare one field by eye")
    source: str = Field(
        default="civiclab's default assumptions (no field study): replace with the lab's own observations",
        min_length=10,
    )


def can_present(segment: Mapping[str, str], people: PeopleModel, *, on_paper: bool) -> bool:
    """Whether a persona of `segment` can present the attestation (paper: always)."""
    if on_paper or people.paper_copy:
        return True
    literacy = segment.get("digital_literacy", "none")
    known = literacy in LITERACY_ORDER
    enough = known and LITERACY_ORDER.index(literacy) >= LITERACY_ORDER.index(people.min_literacy)
    return segment.get("device", "none") in people.devices and enough


def verifier_handling_s(people: PeopleModel, fields_compared: int) -> float:
    """Seconds a verifier's hands and eyes spend on one check: scan, then compare fields by eye.

    The machine time of the check is measured apart (the session's `timings`): the record stays the same
    when a session is replayed."""
    return people.scan_s + fields_compared * people.compare_s_per_field
