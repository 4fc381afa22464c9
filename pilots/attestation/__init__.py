"""The blockchain-attestation pilot: issue, revoke and verify attestations anchored on an EVM chain."""

from __future__ import annotations

from pilots.attestation.pilot import AttestationPilot

attestation = AttestationPilot

__all__ = ["AttestationPilot", "attestation"]
