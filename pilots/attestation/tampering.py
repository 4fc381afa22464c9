"""What a verifier is shown in each scenario: the genuine pair, or a re-typed, altered or forged one."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from typing import Any

from civiclab.evm import AttestationRegistry
from pilots.attestation.credential import AttestationFile, build_attestation
from pilots.attestation.dataintegrity import add_proof
from pilots.attestation.documents import FAMILY, document_digest
from pilots.attestation.eas import EasRegistry
from pilots.attestation.merkle import MerkleTree, leaf_hash
from pilots.attestation.prepared import Prepared


def _retyped(document: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The same document typed again: other case, extra spaces, decomposed accents."""
    out = dict(document)
    for key in ("given_name", "family_name", "city", "street", "title", "birth_place"):
        if key in out:
            value = unicodedata.normalize("NFD", out[key])
            out[key] = "  " + (value.upper() if rng.random() < 0.5 else value.title()) + " "
    return out


def _altered(document: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One field changed the way a fraudster would: the name, the birth date, or the key fact."""
    out = dict(document)
    change = rng.choice(["family_name", "birth_date", "fact"])
    if change == "family_name":
        out["family_name"] = rng.choice([f for f in FAMILY if f.casefold() != out["family_name"]])
    elif change == "birth_date":
        born = dt.date.fromisoformat(out["birth_date"])
        out["birth_date"] = (born - dt.timedelta(days=365 * rng.randint(1, 5))).isoformat()
    elif out["kind"] == "residence":
        out["postcode"] = "75008"
    elif out["kind"] == "diploma":
        out["title"] = "Doctorat de médecine"
    else:
        out["birth_place"] = "Paris"
    return out


def _malformed(document: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    out = dict(document)
    if rng.random() < 0.5:
        out.pop("birth_date")
    else:
        out["birth_date"] = "31/02/" + out["birth_date"][:4]
    return out


def _self_made(
    prep: Prepared,
    issuer: str,
    registry: AttestationRegistry | EasRegistry,
    rng: random.Random,
    claimed_issuer: str | None = None,
) -> AttestationFile:
    """A credential a forger builds and signs with its own key: a real-looking proof to a root nobody
    anchored, naming `claimed_issuer` (a `did:key`) as its issuer when given, else the forger's own key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forger_key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    salt = rng.randbytes(32)
    digest = document_digest(salt, prep.document)
    tree = MerkleTree([leaf_hash(digest), rng.randbytes(32), rng.randbytes(32)])
    made = build_attestation(
        signing_key=forger_key, kind=prep.kind, digest=digest, salt=salt, root=tree.root,
        path=tree.proof(0), issuer=issuer, registry=registry, valid_from="2026-01-05T09:00:00Z",
    )  # fmt: skip
    if claimed_issuer is None:
        return made
    return AttestationFile.model_validate(
        add_proof({**made.as_json(), "issuer": claimed_issuer}, forger_key, created="2026-01-05T09:00:00Z")
    )


def presented_document(prep: Prepared, rng: random.Random) -> dict[str, Any]:
    """The document a verifier is shown in `prep.scenario` (re-typed, altered, malformed, or as issued)."""
    document = prep.document.model_dump(mode="json")
    change = {"reformatted": _retyped, "altered": _altered, "malformed": _malformed}.get(prep.scenario)
    return change(document, rng) if change else document


def present(
    prep: Prepared,
    attestation: AttestationFile | None,
    impostor: str,
    registry: AttestationRegistry | EasRegistry,
    rng: random.Random,
    issuer_did: str,
) -> tuple[dict[str, Any], AttestationFile]:
    """The document and attestation file a verifier receives in `prep.scenario`.

    `forged`: signed by a forger's key but naming the town hall (`issuer_did`) as issuer;
    `unknown_issuer`: signed by, and naming, an issuer the verifier does not trust.
    """
    document = prep.document.model_dump(mode="json")
    scenario = prep.scenario
    if scenario == "forged":
        return document, _self_made(prep, registry.chain.sender, registry, rng, claimed_issuer=issuer_did)
    if scenario == "unknown_issuer":
        return document, _self_made(prep, impostor, registry, rng)
    assert attestation is not None, f"scenario {scenario} needs an issued attestation"
    if scenario == "reformatted":
        return _retyped(document, rng), attestation
    if scenario == "altered":
        return _altered(document, rng), attestation
    if scenario == "malformed":
        return _malformed(document, rng), attestation
    return document, attestation
