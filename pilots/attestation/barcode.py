"""The incumbent baseline: a 2D-Doc-style signed barcode printed on the document, and no chain at all.

France's 2D-Doc (ANTS) prints on a proof of address a barcode holding a header (format version, the
certification authority, the id of the issuer's certificate, issue and signature dates, document type),
the document's own fields IN CLEAR, and an ECDSA P-256 signature by the issuer's key. A verifier holding
the issuer's certificate (from a trust list: no chain of certificates here) checks the signature and compares
the printed fields with the decoded ones. What it cannot do is revoke one document: once printed, a barcode
verifies until it expires. That is what the committee sees beside the chain: no gas, no network, but a
revoked document still accepted, and personal data in the barcode.

Layout (2D-Doc-STYLE, not the ANTS specification byte for byte): `DC04` ‖ CA id (4) ‖ certificate id (4) ‖
issue date ‖ signature date (4 hex digits each: days since 2000-01-01) ‖ document type (2) ‖ `01FR`, then
fields `<2-char id><value><GS>`, then `<US>` and the signature (raw r‖s, base32 without padding).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pilots.attestation.documents import MalformedDocument, parse_document

GS, US = "\x1d", "\x1f"
EPOCH = dt.date(2000, 1, 1)
CA_ID = "FR00"
DOC_TYPES = {"residence": "01", "civil_status": "03", "diploma": "B0"}
FIELDS: dict[str, str] = {  # field -> 2-character id (ids of this baseline, in the 2D-Doc manner)
    "given_name": "10", "family_name": "11", "birth_date": "12", "street": "20", "postcode": "24",
    "city": "25", "since": "26", "birth_place": "30", "act_number": "31", "title": "40", "year": "41",
    "diploma_number": "42", "valid_until": "F0",
}  # fmt: skip
BarcodeReason = Literal[
    "accepted", "malformed_attestation", "untrusted_issuer", "invalid_signature", "key_not_valid_at_issuance",
    "not_yet_valid", "expired", "malformed_document", "document_mismatch",
]  # fmt: skip


@dataclass(frozen=True)
class BarcodeIssuer:
    """The town hall's barcode signing key and its self-signed certificate (what verifiers hold)."""

    key: Any
    certificate: Any
    cert_id: str


def barcode_issuer(
    secret: str | None, cert_id: str = "BV01", *, valid_from: dt.date, years: int = 5
) -> BarcodeIssuer:
    """An ECDSA P-256 key (derived from `secret`, or random) and a certificate valid `years` from `valid_from`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    if secret is None:
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        seed = hmac.new(secret.encode(), b"attestation-barcode-key:p256", hashlib.sha256).digest()
        key = ec.derive_private_key(int.from_bytes(seed, "big") % (2**255) + 1, ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Belleval 2D-Doc {cert_id} (SYNTHETIC)")])
    start = dt.datetime.combine(valid_from, dt.time(), dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(int.from_bytes(cert_id.encode(), "big")).not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * years)).sign(key, hashes.SHA256())
    )  # fmt: skip
    return BarcodeIssuer(key, certificate, cert_id)


def _day(date: dt.date) -> str:
    return f"{(date - EPOCH).days:04X}"


def _values(document: Any) -> dict[str, str]:
    """The document's canonical values (as the verifier re-types them), by 2D-Doc field."""
    data = parse_document(document).model_dump(mode="json")
    return {k: str(v) for k, v in data.items() if k in FIELDS}


def issue_barcode(issuer: BarcodeIssuer, document: Any, signed_on: dt.date, valid_until: dt.date) -> str:
    """The barcode's text for `document`, signed on `signed_on`, valid until `valid_until` (exclusive)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    values = _values(document) | {"valid_until": valid_until.isoformat()}
    kind = parse_document(document).kind
    header = f"DC04{CA_ID}{issuer.cert_id}{_day(signed_on)}{_day(signed_on)}{DOC_TYPES[kind]}01FR"
    message = "".join(f"{FIELDS[k]}{v}{GS}" for k, v in sorted(values.items(), key=lambda kv: FIELDS[kv[0]]))
    r, s = decode_dss_signature(issuer.key.sign((header + message).encode(), ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return header + message + US + base64.b32encode(signature).decode().rstrip("=")


def verify_barcode(document: Any, barcode: str, trusted: Mapping[str, Any], at: dt.date) -> BarcodeReason:
    """A verifier's check on `at`: its trust list maps certificate ids to certificates. Never raises."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    try:
        signed, sig_text = barcode.split(US, 1)
        header, message = signed[:26], signed[26:]
        cert_id, signed_on = header[8:12], EPOCH + dt.timedelta(days=int(header[16:20], 16))
        fields = {f[:2]: f[2:] for f in message.split(GS) if f}
        raw = base64.b32decode(sig_text + "=" * (-len(sig_text) % 8))
        valid_until = dt.date.fromisoformat(fields[FIELDS["valid_until"]])
    except (ValueError, KeyError, IndexError):
        return "malformed_attestation"
    certificate = trusted.get(cert_id)
    if certificate is None:
        return "untrusted_issuer"
    try:
        signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        certificate.public_key().verify(signature, signed.encode(), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return "invalid_signature"
    if not certificate.not_valid_before_utc.date() <= signed_on < certificate.not_valid_after_utc.date():
        return "key_not_valid_at_issuance"
    if at < signed_on:
        return "not_yet_valid"
    if at >= valid_until:
        return "expired"
    try:
        presented = _values(document)
    except MalformedDocument:
        return "malformed_document"
    printed = {
        name: fields.get(fid) for name, fid in FIELDS.items() if name != "valid_until" and fid in fields
    }
    return "accepted" if printed == presented else "document_mismatch"
