"""The trust file: which keys may sign runs and reviews, and which anchors count.

It is held by the committee, outside any run (`--trust FILE` or CIVICLAB_TRUST): nothing written
inside a run or a tracking store can make itself trusted.

```yaml
version: 1
labs:                       # keys trusted to sign runs
  - name: Lab Nantes
    public_key: "-----BEGIN PUBLIC KEY-----..."   # PEM, or the JWK "x" (base64url, 32 bytes)
committee:                  # keys trusted to sign reviews
  - name: Dr Martin
    role: chair
    public_key: "..."
anchoring:                  # optional: the only chain, registry and issuer an anchor may use
  rpc_url: http://127.0.0.1:8545
  chain_id: 31337
  registry: "0x..."
  issuer: "0x..."
  max_delay_s: 3600         # the anchor's block must be at most this long after the run ended
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from civiclab.errors import SpecError
from civiclab.evidence.signing.keys import b64url_decode, public_key_id
from civiclab.home import text_setting

TRUST_ENV = "CIVICLAB_TRUST"


def parse_public_key(text: str) -> bytes:
    """Raw Ed25519 public key bytes from PEM or base64url (the JWK `x`)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError:
            raise ValueError("not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        raw = b64url_decode(text)
    except ValueError:
        raise ValueError("neither PEM nor base64url") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key has 32 bytes, this one {len(raw)}")
    return raw


class TrustedKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    public_key: str = Field(min_length=1)

    @field_validator("public_key")
    @classmethod
    def _valid_key(cls, value: str) -> str:
        parse_public_key(value)
        return value

    @property
    def raw(self) -> bytes:
        return parse_public_key(self.public_key)

    @property
    def keyid(self) -> str:
        return public_key_id(self.raw)


class CommitteeMember(TrustedKey):
    role: str = Field(min_length=1)


class AnchorTrust(BaseModel):
    """The chain, registry and issuer an anchor must use to count."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rpc_url: str | None = Field(default=None, description="the node to read; the run's record is never used")
    chain_id: int
    registry: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    issuer: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    max_delay_s: float = Field(default=3600.0, gt=0)


class TrustFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    labs: list[TrustedKey] = Field(default_factory=list)
    committee: list[CommitteeMember] = Field(default_factory=list)
    anchoring: AnchorTrust | None = None

    def lab(self, keyid: str) -> TrustedKey | None:
        return next((k for k in self.labs if k.keyid == keyid), None)

    def member(self, keyid: str) -> CommitteeMember | None:
        return next((k for k in self.committee if k.keyid == keyid), None)

    def lab_keys(self) -> dict[str, bytes]:
        return {k.keyid: k.raw for k in self.labs}

    def member_keys(self) -> dict[str, bytes]:
        return {k.keyid: k.raw for k in self.committee}


def load_trust(path: str | Path | None = None) -> tuple[TrustFile, Path] | None:
    """The trust file given (`--trust`), else CIVICLAB_TRUST, else None (nothing is trusted).

    Raises:
        SpecError: the file is missing or invalid (one line naming the field).
    """
    chosen = path or text_setting(TRUST_ENV)
    if not chosen:
        return None
    file = Path(chosen)
    from civiclab.plugins.experiment import format_location, read_yaml

    data = read_yaml(file)
    try:
        return TrustFile.model_validate(data or {}), file
    except ValidationError as exc:
        err = exc.errors()[0]
        raise SpecError(file, format_location(tuple(err["loc"])), err["msg"]) from None
