"""What a lab states of its published outputs and of who designed the pilot with it.

- An open output is *published*: a name, where it is (an https address, or a path the lab ships), and
  its licence as an SPDX identifier. A name alone (`open_outputs: [code]`, the older form) is a
  declaration, not a publication.
- Co-design counts the people who took part in designing the pilot: public agents (front-desk staff,
  mediators, case workers) and citizens, per activity (workshop, test session, interview). A committee
  that reviews the result oversees it; it does not co-construct it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

OPEN_LICENCES = frozenset(
    {
        # Open-source licences (OSI approved) a public body uses for code.
        "EUPL-1.2",
        "EUPL-1.1",
        "MIT",
        "Apache-2.0",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "GPL-2.0-or-later",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "AGPL-3.0-only",
        "AGPL-3.0-or-later",
        "LGPL-3.0-or-later",
        "MPL-2.0",
        "CECILL-2.1",
        "CECILL-B",
        "CECILL-C",
        # Open licences for data and documents (France's Licence Ouverte 2.0 is etalab-2.0 in SPDX).
        "etalab-2.0",
        "ODbL-1.0",
        "ODC-By-1.0",
        "PDDL-1.0",
        "CC0-1.0",
        "CC-BY-4.0",
        "CC-BY-SA-4.0",
    }
)
"""SPDX identifiers of the licences that make an output reusable by anyone (the French administration's
list of licences for code and data, decree 2017-638, and the OSI/Open Definition licences it draws on)."""


class OpenOutput(BaseModel):
    """One output published for reuse: what, where, under which licence."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    location: str | None = Field(
        default=None, min_length=1, description="an https address, or a path of the lab's repository"
    )
    licence: str | None = Field(
        default=None, min_length=1, description="an SPDX identifier (EUPL-1.2, etalab-2.0...)"
    )


class CoDesignActivity(BaseModel):
    """A design activity and how many public agents and citizens took part in it."""

    model_config = ConfigDict(extra="forbid")

    activity: str = Field(min_length=1, description="workshop, test session, interviews...")
    date: str | None = None
    agents: int = Field(default=0, ge=0, description="public agents who took part (front desk, mediators...)")
    citizens: int = Field(default=0, ge=0, description="citizens who took part, users of the service")
    changed: str | None = Field(default=None, description="what the activity changed in the pilot's design")
