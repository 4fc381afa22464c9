"""Anchoring a run's audit root on an EVM chain, and checking an anchor later.

The root goes into the same registry contract as the attestation pilot's batches
(`civiclab/evm/contracts/AttestationRegistry.vy`): `anchor(root, 1, "civiclab:run:<id>")`.

What an anchor proves depends on the chain:
- on a node (`chain: http://...`), `check_anchor` reads the registry again and fails unless that chain
  still holds the root, in the recorded transaction and block: a tampered run cannot be re-anchored
  in the past;
- on the in-process chain the chain dies with the run. `check_anchor` can only recompute what was
  recorded (the transaction's calldata encodes this root) and then raises `EphemeralChain` (a
  `ChainError`) saying so: it is a demonstration of the mechanism, not evidence, and `civiclab verify`
  shows it as "not checked" rather than "verified".
"""

from __future__ import annotations

from typing import Any

from civiclab.errors import AuditError, ChainError
from civiclab.evm import IN_PROCESS, ZERO_ADDRESS, AttestationRegistry, Chain, load_artifact
from civiclab.privacy.credentials import strip_url_credentials
from civiclab.spec.experiment import AnchorSpec

ANCHOR_VERSION = 1


class EphemeralChain(ChainError):
    """The anchor's chain no longer exists (in-process): only the record could be checked, not the chain."""


def anchor_uri(run_id: str) -> str:
    """What a run's anchor carries beside the digest: which run it is for (events are searched by it)."""
    return f"civiclab:run:{run_id}"


def review_anchor_uri(run_id: str) -> str:
    """What each committee review's anchor carries: the run it reviews (every review of it is found by it)."""
    return f"civiclab:review:{run_id}"


def _spec(anchor_cfg: AnchorSpec | dict[str, Any]) -> AnchorSpec:
    return anchor_cfg if isinstance(anchor_cfg, AnchorSpec) else AnchorSpec.model_validate(anchor_cfg)


def _root_bytes(audit_root: str) -> bytes:
    try:
        root = bytes.fromhex(audit_root.removeprefix("0x"))
    except ValueError:
        root = b""
    if len(root) != 32:
        raise AuditError(f"audit root {audit_root[:16]}… is not a 32-byte hex digest")
    return root


def _connect(chain: str, key_env: str | None, timeout_s: float) -> Chain:
    return Chain.connect(None if chain == IN_PROCESS else chain, key_env=key_env, timeout_s=timeout_s)


def preflight(anchor_cfg: AnchorSpec | dict[str, Any]) -> None:
    """Fail fast, before a run starts, if the anchoring node cannot be reached or the key is missing.

    Raises:
        ChainError: one line naming the node or the environment variable.
    """
    cfg = _spec(anchor_cfg)
    if cfg.chain != IN_PROCESS:
        _connect(cfg.chain, cfg.key_env, min(cfg.timeout_s, 10.0))


def anchor_audit_root(
    anchor_cfg: AnchorSpec | dict[str, Any],
    audit_root: str,
    run_id: str,
    experiment: Any,
    uri: str | None = None,
) -> dict[str, Any]:
    """Anchor `audit_root` on the configured chain and return what the manifest records.

    Returns:
        chain id, registry address, tx hash, block number and hash, the anchored root, the sender,
        `rpc_url` (or "in-process") and whether the chain is ephemeral.

    Raises:
        ChainError: the node is unreachable, or the transaction reverts or is not mined.
    """
    cfg = _spec(anchor_cfg)
    root = _root_bytes(audit_root)
    chain = _connect(cfg.chain, cfg.key_env, cfg.timeout_s)
    if cfg.contract:
        registry = AttestationRegistry.attach(chain, cfg.contract)
    else:
        registry, _ = AttestationRegistry.deploy(chain)
        registry.set_issuer(chain.sender, True)
    uri = uri or anchor_uri(run_id)
    tx = registry.anchor(root, 1, uri)
    block = chain.w3.eth.get_block(tx.block_number)
    sent = chain.w3.eth.get_transaction(tx.tx_hash)
    calldata = bytes(sent["input"] if "input" in sent else sent["data"])
    return {
        "version": ANCHOR_VERSION,
        "rpc_url": strip_url_credentials(cfg.chain),  # the manifest is read by many: never its password
        "ephemeral": chain.ephemeral,
        "chain_id": chain.chain_id,
        "contract": registry.address,
        "sender": chain.sender,
        "tx_hash": tx.tx_hash,
        "block_number": tx.block_number,
        "block_hash": "0x" + bytes(block["hash"]).hex(),
        "audit_root": "0x" + root.hex(),
        "uri": uri,
        "gas_used": tx.gas_used,
        "calldata": "0x" + calldata.hex(),
    }


def anchor_statement(
    anchor_cfg: AnchorSpec | dict[str, Any], statement_sha256: str, run_id: str, experiment: Any
) -> dict[str, Any]:
    """Anchor a run's signed statement digest (it covers the chain, every artifact and metric).

    Returns:
        the record of `anchor_audit_root`, with the anchored digest under `statement_sha256`.
    """
    record = anchor_audit_root(anchor_cfg, statement_sha256, run_id, experiment)
    record["statement_sha256"] = record.pop("audit_root")
    record["anchors"] = "statement"
    return record


def _check_recorded(anchor: dict[str, Any], root: bytes) -> None:
    """What can be recomputed without the chain: the recorded root and calldata name this root."""
    recorded = str(anchor.get("statement_sha256") or anchor.get("audit_root", ""))
    if recorded.removeprefix("0x").lower() != root.hex():
        raise AuditError(
            f"anchor: the manifest anchors root {recorded[:14]}…, not this run's audit root 0x{root.hex()[:12]}…"
        )
    from web3 import Web3

    contract = Web3().eth.contract(abi=load_artifact().abi)
    try:
        fn, args = contract.decode_function_input(str(anchor.get("calldata", "")))
    except Exception:
        raise AuditError("anchor: the recorded calldata is not a call to the registry") from None
    if fn.fn_name != "anchor" or bytes(args["root"]) != root:
        raise AuditError("anchor: the recorded transaction does not anchor this audit root")


def check_anchor(anchor: dict[str, Any], audit_root: str) -> None:
    """Check that `anchor` (from a manifest) holds `audit_root`; on a node, read the chain again.

    Raises:
        AuditError: the anchor is for another root, or the chain does not hold it as recorded.
        EphemeralChain: the record is consistent but its chain (in-process) is gone: nothing more
            can be proven, and `civiclab verify` reports the anchor as not checked, saying why.
        ChainError: the node cannot be reached.
    """
    root = _root_bytes(audit_root)
    _check_recorded(anchor, root)
    if anchor.get("ephemeral") or anchor.get("rpc_url") == IN_PROCESS:
        raise EphemeralChain(
            "anchored on the in-process chain, which ended with the run: the recorded transaction "
            f"(tx {anchor.get('tx_hash')}, block {anchor.get('block_number')}) anchors this root, "
            "but the chain itself cannot be re-read"
        )
    url = str(anchor.get("rpc_url"))
    chain = _connect(url, None, 15.0)
    if chain.chain_id != int(anchor.get("chain_id", -1)):
        raise AuditError(
            f"anchor: the node at {url} is chain {chain.chain_id}, the anchor is on {anchor.get('chain_id')}"
        )
    try:
        registry = AttestationRegistry.attach(chain, str(anchor["contract"]))
        issuer, _, block_number = registry.batch(root)
    except (ChainError, KeyError, ValueError) as exc:
        raise AuditError(
            f"anchor: cannot read the registry at {anchor.get('contract')} on {url}: {exc}"
        ) from None
    if issuer.lower() == ZERO_ADDRESS:
        raise AuditError(
            f"anchor: chain {chain.chain_id} at {url} does not hold audit root 0x{root.hex()[:12]}…"
        )
    if (
        block_number != int(anchor.get("block_number", -1))
        or issuer.lower() != str(anchor.get("sender", "")).lower()
    ):
        raise AuditError(
            f"anchor: the root is on chain but in block {block_number} by {issuer}, not as the manifest records"
        )
    block = chain.w3.eth.get_block(block_number)
    if "0x" + bytes(block["hash"]).hex() != anchor.get("block_hash"):
        raise AuditError(
            f"anchor: block {block_number} on {url} is not the recorded block (chain reorganised?)"
        )


def describe_anchor(anchor: dict[str, Any]) -> str:
    """One line for `civiclab verify`: where the root is anchored and how far that can be checked."""
    where = f"chain {anchor.get('chain_id')} registry {anchor.get('contract')} tx {anchor.get('tx_hash')}"
    if anchor.get("ephemeral") or anchor.get("rpc_url") == IN_PROCESS:
        return (
            f"anchored on the in-process chain ({where}); that chain ended with the run, so only the "
            "recorded transaction was checked, not the chain"
        )
    return (
        f"anchored on {anchor.get('rpc_url')} ({where}, block {anchor.get('block_number')}); checked on chain"
    )
