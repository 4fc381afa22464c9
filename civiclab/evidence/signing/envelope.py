"""DSSE envelopes (Dead Simple Signing Envelope v1) over RFC 8785 canonical JSON.

A signature covers PAE(payloadType, payload), never the JSON around it, so re-indenting an
envelope cannot break it and no field outside the signed bytes can be trusted.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from civiclab.errors import SigningError
from civiclab.evidence.signing.keys import Signer

IN_TOTO = "application/vnd.in-toto+json"


def canonical(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes of a JSON value: what is signed and what digests are taken of."""
    import rfc8785

    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError) as exc:
        raise SigningError(f"cannot canonicalise the statement: {exc}") from None


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


class Signature(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keyid: str
    sig: str


class Envelope(BaseModel):
    """A DSSE envelope as stored in `statement.dsse.json` or a review file."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    payload: str
    payload_type: str = Field(alias="payloadType")
    signatures: list[Signature] = Field(min_length=1)

    def payload_bytes(self) -> bytes:
        try:
            return base64.b64decode(self.payload, validate=True)
        except ValueError:
            raise SigningError("envelope payload is not base64") from None

    def statement(self) -> dict[str, Any]:
        try:
            value = json.loads(self.payload_bytes())
        except ValueError:
            raise SigningError("envelope payload is not JSON") from None
        if not isinstance(value, dict):
            raise SigningError("envelope payload is not a JSON object")
        return value

    def digest(self) -> str:
        """sha256 of the signed payload: the statement's digest, tagged, anchored and reviewed."""
        return hashlib.sha256(self.payload_bytes()).hexdigest()

    def to_json(self) -> str:
        return json.dumps(self.model_dump(by_alias=True), indent=1)


def sign_statement(statement: dict[str, Any], signer: Signer, payload_type: str = IN_TOTO) -> Envelope:
    payload = canonical(statement)
    sig = signer.sign(pae(payload_type, payload))
    return Envelope(
        payload=base64.b64encode(payload).decode(),
        payloadType=payload_type,
        signatures=[Signature(keyid=signer.keyid, sig=base64.b64encode(sig).decode())],
    )


def read_envelope(text: str | bytes) -> Envelope:
    try:
        return Envelope.model_validate_json(text)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise SigningError(f"not a DSSE envelope: {first}") from None


def verify_signature(envelope: Envelope, public_keys: dict[str, bytes]) -> str | None:
    """The key id of the first signature made by one of `public_keys` (keyid -> raw Ed25519 key).

    Returns None when no signature verifies with those keys.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    message = pae(envelope.payload_type, envelope.payload_bytes())
    for signature in envelope.signatures:
        raw = public_keys.get(signature.keyid)
        if raw is None:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(signature.sig), message)
        except (InvalidSignature, ValueError):
            continue
        return signature.keyid
    return None
