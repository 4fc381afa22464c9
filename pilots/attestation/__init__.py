"""The blockchain-attestation pilot: issue, revoke and verify attestations anchored on an EVM chain, and its
baseline, the 2D-Doc-style signed barcode (`signed_barcode`), scored on the same sessions."""

from __future__ import annotations

from pilots.attestation.barcode_pilot import SignedBarcodePilot
from pilots.attestation.pilot import AttestationPilot

attestation = AttestationPilot
signed_barcode = SignedBarcodePilot

__all__ = ["AttestationPilot", "SignedBarcodePilot", "attestation", "signed_barcode"]
