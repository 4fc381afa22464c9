"""Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite, and `did:key` identifiers for Ed25519 keys.

Implements "Data Integrity EdDSA Cryptosuites v1.0" (W3C), §3.3: the proof configuration (the proof
options with the document's `@context`) and the document without its proof are each canonicalised with
JCS (RFC 8785) and hashed with SHA-256; the signature is Ed25519 over `hash(config) ‖ hash(document)`,
written as `proofValue` in multibase base58-btc (`z…`). The verification method is a `did:key` (Multikey:
multicodec 0xed01 then the 32-byte public key, in base58-btc).

Why this suite rather than `eddsa-rdfc-2022` or an SD-JWT VC: JCS needs no JSON-LD processing (no
context fetching, no RDF canonicalisation), so a verifier checks a credential offline with a JSON
canonicaliser and Ed25519 — civiclab does so with `rfc8785` and `cryptography` — while the credential
stays a W3C Verifiable Credential that independent libraries (Digital Bazaar's `data-integrity` and
`eddsa-jcs-2022-cryptosuite`, the reference implementations of the suite) verify as they are.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CRYPTOSUITE = "eddsa-jcs-2022"
ED25519_MULTICODEC = b"\xed\x01"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


class ProofError(ValueError):
    """A proof that cannot be checked (wrong type, bad encoding): a rejection, never a crash."""


class DataIntegrityProof(BaseModel):
    """The `proof` of a credential secured with `eddsa-jcs-2022`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: str = Field(pattern=r"^DataIntegrityProof$")
    cryptosuite: str = Field(pattern=rf"^{CRYPTOSUITE}$")
    created: str | None = None
    verificationMethod: str = Field(pattern=r"^did:key:z[1-9A-HJ-NP-Za-km-z]+#z[1-9A-HJ-NP-Za-km-z]+$")
    proofPurpose: str = Field(pattern=r"^assertionMethod$")
    proofValue: str = Field(pattern=r"^z[1-9A-HJ-NP-Za-km-z]+$")
    context: Any = Field(default=None, alias="@context")


_CHUNK = 58**10


def b58encode(data: bytes) -> str:
    """Base58 (Bitcoin alphabet); leading zero bytes become '1's."""
    # Ten digits per big-integer division: the small divisions after are cheap machine-size ones.
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, chunk = divmod(number, _CHUNK)
        for _ in range(10):
            chunk, rem = divmod(chunk, 58)
            digits.append(_B58[rem])
    out = "".join(reversed(digits)).lstrip("1")
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _B58_INDEX:
            raise ProofError("not base58-btc")
        number = number * 58 + _B58_INDEX[char]
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


@functools.lru_cache(maxsize=1024)
def did_key(public_key: bytes) -> str:
    """`did:key:z6Mk…` of an Ed25519 public key (32 bytes)."""
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return "did:key:z" + b58encode(ED25519_MULTICODEC + public_key)


def verification_method(public_key: bytes) -> str:
    """The `did:key` verification method of a key: `did:key:z6Mk…#z6Mk…`."""
    did = did_key(public_key)
    return f"{did}#{did.removeprefix('did:key:')}"


@functools.lru_cache(maxsize=1024)
def public_key_of(did: str) -> bytes:
    """The Ed25519 public key a `did:key` (or one of its verification methods) names."""
    did = did.split("#", 1)[0]
    if not did.startswith("did:key:z"):
        raise ProofError("not a did:key in base58-btc")
    raw = b58decode(did.removeprefix("did:key:z"))
    if len(raw) != 34 or raw[:2] != ED25519_MULTICODEC:
        raise ProofError("not an Ed25519 did:key")
    return raw[2:]


def issuer_signing_key(secret: str | None) -> Any:
    """The issuer's Ed25519 key: derived from `secret` (the same run gives the same credentials), or drawn
    at random when `secret` is None, as a real issuer's key must be (and kept in its HSM)."""
    import hmac

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if secret is None:
        return Ed25519PrivateKey.generate()
    seed = hmac.new(secret.encode(), b"attestation-issuer-key:eddsa-jcs-2022", hashlib.sha256).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


_SAFE_INT = 2**53 - 1


def _plain(value: Any) -> bool:
    """JSON where orjson's sorted, compact output IS RFC 8785: no float (JCS writes numbers as ECMAScript
    does), integers an IEEE double holds exactly, and keys inside the Basic Multilingual Plane (JCS sorts
    keys by UTF-16 code units, orjson by code points: they differ only above U+FFFF)."""
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -_SAFE_INT <= value <= _SAFE_INT
    if isinstance(value, dict):
        return all(
            isinstance(k, str) and (k.isascii() or max(k) <= "\uffff") and _plain(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return False


@functools.lru_cache(maxsize=64)
def public_bytes(private_key: Any) -> bytes:
    """The raw public key of an Ed25519 private key (cached: an issuer signs many credentials)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return bytes(private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def _jcs(value: Any) -> bytes:
    """RFC 8785 canonical JSON: orjson where its output is the same (10x faster), else the `rfc8785` package."""
    import orjson
    import rfc8785

    if _plain(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # e.g. a lone surrogate: rfc8785 says why
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError) as exc:
        raise ProofError(f"cannot canonicalise with JCS: {exc}") from None


@functools.lru_cache(maxsize=256)
def _config_hash(config: bytes) -> bytes:
    # Every credential of one issuance shares its proof configuration (suite, time, key, context).
    return hashlib.sha256(config).digest()


def _hash_data(document: dict[str, Any], config: dict[str, Any]) -> bytes:
    """§3.3.4-3.3.6: SHA-256(JCS(proof configuration)) ‖ SHA-256(JCS(document without its proof))."""
    return _config_hash(_jcs(config)) + hashlib.sha256(_jcs(document)).digest()


def add_proof(document: dict[str, Any], private_key: Any, *, created: str | None = None) -> dict[str, Any]:
    """The document secured with an `eddsa-jcs-2022` proof by `private_key` (an `Ed25519PrivateKey`).

    `created` is the proof's creation time (XML Schema dateTime); the pilot passes its session clock.
    """

    unsecured = {k: v for k, v in document.items() if k != "proof"}
    public = public_bytes(private_key)
    options: dict[str, Any] = {"type": "DataIntegrityProof", "cryptosuite": CRYPTOSUITE}
    if created is not None:
        options["created"] = created
    options |= {"verificationMethod": verification_method(public), "proofPurpose": "assertionMethod"}
    if "@context" in unsecured:
        # §3.3.1 step 2: the proof carries the document's context, and is signed with it.
        options["@context"] = copy.deepcopy(unsecured["@context"])  # small: a list of URLs
    signature = private_key.sign(_hash_data(unsecured, options))
    # A shallow copy: the secured document shares its nested values with `document` (neither is changed here).
    return {**unsecured, "proof": {**options, "proofValue": "z" + b58encode(signature)}}


def verify_signature(secured: dict[str, Any]) -> bool:
    """Whether `secured.proof` is a valid `eddsa-jcs-2022` signature by its verification method's key (§3.3.2).

    Says nothing about who that key belongs to: the caller checks it against the issuer it trusts.
    Never raises on bad input.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from pydantic import ValidationError

    try:
        proof = DataIntegrityProof.model_validate(secured["proof"])
        options = {k: v for k, v in secured["proof"].items() if k != "proofValue"}
        unsecured = {k: v for k, v in secured.items() if k != "proof"}
        if "@context" in options:
            # The proof's context must open the document's (in order); the document is then checked with it.
            ctx = options["@context"]
            doc_ctx = unsecured.get("@context")
            ctx_list = ctx if isinstance(ctx, list) else [ctx]
            doc_list = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
            if doc_list[: len(ctx_list)] != ctx_list:
                return False
            unsecured["@context"] = ctx
        signature = b58decode(proof.proofValue[1:])
        key = Ed25519PublicKey.from_public_bytes(public_key_of(proof.verificationMethod))
        key.verify(signature, _hash_data(unsecured, options))
    except (KeyError, TypeError, AttributeError, ValidationError, ProofError, ValueError, InvalidSignature):
        return False
    return True
