"""The registry's revocations as a W3C Bitstring Status List: status checked offline, without telling anyone.

W3C "Bitstring Status List v1.0": a credential names a position in a list (`BitstringStatusListEntry`);
the issuer publishes the list as a credential of its own (`BitstringStatusListCredential`, signed here
with the same `eddsa-jcs-2022` proof), whose `encodedList` is the GZIP-compressed bitstring in multibase
base64url (`u…`), bit 0 the most significant bit of the first byte. A verifier downloads the whole list
(at least 131,072 positions, the spec's minimum, so that fetching it says nothing about which credential
is checked) and reads one bit: the issuer and the registry never learn who checked what.

Time: a list speaks as of its `validFrom`. The issuer publishes a new one after revocations; a verifier
asking about time T uses the latest list published at or before T, so a revocation after T does not
count (`list_for`). The registry stays the authority; the list is its snapshot, signed by the issuer.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from civiclab.evm import Query, StatusSource
from pilots.attestation.credential import AttestationFile, StatusListEntry, unix_time
from pilots.attestation.dataintegrity import add_proof, did_key, verify_signature

MIN_LENGTH = 131_072
PURPOSE = "revocation"


def entry(list_url: str, index: int) -> dict[str, Any]:
    """The `credentialStatus` entry of the credential at `index` of the list published at `list_url`."""
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": PURPOSE,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def encode(revoked: Iterable[int], length: int = MIN_LENGTH) -> str:
    """`encodedList` of a list of `length` positions with `revoked` set."""
    bits = bytearray(length // 8)
    for index in revoked:
        if not 0 <= index < length:
            raise ValueError(f"status list index {index} outside 0..{length - 1}")
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same revocations give the same bytes, so the signed list is reproducible.
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode()


def decode(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("encodedList is not multibase base64url")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def is_set(encoded: str, index: int) -> bool:
    bits = decode(encoded)
    if not 0 <= index < 8 * len(bits):
        raise ValueError(f"status list index {index} outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(
    signing_key: Any, list_url: str, revoked: Iterable[int], valid_from: str, length: int = MIN_LENGTH
) -> dict[str, Any]:
    """The issuer's signed list as of `valid_from`: `revoked` are the positions revoked by then."""
    issuer = did_key(signing_key.public_key().public_bytes_raw())
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": PURPOSE,
            "encodedList": encode(revoked, length),
        },
    }
    return add_proof(unsigned, signing_key, created=valid_from)


def list_for(lists: Sequence[dict[str, Any]], list_url: str, at_iso: str) -> dict[str, Any] | None:
    """The latest list of `list_url` published at or before `at_iso`."""
    at = unix_time(at_iso)
    usable = [s for s in lists if s.get("id") == list_url and unix_time(str(s["validFrom"])) <= at]
    return max(usable, key=lambda s: unix_time(str(s["validFrom"])), default=None)


def revoked_positions(source: StatusSource, positions: Mapping[Query, int], at: int) -> list[int]:
    """The list positions whose attestation the registry had revoked (leaf or batch) by unix time `at`."""
    queries = list(positions)
    standings = source.standings(queries)
    return sorted(positions[q] for q, s in zip(queries, standings, strict=True) if 0 < s.revoked_at <= at)


def revoked_offline(
    attestation: AttestationFile, lists: Sequence[dict[str, Any]], at_iso: str
) -> bool | None:
    """Whether the credential's status list, as published by `at_iso`, says revoked (None: no entry or list).

    The list's own signature and issuer are checked: a list not signed by the credential's issuer is ignored.
    """
    entries = attestation.credentialStatus if isinstance(attestation.credentialStatus, list) else []
    for item in entries:
        if isinstance(item, StatusListEntry):
            found = list_for(lists, item.statusListCredential, at_iso)
            if found is None or found.get("issuer") != attestation.issuer or not verify_signature(found):
                return None
            if str(found["proof"]["verificationMethod"]).split("#", 1)[0] != attestation.issuer:
                return None
            return is_set(str(found["credentialSubject"]["encodedList"]), int(item.statusListIndex))
    return None
