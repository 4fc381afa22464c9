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
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from civiclab.evm import OPEN_END, ZERO_ADDRESS, Chain, Query, Standing, TxResult

ABI_FILE = Path(__file__).with_name("eas_abi.json")
LEAF_SCHEMA = "bytes32 leaf"
ZERO32 = b"\0" * 32
# Storage one attestation writes, from EAS's `Attestation` struct: the non-zero slots (uid, schema, the three
# packed times, attester with `revocable`, the data's length and its 32 bytes); recipient and refUID stay zero.
EAS_STORAGE_BYTES = 6 * 32
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


class EasSystem(BaseModel):
    """`pilot.params.system` for a lab's EAS deployment: the node, the EAS contract, the schema, the key."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["eas"]
    rpc_url: str = Field(pattern=r"^https?://\S+$", description="JSON-RPC node where EAS is deployed")
    eas: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$", description="address of the EAS contract")
    schema_uid: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$", description="a revocable schema `bytes32 leaf`")
    key_env: str | None = Field(
        default=None, pattern=r"^[A-Z_][A-Z0-9_]*$", description="env var: attester key"
    )


class EasRegistry(EasService):
    """EAS behind the calls the attestation pilot makes of civiclab's registry: one attestation per leaf.

    The issuer keeps the uid of each leaf it attested (`uid_of`); the pilot's verifier finds a leaf's uid there
    (a verifier elsewhere reads it from the credential's status id), then reads the attestation live.
    """

    def __init__(self, chain: Chain, eas_address: str, schema_uid: bytes) -> None:
        super().__init__(chain, eas_address, schema_uid)
        self.uid_of: dict[bytes, bytes] = {}

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    def attest_leaves(self, leaves: list[bytes]) -> TxResult:
        uids, tx = self.attest_many(leaves, expiration_time=0)
        self.uid_of.update(zip(leaves, uids, strict=True))
        return tx

    def revoke_leaf(self, leaf: bytes) -> TxResult:
        return self.revoke(self.uid_of[leaf])

    def block_time(self, block: int | str = "latest") -> int:
        return int(self.chain.w3.eth.get_block(block)["timestamp"])

    def now(self) -> int:
        return self.block_time("latest")

    def standing(self, root: bytes, leaf: bytes, issuer: str) -> Standing:
        uid = self.uid_of.get(leaf)
        found = self.attestation(uid) if uid is not None and root == leaf else None
        if found is None or found.time == 0 or found.data != leaf:
            return Standing(1, OPEN_END, ZERO_ADDRESS, 0, 0, 0)
        # EAS has no issuer periods: who may attest is the verifier's trust list (the account it trusts).
        return Standing(1, OPEN_END, found.attester, found.time, 0, found.revocation_time)

    def standings(self, queries: Sequence[Query]) -> list[Standing]:
        return [self.standing(*q) for q in queries]
