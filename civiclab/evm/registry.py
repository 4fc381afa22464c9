"""A client of the on-chain attestation registry, and a verifier-side view synced from its events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from civiclab.errors import ChainError
from civiclab.evm.client import Chain, TxResult
from civiclab.evm.contract import load_artifact

ZERO_ADDRESS = "0x" + "00" * 20
# Storage a transaction writes, from the contract's layout: a Batch is 3 slots, a revocation flag 1.
ANCHOR_STORAGE_BYTES = 3 * 32
REVOKE_STORAGE_BYTES = 32
MAX_URI = 256


@dataclass(frozen=True)
class Status:
    """What the chain says about one attestation claiming `issuer`."""

    issuer_authorised: bool
    root_issuer: str
    revoked: bool
    anchored_block: int

    @property
    def anchored(self) -> bool:
        return self.root_issuer.lower() != ZERO_ADDRESS


class StatusSource(Protocol):
    """Where a verifier reads the registry: the live chain, or a view synced at a block."""

    @property
    def chain_id(self) -> int: ...

    @property
    def address(self) -> str: ...

    def status(self, root: bytes, leaf: bytes, issuer: str) -> Status: ...


class AttestationRegistry:
    """The deployed attestation registry (anchored roots, revocations, issuers) on one chain."""

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
        return self.chain.send(self.contract.functions.set_issuer(issuer, authorised), what="set_issuer")

    def anchor(self, root: bytes, count: int, uri: str = "", *, sender: str | None = None) -> TxResult:
        """Anchor a Merkle root of `count` attestations; mined or `ChainError`."""
        if len(uri.encode()) > MAX_URI:
            raise ChainError(f"anchor URI longer than {MAX_URI} bytes")
        return self.chain.send(self.contract.functions.anchor(root, count, uri), what="anchor", sender=sender)

    def revoke(self, root: bytes, leaf: bytes) -> TxResult:
        return self.chain.send(self.contract.functions.revoke(root, leaf), what="revoke")

    def status(self, root: bytes, leaf: bytes, issuer: str) -> Status:
        try:
            authorised, root_issuer, revoked, block = self.contract.functions.status(
                root, leaf, self.chain.w3.to_checksum_address(issuer)
            ).call()
        except Exception as exc:
            raise ChainError(f"reading the registry on {self.chain.label}: {exc}") from None
        return Status(bool(authorised), str(root_issuer), bool(revoked), int(block))

    def batch(self, root: bytes) -> tuple[str, int, int]:
        """(issuer, count, block) of an anchored root; the issuer is the zero address if it is not."""
        issuer, count, block = self.contract.functions.batches(root).call()
        return str(issuer), int(count), int(block)

    def anchored_by(self, issuer: str, uri: str) -> list[tuple[bytes, int]]:
        """Every root `issuer` anchored with `uri`, and its block, oldest first (read from the events).

        Raises:
            ChainError: the node cannot give the registry's logs.
        """
        w3 = self.chain.w3
        event = self.contract.events.BatchAnchored()
        topic = w3.keccak(text="BatchAnchored(bytes32,address,uint256,string)")
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
        head = self.chain.head
        view = AttestationRegistryView(chain_id=self.chain_id, address=self.address, block=head)
        events = {
            name: getattr(self.contract.events, name)()
            for name in ("IssuerSet", "BatchAnchored", "AttestationRevoked")
        }
        signatures = {
            "IssuerSet": "IssuerSet(address,bool)",
            "BatchAnchored": "BatchAnchored(bytes32,address,uint256,string)",
            "AttestationRevoked": "AttestationRevoked(bytes32,bytes32,address)",
        }
        by_topic = {bytes(self.chain.w3.keccak(text=sig)): events[name] for name, sig in signatures.items()}
        # One eth_getLogs for the three events: each call costs a scan of the range on eth-tester.
        logs = self.chain.w3.eth.get_logs(
            {"address": self.address, "fromBlock": self.deployed_at, "toBlock": head}
        )
        for log in logs:
            event = by_topic.get(bytes(log["topics"][0])) if log["topics"] else None
            if event is None:
                continue
            ev = event.process_log(log)
            args = ev["args"]
            if ev["event"] == "IssuerSet":
                view.issuers[str(args["issuer"]).lower()] = bool(args["authorised"])
            elif ev["event"] == "BatchAnchored":
                view.batches[bytes(args["root"])] = (str(args["issuer"]), int(ev["blockNumber"]))
            else:
                view.revoked.add((bytes(args["root"]), bytes(args["leaf"])))
        return view


@dataclass
class AttestationRegistryView:
    """The registry as of `block`, rebuilt from its events: verification without a call per document.

    It is exactly as fresh as its last sync: a revocation mined after `block` is not seen.
    """

    chain_id: int
    address: str
    block: int
    issuers: dict[str, bool] = field(default_factory=dict)
    batches: dict[bytes, tuple[str, int]] = field(default_factory=dict)
    revoked: set[tuple[bytes, bytes]] = field(default_factory=set)

    def status(self, root: bytes, leaf: bytes, issuer: str) -> Status:
        root_issuer, block = self.batches.get(root, (ZERO_ADDRESS, 0))
        return Status(
            self.issuers.get(issuer.lower(), False), root_issuer, (root, leaf) in self.revoked, block
        )


def describe(source: Any) -> str:
    return f"eip155:{source.chain_id}:{source.address}"
