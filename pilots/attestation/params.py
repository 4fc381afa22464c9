"""Parameters of the attestation pilot, as an experiment writes them under `pilot.params`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pilots.attestation.eas import EasSystem
from pilots.attestation.http_service import HttpAttestationSystem
from pilots.attestation.people import PeopleModel

ScenarioName = Literal[
    "genuine",
    "reformatted",
    "altered",
    "forged",
    "revoked",
    "unknown_issuer",
    "malformed",
    "expired",
    "checked_before_revocation",
]
SCENARIOS: tuple[str, ...] = (
    "genuine",
    "reformatted",
    "altered",
    "forged",
    "revoked",
    "unknown_issuer",
    "malformed",
    "expired",
    "checked_before_revocation",
)
KindName = Literal["residence", "civil_status", "diploma"]
DEFAULT_KINDS: dict[KindName, float] = {"residence": 0.5, "civil_status": 0.3, "diploma": 0.2}
# What a correct verifier must answer for each scenario.
EXPECTED: dict[str, str] = {
    "genuine": "accept",
    "reformatted": "accept",
    "altered": "reject",
    "forged": "reject",
    "revoked": "reject",
    "unknown_issuer": "reject",
    "malformed": "reject",
    "expired": "reject",
    "checked_before_revocation": "accept",
}
# Scenarios in which the town hall really issued (and anchored) the attestation.
ISSUED: frozenset[str] = frozenset(
    {"genuine", "reformatted", "altered", "revoked", "malformed", "expired", "checked_before_revocation"}
)
# Scenarios whose attestation the town hall revokes after issuing it.
REVOKED: frozenset[str] = frozenset({"revoked", "checked_before_revocation"})
# Scenarios whose right answer depends on WHEN the verifier asks: status at a time.
TIME_DEPENDENT: frozenset[str] = frozenset({"revoked", "expired", "checked_before_revocation"})

DEFAULT_MIX: dict[ScenarioName, float] = {
    "genuine": 0.56,
    "reformatted": 0.1,
    "altered": 0.08,
    "forged": 0.06,
    "revoked": 0.05,
    "unknown_issuer": 0.05,
    "malformed": 0.04,
    "expired": 0.03,
    "checked_before_revocation": 0.03,
}


class AttestationParams(BaseModel):
    """How the town hall issues attestations and what verifiers are shown."""

    model_config = ConfigDict(extra="forbid")

    strategy: Literal["merkle", "per_document"] = Field(
        default="merkle", description="one transaction per batch (Merkle root) or one per document (baseline)"
    )
    batch_size: int = Field(default=64, ge=1, le=100_000, description="attestations per Merkle root")
    max_batch_wait_s: float = Field(
        default=4 * 3600,
        gt=0,
        description="a batch closes when full or when its first request waited this long",
    )
    rpc_url: str | None = Field(
        default=None,
        pattern=r"^(in-process|https?://\S+)$",
        description="JSON-RPC node; default: in-process chain",
    )
    registry: str | None = Field(
        default=None,
        pattern=r"^0x[0-9a-fA-F]{40}$",
        description="an already deployed registry (else deploy one)",
    )
    key_env: str | None = Field(
        default=None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="env var holding the issuer's key (real nodes)",
    )
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    block_time_s: float = Field(
        default=12.0, gt=0, description="the chain's block interval, for the session clock of inclusion"
    )
    scenarios: dict[ScenarioName, float] = Field(default_factory=lambda: dict(DEFAULT_MIX))
    kinds: dict[KindName, float] = Field(default_factory=lambda: dict(DEFAULT_KINDS))
    salts: Literal["derived", "random"] = Field(
        default="derived",
        description="derived from the run's pseudonym salt (reproducible audit root) or drawn by a CSPRNG "
        "(what a real issuer must do: then the audit root differs from run to run)",
    )
    validity_days: float = Field(
        default=90, gt=0, le=36_500, description="validFrom to validUntil (a proof of residence: 3 months)"
    )
    system: Annotated[HttpAttestationSystem | EasSystem, Field(discriminator="kind")] | None = Field(
        default=None,
        description="the lab's own service instead of the built-in registry: an HTTP issuer and verifier, or EAS",
    )
    people: PeopleModel = Field(
        default_factory=PeopleModel, description="who can present from a wallet; a verifier's handling times"
    )
    sample_credentials: int = Field(
        default=5, ge=0, le=100, description="attestation files kept as artifacts"
    )

    @model_validator(mode="after")
    def _mixes(self) -> AttestationParams:
        for name, mix in (("scenarios", self.scenarios), ("kinds", self.kinds)):
            if any(w < 0 for w in mix.values()) or sum(mix.values()) <= 0:
                raise ValueError(f"{name}: weights must be >= 0 with a positive sum")
        if isinstance(self.system, HttpAttestationSystem) and self.scenarios.get("unknown_issuer", 0) > 0:
            raise ValueError(
                "scenarios.unknown_issuer: needs a second issuer, which an HTTP service does not give: set it to 0"
            )
        if self.strategy == "per_document" and self.batch_size != 1:
            self.batch_size = 1
        return self
