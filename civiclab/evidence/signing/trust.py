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
    role: chair             # chair, member (both review) or observer (reads, never counted)
    public_key: "..."
  - name: Ms Diallo
    role: member
    public_key: "..."
    active: false           # left the committee: her reviews are listed and no longer count
decision:                   # optional: how the counted reviews decide (defaults shown)
  quorum: 1                 # distinct members whose latest review counts
  chair: none               # none, required (no decision without the chair) or decisive (the chair's wins)
  conflicts: hold           # hold (no decision while members differ), reject_wins or revise_wins
  acknowledge_conditions: false   # true: conditions raised must be acknowledged by a later review
anchoring:                  # optional: the only chain, registry and issuer an anchor may use
  rpc_url: http://127.0.0.1:8545
  chain_id: 31337
  registry: "0x..."
  issuer: "0x..."
  max_delay_s: 3600         # the anchor's block must be at most this long after the run ended
```
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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


Role = Literal["chair", "member", "observer"]
REVIEWING_ROLES: frozenset[str] = frozenset({"chair", "member"})


class CommitteeMember(TrustedKey):
    role: Role
    active: bool = Field(default=True, description="false: a former member; their reviews no longer count")

    @property
    def reviews(self) -> bool:
        """Whether this member's reviews count towards a decision."""
        return self.active and self.role in REVIEWING_ROLES


class DecisionRule(BaseModel):
    """How the counted reviews decide: who is needed, how many, and what settles a disagreement."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quorum: int = Field(default=1, ge=1, description="distinct members whose latest review counts")
    chair: Literal["none", "required", "decisive"] = "none"
    conflicts: Literal["hold", "reject_wins", "revise_wins"] = "hold"
    acknowledge_conditions: bool = False


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
    decision: DecisionRule = Field(default_factory=DecisionRule)
    anchoring: AnchorTrust | None = None
    # What was read, for a cache key or a tag saying which trust file a status was computed with.
    sha256: str = Field(default="", exclude=True)

    @model_validator(mode="after")
    def _keys_cannot_be_confused(self) -> TrustFile:
        seen: dict[str, str] = {}
        for where, keys in (("labs", self.labs), ("committee", self.committee)):
            for i, key in enumerate(keys):
                other = seen.get(key.keyid)
                if other is not None:
                    raise ValueError(
                        f"{where}[{i}] ({key.name}): the same key as {other}: a key signs runs or reviews, "
                        "for one person"
                    )
                seen[key.keyid] = f"{where}[{i}] ({key.name})"
        names = [m.name for m in self.committee]
        twice = next((n for n in names if names.count(n) > 1), None)
        if twice is not None:
            raise ValueError(f"committee: {twice!r} is listed twice")
        chairs = [m for m in self.committee if m.role == "chair" and m.active]
        if self.decision.chair != "none" and not chairs:
            raise ValueError(
                f"decision.chair is {self.decision.chair!r} but the committee has no active chair"
            )
        if len(chairs) > 1:
            raise ValueError("committee: more than one active chair")
        reviewers = sum(1 for m in self.committee if m.reviews)
        if self.committee and self.decision.quorum > reviewers:
            raise ValueError(
                f"decision.quorum is {self.decision.quorum} but only {reviewers} active member(s) may review"
            )
        return self

    def lab(self, keyid: str) -> TrustedKey | None:
        return next((k for k in self.labs if k.keyid == keyid), None)

    def member(self, keyid: str) -> CommitteeMember | None:
        return next((k for k in self.committee if k.keyid == keyid), None)

    def lab_keys(self) -> dict[str, bytes]:
        return {k.keyid: k.raw for k in self.labs}

    def member_keys(self) -> dict[str, bytes]:
        return {k.keyid: k.raw for k in self.committee}

    def chair(self) -> CommitteeMember | None:
        return next((m for m in self.committee if m.role == "chair" and m.active), None)

    def reviewer_problem(self, keyid: str) -> str | None:
        """Why the key `keyid` may not sign a review under this trust file, or None when it may."""
        if self.lab(keyid) is not None:
            return "it is a key that signs runs: a lab cannot review its own run"
        member = self.member(keyid)
        if member is None:
            return "the trust file does not list it in the committee"
        if not member.active:
            return f"{member.name} is no longer an active member"
        if member.role not in REVIEWING_ROLES:
            return f"{member.name} is an {member.role}: only the chair and members review"
        return None


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
        trust = TrustFile.model_validate(data or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = format_location(tuple(err["loc"])) or "trust file"
        raise SpecError(file, where, err["msg"].removeprefix("Value error, ")) from None
    return trust.model_copy(update={"sha256": hashlib.sha256(file.read_bytes()).hexdigest()}), file
