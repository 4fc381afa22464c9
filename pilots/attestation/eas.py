"""A deployed Ethereum Attestation Service (EAS) as the attestation registry: attest, revoke, status at a time.

EAS stores one attestation per document (schema `bytes32 leaf`: the document's salted leaf, nothing personal),
with its time, expiration time and revocation time, by the attester's account. Measured beside civiclab's
registry, it shows what a general-purpose, per-attestation service costs against Merkle batching.

The ABI (`eas_abi.json`) is the subset civiclab calls, taken from the npm package
`@ethereum-attestation-service/eas-contracts` (version in the file, MIT): nothing is compiled or fetched at
run time. The lab names its deployment: node, EAS address, schema uid, attester key from an environment variable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from civiclab.evm import ZERO_ADDRESS, Chain, TxResult

ABI_FILE = Path(__file__).with_name("eas_abi.json")
LEAF_SCHEMA = "bytes32 leaf"
ZERO32 = b"\0" * 32
EasJudgement = Literal[
    "accepted", "root_not_anchored", "issuer_mismatch", "document_mismatch", "expired", "revoked"
]


@cache
def abi() -> dict[str, Any]:
    return dict(json.loads(ABI_FILE.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class EasAttestation:
    """What EAS holds about one attestation (times in unix seconds; 0: none)."""

    uid: bytes
    time: int
    expiration_time: int
    revocation_time: int
    attester: str
    data: bytes

    def judge(self, leaf: bytes, account: str, t: int) -> EasJudgement:
        """EAS's verdict at time `t` on the attestation of `leaf` by `account`."""
        if self.uid == ZERO32 or self.time == 0 or self.time > t:
            return "root_not_anchored"
        if self.attester.lower() != account.lower():
            return "issuer_mismatch"
        if self.data != leaf:
            return "document_mismatch"
        if self.expiration_time and self.expiration_time <= t:
            return "expired"
        if self.revocation_time and self.revocation_time <= t:
            return "revoked"
        return "accepted"


class EasService:
    """One EAS deployment on one chain, attesting with one schema."""

    def __init__(self, chain: Chain, eas_address: str, schema_uid: bytes) -> None:
        self.chain = chain
        self.address = chain.w3.to_checksum_address(eas_address)
        self.schema_uid = schema_uid
        self.contract = chain.contract(self.address, abi()["EAS"])

    @staticmethod
    def register_schema(
        chain: Chain, schema_registry: str, schema: str = LEAF_SCHEMA
    ) -> tuple[bytes, TxResult]:
        """Register `schema` (revocable, no resolver); its uid, read from the `Registered` event."""
        registry = chain.contract(schema_registry, abi()["SchemaRegistry"])
        tx = chain.send(registry.functions.register(schema, ZERO_ADDRESS, True), what="register schema")
        receipt = chain.w3.eth.get_transaction_receipt(tx.tx_hash)
        event = registry.events.Registered().process_receipt(receipt)
        return bytes(event[0]["args"]["uid"]), tx

    def attest_many(self, leaves: list[bytes], expiration_time: int) -> tuple[list[bytes], TxResult]:
        """One `multiAttest` transaction for `leaves` (one attestation each); their uids, in order."""
        data = [(ZERO_ADDRESS, expiration_time, True, ZERO32, leaf, 0) for leaf in leaves]
        tx = self.chain.send(
            self.contract.functions.multiAttest([(self.schema_uid, data)]), what="EAS multiAttest"
        )
        receipt = self.chain.w3.eth.get_transaction_receipt(tx.tx_hash)
        events = self.contract.events.Attested().process_receipt(receipt)
        return [bytes(e["args"]["uid"]) for e in events], tx

    def revoke(self, uid: bytes) -> TxResult:
        return self.chain.send(self.contract.functions.revoke((self.schema_uid, (uid, 0))), what="EAS revoke")

    def attestation(self, uid: bytes) -> EasAttestation:
        a = self.contract.functions.getAttestation(uid).call()
        # Attestation: uid, schema, time, expirationTime, revocationTime, refUID, recipient, attester, revocable, data
        return EasAttestation(bytes(a[0]), int(a[2]), int(a[3]), int(a[4]), str(a[7]), bytes(a[9]))
