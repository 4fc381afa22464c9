"""A client of the on-chain attestation registry, and a verifier-side view synced from its events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from civiclab.errors import ChainError
from civiclab.evm.client import Chain, TxResult
from civiclab.evm.contract import load_artifact

ZERO_ADDRESS = "0x" + "00" * 20
# Storage a transaction writes, from the contract's layout: a Batch is 5 slots of which an anchor writes 4
# (issuer, count, block, time; the batch's revocation time stays zero), a revocation time 1.
ANCHOR_STORAGE_BYTES = 4 * 32
REVOKE_STORAGE_BYTES = 32
MAX_URI = 256
OPEN_END = 2**256 - 1
# `standings` answers this many attestations per call (the contract's MAX_QUERIES).
MAX_QUERIES = 1000

Judgement = Literal["accepted", "unknown_issuer", "root_not_anchored", "issuer_mismatch", "revoked"]


@dataclass(frozen=True)
class Standing:
    """What the registry holds about one attestation claiming `issuer`, with every time in it (unix s).

    `judge(t)` says whether it stood at time t: the issuer account was authorised when it anchored the
    root (so a later withdrawal or rotation changes nothing), the root was anchored by t, and neither the
    leaf nor its batch had been revoked by t.
    """

    issuer_from: int
    issuer_until: int
    root_issuer: str
    anchored_at: int
    anchored_block: int
    revoked_at: int

    @property
    def anchored(self) -> bool:
        return self.root_issuer.lower() != ZERO_ADDRESS

    def judge(self, t: int, issuer: str) -> Judgement:
        """The registry's verdict on this attestation at unix time `t`, for the account `issuer`."""
        if self.issuer_from == 0:
            return "unknown_issuer"
        if not self.anchored:
            return "root_not_anchored"
        if self.root_issuer.lower() != issuer.lower():
            return "issuer_mismatch"
        if not self.issuer_from <= self.anchored_at < self.issuer_until:
            return "unknown_issuer"  # anchored outside the account's authorisation (e.g. after a compromise)
        if self.anchored_at > t:
            return "root_not_anchored"  # not yet at t
        if self.revoked_at and self.revoked_at <= t:
            return "revoked"
        return "accepted"


Query = tuple[bytes, bytes, str]
"""(root, leaf, issuer account) of one attestation to look up."""


class StatusSource(Protocol):
    """Where a verifier reads the registry: the live chain, or a view synced at a block."""

    @property
    def chain_id(self) -> int: ...

    @property
    def address(self) -> str: ...

    def now(self) -> int:
        """The latest time the source knows (unix s): the head block's, or the view's last sync."""
        ...

    def standing(self, root: bytes, leaf: bytes, issuer: str) -> Standing: ...

    def standings(self, queries: Sequence[Query]) -> list[Standing]: ...


def status_at(source: StatusSource, queries: Sequence[Query], t: int) -> list[Judgement]:
    """The registry's verdict at unix time `t` on many attestations, read in as few calls as the source needs."""
    return [s.judge(t, q[2]) for s, q in zip(source.standings(queries), queries, strict=True)]


ANCHORED_SIG = "BatchAnchored(bytes32,address,uint256,string,uint256)"
EVENT_SIGNATURES = {
    "IssuerSet": "IssuerSet(address,uint256,uint256)",
    "BatchAnchored": ANCHORED_SIG,
    "AttestationRevoked": "AttestationRevoked(bytes32,bytes32,address,uint256)",
    "BatchRevoked": "BatchRevoked(bytes32,address,uint256)",
}


def _word(data: bytes, i: int) -> int:
    return int.from_bytes(data[32 * i : 32 * i + 32], "big")


def _address(topic: bytes) -> str:
    return "0x" + bytes(topic)[-20:].hex()


class AttestationRegistry:
    """The deployed attestation registry (anchored roots, revocations, issuers, with times) on one chain."""

    def __init__(self, chain: Chain, address: str, deployed_at: int) -> None:
        self.chain = chain
        self.address = chain.w3.to_checksum_address(address)
        self.deployed_at = deployed_at
        self.contract = chain.contract(self.address, load_artifact().abi)

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    @classmethod
    def deploy(cls, chain: Chain) -> tuple[AttestationRegistry, TxResult]:
        artifact = load_artifact()
        result = chain.deploy(artifact.abi, artifact.bytecode)
        if not result.contract_address:
            raise ChainError(f"deploying the registry on {chain.label} gave no contract address")
        return cls(chain, result.contract_address, result.block_number), result

    @classmethod
    def attach(cls, chain: Chain, address: str) -> AttestationRegistry:
        """Use a registry already deployed at `address`; raises if no code lives there."""
        code = chain.w3.eth.get_code(chain.w3.to_checksum_address(address))
        if not code:
            raise ChainError(f"no contract at {address} on {chain.label}")
        return cls(chain, address, 0)

    def set_issuer(self, issuer: str, authorised: bool = True) -> TxResult:
        """Authorise an account from now on, or withdraw it from now on (what it anchored before stands)."""
        return self.chain.send(self.contract.functions.set_issuer(issuer, authorised), what="set_issuer")

    def withdraw_issuer(self, issuer: str, until: int) -> TxResult:
        """End an account's authorisation at unix time `until`, possibly in the past (a compromised key)."""
        return self.chain.send(self.contract.functions.withdraw_issuer(issuer, until), what="withdraw_issuer")

    def anchor(self, root: bytes, count: int, uri: str = "", *, sender: str | None = None) -> TxResult:
        """Anchor a Merkle root of `count` attestations; mined or `ChainError`."""
        if len(uri.encode()) > MAX_URI:
            raise ChainError(f"anchor URI longer than {MAX_URI} bytes")
        return self.chain.send(self.contract.functions.anchor(root, count, uri), what="anchor", sender=sender)

    def revoke(self, root: bytes, leaf: bytes) -> TxResult:
        return self.chain.send(self.contract.functions.revoke(root, leaf), what="revoke")

    def revoke_batch(self, root: bytes) -> TxResult:
        return self.chain.send(self.contract.functions.revoke_batch(root), what="revoke_batch")

    def block_time(self, block: int | str = "latest") -> int:
        """The timestamp of a block (unix s): the registry's clock."""
        return int(self.chain.w3.eth.get_block(block)["timestamp"])

    def now(self) -> int:
        return self.block_time("latest")

    def standing(self, root: bytes, leaf: bytes, issuer: str) -> Standing:
        try:
            row = self.contract.functions.standing(
                root, leaf, self.chain.w3.to_checksum_address(issuer)
            ).call()
        except Exception as exc:
            raise ChainError(f"reading the registry on {self.chain.label}: {exc}") from None
        return _standing(row)

    def standings(self, queries: Sequence[Query]) -> list[Standing]:
        """`standing` of many attestations, `MAX_QUERIES` per eth_call."""
        checksum = self.chain.w3.to_checksum_address
        out: list[Standing] = []
        try:
            for start in range(0, len(queries), MAX_QUERIES):
                chunk = [(r, lf, checksum(i)) for r, lf, i in queries[start : start + MAX_QUERIES]]
                out += [_standing(row) for row in self.contract.functions.standings(chunk).call()]
        except Exception as exc:
            raise ChainError(f"reading the registry on {self.chain.label}: {exc}") from None
        return out

    def batch(self, root: bytes) -> tuple[str, int, int]:
        """(issuer, count, block) of an anchored root; the issuer is the zero address if it is not."""
        issuer, count, block, _, _ = self.contract.functions.batches(root).call()
        return str(issuer), int(count), int(block)

    def anchored_by(self, issuer: str, uri: str) -> list[tuple[bytes, int]]:
        """Every root `issuer` anchored with `uri`, and its block, oldest first (read from the events).

        Raises:
            ChainError: the node cannot give the registry's logs.
        """
        w3 = self.chain.w3
        event = self.contract.events.BatchAnchored()
        topic = w3.keccak(text=ANCHORED_SIG)
        sender = "0x" + bytes.fromhex(w3.to_checksum_address(issuer)[2:]).rjust(32, b"\0").hex()
        try:
            logs = w3.eth.get_logs(
                {
                    "address": self.address,
                    "fromBlock": self.deployed_at,
                    "toBlock": "latest",
                    "topics": ["0x" + bytes(topic).hex(), None, sender],
                }
            )
        except Exception as exc:
            raise ChainError(f"reading the registry's anchors on {self.chain.label}: {exc}") from None
        found = []
        for log in logs:
            ev = event.process_log(log)
            if ev["args"]["uri"] == uri:
                found.append((bytes(ev["args"]["root"]), int(ev["blockNumber"])))
        return sorted(found, key=lambda f: f[1])

    def view(self) -> AttestationRegistryView:
        """A verifier-side copy of the registry's state, synced from its events up to the head."""
        view = AttestationRegistryView(
            chain_id=self.chain_id, address=self.address, block=self.deployed_at - 1
        )
        view.sync(self)
        return view


def _standing(row: Sequence[Any]) -> Standing:
    return Standing(int(row[0]), int(row[1]), str(row[2]), int(row[3]), int(row[4]), int(row[5]))


@dataclass
class AttestationRegistryView:
    """The registry as of `block`, rebuilt from its events: verification without a call per document.

    It is exactly as fresh as its last sync: a revocation mined after `block` is not seen.
    """

    chain_id: int
    address: str
    block: int
    synced_at: int = 0
    """The time of `block` (unix s): a verifier using this view knows nothing later."""
    periods: dict[str, tuple[int, int]] = field(default_factory=dict)
    batches: dict[bytes, list[Any]] = field(default_factory=dict)
    """root -> [issuer, anchored block, anchored at, batch revoked at]"""
    revoked: dict[tuple[bytes, bytes], int] = field(default_factory=dict)

    def sync(self, registry: AttestationRegistry) -> int:
        """Read the events mined since the last sync (one eth_getLogs); returns how many were applied."""
        w3 = registry.chain.w3
        head = registry.chain.head
        if head <= self.block:
            return 0
        topics = {bytes(w3.keccak(text=sig)): name for name, sig in EVENT_SIGNATURES.items()}
        try:
            logs = w3.eth.get_logs(
                {"address": registry.address, "fromBlock": self.block + 1, "toBlock": head}
            )
        except Exception as exc:
            raise ChainError(f"reading the registry's events on {registry.chain.label}: {exc}") from None
        applied = 0
        # Decoded by hand from the contract's event layout: web3's generic decoder costs ~10x more per log.
        for log in logs:
            t = log["topics"]
            name = topics.get(bytes(t[0])) if t else None
            data = bytes(log["data"])
            if name == "IssuerSet":
                self.periods[_address(t[1]).lower()] = (_word(data, 0), _word(data, 1))
            elif name == "BatchAnchored":
                self.batches[bytes(t[1])] = [_address(t[2]), int(log["blockNumber"]), _word(data, 2), 0]
            elif name == "AttestationRevoked":
                self.revoked[(bytes(t[1]), bytes(t[2]))] = _word(data, 0)
            elif name == "BatchRevoked":
                self.batches[bytes(t[1])][3] = _word(data, 0)
            else:
                continue
            applied += 1
        self.block = head
        self.synced_at = registry.block_time(head)
        return applied

    def now(self) -> int:
        return self.synced_at

    def standing(self, root: bytes, leaf: bytes, issuer: str) -> Standing:
        start, until = self.periods.get(issuer.lower(), (0, 0))
        root_issuer, block, anchored_at, batch_revoked = self.batches.get(root) or (ZERO_ADDRESS, 0, 0, 0)
        revoked = self.revoked.get((root, leaf), 0)
        if batch_revoked and (not revoked or batch_revoked < revoked):
            revoked = batch_revoked
        return Standing(start, until, root_issuer, anchored_at, block, revoked)

    def standings(self, queries: Sequence[Query]) -> list[Standing]:
        return [self.standing(*q) for q in queries]


def describe(source: Any) -> str:
    return f"eip155:{source.chain_id}:{source.address}"
