"""Attestation files that travel with a document, and their verification.

The file follows the W3C Verifiable Credentials 2.0 data model where it fits: `issuer`, `validFrom`,
`credentialSubject` (a salted digest of the document, never its content), `credentialStatus` (the
on-chain registry where revocation is read). Its `proof` is not a signature but a Merkle inclusion
proof of the document's leaf in a root the issuer anchored on chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from civiclab.evm import StatusSource, describe
from pilots.attestation.documents import MalformedDocument, document_digest, parse_document
from pilots.attestation.merkle import leaf_hash, verify_proof

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
HEX32 = r"^0x[0-9a-f]{64}$"

Reason = Literal[
    "accepted",
    "malformed_attestation",
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


class InclusionProof(_Model):
    type: Literal["CivicLabMerkleInclusion2026"] = "CivicLabMerkleInclusion2026"
    root: str = Field(pattern=HEX32)
    path: list[str] = Field(default_factory=list, max_length=64)
    salt: str = Field(pattern=HEX32)
    anchorTx: str | None = None
    anchorBlock: int | None = None


class AttestationFile(_Model):
    """One attestation as the citizen holds it, next to the document itself."""

    context: list[str] = Field(alias="@context", min_length=1)
    type: list[str] = Field(min_length=1)
    issuer: str = Field(pattern=r"^did:pkh:eip155:\d+:0x[0-9a-fA-F]{40}$")
    validFrom: str
    credentialSubject: Subject
    credentialStatus: CredentialStatus
    proof: InclusionProof

    @property
    def issuer_address(self) -> str:
        return self.issuer.rsplit(":", 1)[1]

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


def build_attestation(
    *,
    kind: str,
    digest: bytes,
    salt: bytes,
    root: bytes,
    path: list[bytes],
    issuer: str,
    registry: StatusSource,
    valid_from: str,
    anchor_tx: str | None = None,
    anchor_block: int | None = None,
) -> AttestationFile:
    leaf = leaf_hash(digest)
    return AttestationFile.model_validate(
        {
            "@context": [VC_CONTEXT],
            "type": ["VerifiableCredential", "CivicLabAttestation"],
            "issuer": f"did:pkh:eip155:{registry.chain_id}:{issuer}",
            "validFrom": valid_from,
            "credentialSubject": {"type": kind, "digest": hex32(digest)},
            "credentialStatus": {
                "id": f"{describe(registry)}#{hex32(root)}/{hex32(leaf)}",
                "registry": describe(registry),
            },
            "proof": {
                "root": hex32(root),
                "path": [hex32(p) for p in path],
                "salt": hex32(salt),
                "anchorTx": anchor_tx,
                "anchorBlock": anchor_block,
            },
        }
    )


@dataclass(frozen=True)
class Verification:
    """A verifier's answer: accepted or not, and the first check that failed."""

    accepted: bool
    reason: Reason


def _reject(reason: Reason) -> Verification:
    return Verification(False, reason)


def verify(document: Any, attestation: Any, registry: StatusSource) -> Verification:
    """Check a presented document against its attestation and the registry the verifier trusts.

    Recomputes the leaf from the document and its salt, checks the inclusion proof against the
    attested root, then reads on chain that the claimed issuer is authorised, anchored that root,
    and has not revoked this leaf. Never raises on bad input: a bad file is a rejection.
    """
    try:
        att = (
            attestation
            if isinstance(attestation, AttestationFile)
            else AttestationFile.model_validate(attestation)
        )
        salt = bytes.fromhex(att.proof.salt[2:])
        root = bytes.fromhex(att.proof.root[2:])
        path = [bytes.fromhex(p[2:]) for p in att.proof.path]
    except (ValidationError, ValueError, TypeError):
        return _reject("malformed_attestation")
    if att.credentialStatus.registry.lower() != describe(registry).lower() or not att.issuer.startswith(
        f"did:pkh:eip155:{registry.chain_id}:"
    ):
        return _reject("wrong_registry")
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
    status = registry.status(root, leaf, att.issuer_address)
    if not status.issuer_authorised:
        return _reject("unknown_issuer")
    if not status.anchored:
        return _reject("root_not_anchored")
    if status.root_issuer.lower() != att.issuer_address.lower():
        return _reject("issuer_mismatch")
    if status.revoked:
        return _reject("revoked")
    return Verification(True, "accepted")
