"""An EVM chain to talk to: the in-process py-evm chain by default, or any JSON-RPC node.

Every transaction goes through `Chain.send`, which returns only once the transaction is mined with
status 1; anything else (a revert, a timeout, a dead node) is a `ChainError` with one clear line,
so a caller can never record as attested something that is not on chain.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from civiclab.errors import ChainError

IN_PROCESS = "in-process"


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction and what it put on chain."""

    tx_hash: str
    block_number: int
    gas_used: int
    input_bytes: int
    log_bytes: int
    effective_gas_price: int
    contract_address: str | None = None


def _input(tx: Any) -> bytes:
    # Nodes name a transaction's calldata `input`; eth-tester's full blocks call it `data`.
    return bytes(tx["input"] if "input" in tx else tx["data"])


def _reason(exc: BaseException) -> str:
    text = str(exc.args[0]) if getattr(exc, "args", None) else str(exc)
    return text.removeprefix("execution reverted: ").strip() or type(exc).__name__


class Chain:
    """A connection to one chain, with a default sender (an unlocked account or a key from the env)."""

    def __init__(self, w3: Any, label: str, sender: str, key: str | None, timeout_s: float) -> None:
        self.w3 = w3
        self.label = label
        self.sender = sender
        self._key = key
        self.timeout_s = timeout_s
        self.chain_id = int(w3.eth.chain_id)

    @property
    def ephemeral(self) -> bool:
        """True for the in-process chain, which disappears with the process."""
        return self.label == IN_PROCESS

    @classmethod
    def connect(
        cls, rpc_url: str | None = None, *, key_env: str | None = None, timeout_s: float = 30.0
    ) -> Chain:
        """Open the in-process chain (`rpc_url` None or "in-process") or reach a node.

        Raises:
            ChainError: the node does not answer, or the key's environment variable is unset.
        """
        from web3 import Web3

        key: str | None = None
        if key_env:
            key = os.environ.get(key_env)
            if not key:
                raise ChainError(f"environment variable {key_env} (the signing key) is not set")
        if rpc_url in (None, IN_PROCESS):
            from web3 import EthereumTesterProvider

            w3 = Web3(EthereumTesterProvider())
            label = IN_PROCESS
        else:
            assert rpc_url is not None
            w3 = Web3(
                Web3.HTTPProvider(
                    rpc_url, request_kwargs={"timeout": timeout_s}, exception_retry_configuration=None
                )
            )
            label = rpc_url
            try:
                reachable = bool(w3.is_connected())
            except Exception:
                reachable = False
            if not reachable:
                raise ChainError(f"cannot reach the EVM node at {rpc_url}")
        try:
            if key is not None:
                try:
                    sender = w3.eth.account.from_key(key).address
                except Exception:
                    # Never echo the exception: it could quote the secret.
                    raise ChainError(
                        f"environment variable {key_env} does not hold a valid private key"
                    ) from None
            else:
                accounts = list(w3.eth.accounts)
                if not accounts:
                    raise ChainError(f"{label}: the node has no unlocked account; give a key via key_env")
                sender = accounts[0]
            return cls(w3, label, sender, key, timeout_s)
        except ChainError:
            raise
        except Exception as exc:
            raise ChainError(f"{label}: {type(exc).__name__}: {exc}") from None

    def unlocked_accounts(self) -> list[str]:
        try:
            return list(self.w3.eth.accounts)
        except Exception:
            return []

    @property
    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def contract(self, address: str, abi: list[dict[str, Any]]) -> Any:
        return self.w3.eth.contract(address=self.w3.to_checksum_address(address), abi=abi)

    def deploy(self, abi: list[dict[str, Any]], bytecode: str) -> TxResult:
        """Deploy a contract; the result's `contract_address` is where it lives."""
        factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
        return self.send(factory.constructor(), what="deploy")

    def send(self, call: Any, *, what: str, sender: str | None = None, gas: int | None = None) -> TxResult:
        """Send a contract call as a transaction and wait until it is mined successfully.

        With `gas` the node does not estimate first, so a failing call is mined and reverts on chain.

        Raises:
            ChainError: the call reverts, is not mined in time, or the node fails.
        """
        sender = sender or self.sender
        try:
            if self._key is not None and sender == self.sender:
                fields: dict[str, Any] = {
                    "from": sender,
                    "nonce": self.w3.eth.get_transaction_count(sender, "pending"),
                    "chainId": self.chain_id,
                }
                if gas is not None:
                    fields["gas"] = gas
                signed = self.w3.eth.account.sign_transaction(call.build_transaction(fields), self._key)
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            else:
                tx_hash = call.transact({"from": sender} if gas is None else {"from": sender, "gas": gas})
        except Exception as exc:
            raise ChainError(f"{what} reverted on {self.label}: {_reason(exc)}") from None
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.timeout_s)
        except Exception as exc:
            raise ChainError(
                f"{what}: transaction {tx_hash.hex()} not mined on {self.label}: {exc}"
            ) from None
        if int(receipt["status"]) != 1:
            raise ChainError(f"{what} reverted on {self.label} (tx 0x{bytes(tx_hash).hex()})")
        tx = self.w3.eth.get_transaction(tx_hash)
        return TxResult(
            tx_hash="0x" + bytes(tx_hash).hex(),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            input_bytes=len(_input(tx)),
            log_bytes=sum(len(bytes(log["data"])) + 32 * len(log["topics"]) for log in receipt["logs"]),
            effective_gas_price=int(receipt.get("effectiveGasPrice") or 0),
            contract_address=receipt.get("contractAddress"),
        )

    def onchain_blobs(self, from_block: int) -> Iterator[tuple[str, bytes]]:
        """Every transaction input and event log (topics and data) from `from_block` to the head."""
        for number in range(from_block, self.head + 1):
            block = self.w3.eth.get_block(number, full_transactions=True)
            for tx in block["transactions"]:
                tx_hash = "0x" + bytes(tx["hash"]).hex()
                yield f"block {number} tx {tx_hash} input", _input(tx)
                receipt = self.w3.eth.get_transaction_receipt(tx["hash"])
                for i, log in enumerate(receipt["logs"]):
                    blob = b"".join(bytes(t) for t in log["topics"]) + bytes(log["data"])
                    yield f"block {number} tx {tx_hash} log {i}", blob

    def storage(self, address: str) -> tuple[dict[bytes, bytes] | None, str]:
        """Every storage slot a contract holds, and how it was read (None where the node cannot say)."""
        if self.ephemeral:
            return self._tester_storage(address), "py-evm storage trie"
        try:
            answer = self.w3.provider.make_request("anvil_dumpState", [])
            state = json.loads(gzip.decompress(bytes.fromhex(answer["result"][2:])))
            account = state["accounts"][address.lower()]
            slots = {bytes.fromhex(k[2:]): bytes.fromhex(v[2:]) for k, v in account["storage"].items()}
            return slots, "anvil_dumpState"
        except Exception:
            return None, "unavailable on this node (no anvil_dumpState)"

    def _tester_storage(self, address: str) -> dict[bytes, bytes]:
        import rlp
        from eth_utils import to_canonical_address
        from trie import HexaryTrie
        from trie.iter import NodeIterator

        state = self.w3.provider.ethereum_tester.backend.chain.get_vm().state
        account_db = state._account_db
        canonical = to_canonical_address(address)
        root = account_db._get_storage_root(canonical)
        # Keys of the storage trie are keccak(slot): we keep them as they are, values are RLP-encoded.
        store = HexaryTrie(account_db._raw_store_db, root)
        return {key: rlp.decode(value) for key, value in NodeIterator(store).items()}
