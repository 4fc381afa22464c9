"""Where observed telemetry comes from, and whether it is real: `statements:` and `lrs:` say so.

A generated export (the bundled sample, a load test, a dry run of the scene by the lab's staff) read
in observe mode looks exactly like real participants' telemetry. The lab declares it: a source with
`synthetic: true` and a reason makes every metric computed from it SYNTHETIC, so the run can never
give a go on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from civiclab import DataFile


class Provenance(BaseModel):
    """`synthetic: true|false` with a reason, on a source of statements."""

    model_config = ConfigDict(extra="forbid")

    synthetic: bool = Field(default=False, description="the statements are generated, not real people's")
    reason: str | None = Field(
        default=None, max_length=300, description="why (required when synthetic): how they were made"
    )

    @model_validator(mode="after")
    def _reason_when_synthetic(self) -> Provenance:
        if self.synthetic and not (self.reason or "").strip():
            raise ValueError("reason: say how the statements were generated when synthetic is true")
        return self

    def synthetic_reason(self, source: str) -> str | None:
        """The SYNTHETIC mark of the sessions read from this source, or None when they are real."""
        if not self.synthetic:
            return None
        return f"SYNTHETIC telemetry from {source}: {self.reason} (declared synthetic; not real participants)"


class StatementsFile(Provenance):
    """`statements:` as a mapping: the export's path and whether it is real."""

    path: DataFile = Field(description="xAPI statements (JSON array or JSON lines)")


def statements_shorthand(value: Any) -> Any:
    """`statements: FILE` is `statements: {path: FILE}` (a real export)."""
    return {"path": value} if isinstance(value, str) else value


class StoreSource(Provenance):
    """`store:`: civiclab's own statement store (SQLite), where `civiclab journey serve` writes."""

    path: Path = Field(
        description="the store's file, relative to the experiment; created by the first participant"
    )

    @field_validator("path")
    @classmethod
    def _relative_to_spec(cls, value: Path, info: ValidationInfo) -> Path:
        base = (info.context or {}).get("base_dir")
        return (value if value.is_absolute() or base is None else Path(base) / value).resolve()


def store_shorthand(value: Any) -> Any:
    """`store: FILE` is `store: {path: FILE}`."""
    return {"path": value} if isinstance(value, str) else value
