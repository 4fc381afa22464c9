"""Attestation files that travel with a document, and their verification.

The file is a W3C Verifiable Credential 2.0: `issuer` (the town hall's `did:key`), `validFrom`,
`credentialSubject` (a salted digest of the document, never its content), `credentialStatus` (the
on-chain registry where revocation is read), `evidence` (the Merkle inclusion proof of the document's
leaf in a root the town hall anchored on chain, `CivicLabMerkleInclusion2026`) and `proof`, a Data
Integrity proof (`eddsa-jcs-2022`, see `dataintegrity`) by the issuer's Ed25519 key over all of it.
The signature is checked offline, by any Data Integrity verifier; the status is the registry's, read
online or from a synced view, and judged AT A TIME: was the credential within `validFrom`/`validUntil`,
was its root anchored by an account authorised when it anchored, was it revoked before that time?
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from civiclab.evm import OPEN_END, StatusSource, describe
from pilots.attestation.dataintegrity import (
    DataIntegrityProof,
    add_proof,
    did_key,
    public_bytes,
    verify_signature,
)
from pilots.attestation.documents import MalformedDocument, document_digest, parse_document
from pilots.attestation.merkle import leaf_hash, verify_proof

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
HEX32 = r"^0x[0-9a-f]{64}$"

Reason = Literal[
    "accepted",
    "malformed_attestation",
    "invalid_signature",
    "wrong_signer",
    "untrusted_issuer",
    "key_not_valid_at_issuance",
    "not_yet_valid",
    "expired",
    "malformed_document",
    "wrong_registry",
    "document_mismatch",
    "invalid_proof",
    "unknown_issuer",
    "root_not_anchored",
    "issuer_mismatch",
    "revoked",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Subject(_Model):
    type: Literal["residence", "civil_status", "diploma"]
    digest: str = Field(pattern=HEX32, description="sha256(domain ‖ salt ‖ canonical document)")


class CredentialStatus(_Model):
    id: str
    type: Literal["CivicLabRegistryRevocation2026"] = "CivicLabRegistryRevocation2026"
    registry: str = Field(pattern=r"^eip155:\d+:0x[0-9a-fA-F]{40}$")


class StatusListEntry(_Model):
    """A position in the issuer's W3C Bitstring Status List (see `statuslist`), for offline status checks."""

    id: str
    type: Literal["BitstringStatusListEntry"]
    statusPurpose: Literal["revocation"]
    statusListIndex: str = Field(pattern=r"^\d+$")
    statusListCredential: str


class InclusionProof(_Model):
    """The registry's evidence: where the document's leaf sits in a root `anchoredBy` put on chain."""

    type: Literal["CivicLabMerkleInclusion2026"] = "CivicLabMerkleInclusion2026"
    anchoredBy: str = Field(pattern=r"^did:pkh:eip155:\d+:0x[0-9a-fA-F]{40}$")
    root: str = Field(pattern=HEX32)
    path: list[str] = Field(default_factory=list, max_length=64)
    salt: str = Field(pattern=HEX32)
    anchorTx: str | None = None
    anchorBlock: int | None = None


class AttestationFile(_Model):
    """One attestation as the citizen holds it, next to the document itself."""

    context: list[str] = Field(alias="@context", min_length=1)
    type: list[str] = Field(min_length=1)
    issuer: str = Field(pattern=r"^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$")
    description: str | None = None
    validFrom: str
    validUntil: str | None = None
    credentialSubject: Subject
    credentialStatus: CredentialStatus | list[CredentialStatus | StatusListEntry]
    evidence: list[InclusionProof] = Field(min_length=1, max_length=1)
    proof: DataIntegrityProof

    @property
    def inclusion(self) -> InclusionProof:
        return self.evidence[0]

    @property
    def registry_status(self) -> CredentialStatus | None:
        """The on-chain registry entry of `credentialStatus` (one, or one of a list)."""
        entries = (
            self.credentialStatus if isinstance(self.credentialStatus, list) else [self.credentialStatus]
        )
        return next((e for e in entries if isinstance(e, CredentialStatus)), None)

    @property
    def anchor_address(self) -> str:
        """The account that anchored the root, as the evidence names it."""
        return self.inclusion.anchoredBy.rsplit(":", 1)[1]

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


def unix_time(stamp: str) -> int:
    """Unix seconds of an XML Schema dateTime as credentials write it (`2026-03-02T10:15:00Z`)."""
    when = dt.datetime.fromisoformat(stamp)
    if when.tzinfo is None:
        raise ValueError(f"{stamp}: a credential's time must carry its offset")
    return int(when.timestamp())


def iso_time(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer a verifier trusts: its account on the registry, and when its signing key was the issuer's.

    A rotated key keeps vouching for the credentials it signed while it was valid (`validFrom` within
    [valid_from, valid_until)); credentials it signs after are refused.
    """

    account: str
    valid_from: int = 0
    valid_until: int = OPEN_END


def build_attestation(
    *,
    signing_key: Any,
    kind: str,
    digest: bytes,
    salt: bytes,
    root: bytes,
    path: list[bytes],
    issuer: str,
    registry: StatusSource,
    valid_from: str,
    valid_until: str | None = None,
    anchor_tx: str | None = None,
    anchor_block: int | None = None,
    description: str | None = None,
    status_entry: Mapping[str, Any] | None = None,
) -> AttestationFile:
    """The credential for one document, signed by `signing_key` (Ed25519) at `valid_from`.

    `issuer` is the account that anchored `root` on `registry`; `description` is shown to whoever reads
    the file (the pilot writes there that the document is SYNTHETIC); `status_entry` (`statuslist.entry`)
    adds a position in a W3C Bitstring Status List beside the registry's entry.
    """

    leaf = leaf_hash(digest)
    public = public_bytes(signing_key)
    evidence: dict[str, Any] = {
        "type": "CivicLabMerkleInclusion2026",
        "anchoredBy": f"did:pkh:eip155:{registry.chain_id}:{issuer}",
        "root": hex32(root),
        "path": [hex32(p) for p in path],
        "salt": hex32(salt),
    }
    if anchor_tx is not None:
        evidence |= {"anchorTx": anchor_tx, "anchorBlock": anchor_block}
    unsigned: dict[str, Any] = {
        "@context": [VC_CONTEXT],
        "type": ["VerifiableCredential", "CivicLabAttestation"],
        "issuer": did_key(public),
        "validFrom": valid_from,
        **({"validUntil": valid_until} if valid_until is not None else {}),
        "credentialSubject": {"type": kind, "digest": hex32(digest)},
        "credentialStatus": {
            "id": f"{describe(registry)}#{hex32(root)}/{hex32(leaf)}",
            "type": "CivicLabRegistryRevocation2026",
            "registry": describe(registry),
        },
        "evidence": [evidence],
    }
    if description is not None:
        unsigned["description"] = description
    if status_entry is not None:
        unsigned["credentialStatus"] = [unsigned["credentialStatus"], dict(status_entry)]
    return AttestationFile.model_validate(add_proof(unsigned, signing_key, created=valid_from))


@dataclass(frozen=True)
class Verification:
    """A verifier's answer: accepted or not, and the first check that failed."""

    accepted: bool
    reason: Reason


def _reject(reason: Reason) -> Verification:
    return Verification(False, reason)


def _trusted_issuer(entry: str | TrustedIssuer | None) -> TrustedIssuer | None:
    return TrustedIssuer(entry) if isinstance(entry, str) else entry


def verify(
    document: Any,
    attestation: Any,
    registry: StatusSource,
    trusted: Mapping[str, str | TrustedIssuer],
    *,
    at: int | None = None,
) -> Verification:
    """Check a presented document against its credential, the issuers and the registry the verifier trusts,
    as of unix time `at` (default: the registry's now, its head block's time or the view's last sync).

    `trusted` maps the `did:key` of each issuer the verifier trusts to its account on the registry (with
    the key's validity period, a `TrustedIssuer`). Checks the credential's signature offline (by its
    issuer's key, valid when the credential was issued), its validity period at `at`, recomputes the leaf
    from the document and its salt, checks the inclusion proof against the attested root, then asks the
    registry whether, at `at`, that root was anchored by the issuer's account while it was authorised and
    the leaf not yet revoked. Never raises on bad input: a bad file is a rejection.
    """
    at = registry.now() if at is None else at
    try:
        raw = attestation.as_json() if isinstance(attestation, AttestationFile) else attestation
        att = AttestationFile.model_validate(raw)
        salt = bytes.fromhex(att.inclusion.salt[2:])
        root = bytes.fromhex(att.inclusion.root[2:])
        path = [bytes.fromhex(p[2:]) for p in att.inclusion.path]
        valid_from = unix_time(att.validFrom)
        valid_until = OPEN_END if att.validUntil is None else unix_time(att.validUntil)
    except (ValidationError, ValueError, TypeError):
        return _reject("malformed_attestation")
    if not verify_signature(raw):
        return _reject("invalid_signature")
    if att.proof.verificationMethod.split("#", 1)[0] != att.issuer:
        return _reject("wrong_signer")
    issuer = _trusted_issuer(trusted.get(att.issuer))
    if issuer is None:
        return _reject("untrusted_issuer")
    if not issuer.valid_from <= valid_from < issuer.valid_until:
        return _reject("key_not_valid_at_issuance")
    if at < valid_from:
        return _reject("not_yet_valid")
    if at >= valid_until:
        return _reject("expired")
    status = att.registry_status
    if (
        status is None
        or status.registry.lower() != describe(registry).lower()
        or not att.inclusion.anchoredBy.startswith(f"did:pkh:eip155:{registry.chain_id}:")
    ):
        return _reject("wrong_registry")
    account = issuer.account
    if att.anchor_address.lower() != account.lower():
        return _reject("issuer_mismatch")
    try:
        parsed = parse_document(document)
    except MalformedDocument:
        return _reject("malformed_document")
    digest = document_digest(salt, parsed)
    if parsed.kind != att.credentialSubject.type or hex32(digest) != att.credentialSubject.digest:
        return _reject("document_mismatch")
    leaf = leaf_hash(digest)
    if not verify_proof(leaf, path, root):
        return _reject("invalid_proof")
    judgement = registry.standing(root, leaf, account).judge(at, account)
    if judgement != "accepted":
        return _reject(judgement)
    return Verification(True, "accepted")
