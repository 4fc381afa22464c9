"""Checking that a run's signed statement is anchored where the trust file says, in time.

The chain, registry and issuer come from the committee's trust file, never from the run's own
record (which whoever can write the store can rewrite): a statement re-anchored later on a newly
deployed registry, or by another sender, or long after the run ended, does not count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from civiclab.errors import ChainError
from civiclab.evidence.signing.trust import AnchorTrust
from civiclab.evidence.verify.result import Check, failed, ok

# Clocks of the lab's machine and of the chain's validators are not the same clock.
CLOCK_SKEW_S = 120.0


def _parse_ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def check_statement_anchor(
    digest: str, statement: dict[str, Any], trust: AnchorTrust | None, record: dict[str, Any] | None
) -> Check:
    """Is `digest` anchored by the trusted issuer on the trusted registry within the window?"""
    name = "anchor"
    if trust is None:
        if record:
            return Check(
                name=name,
                status="warning",
                detail="the run records an anchor, but the trust file names no chain to check it on",
            )
        return Check(name=name, status="skipped", detail="no anchoring in the trust file")
    if not trust.rpc_url:
        return failed(name, "the trust file's anchoring has no rpc_url to read the chain from")
    from civiclab.evm import ZERO_ADDRESS, AttestationRegistry, Chain

    try:
        chain = Chain.connect(trust.rpc_url, timeout_s=15.0)
    except ChainError as exc:
        return failed(name, f"cannot reach the trusted chain: {exc}")
    if chain.chain_id != trust.chain_id:
        return failed(
            name,
            f"the node at {trust.rpc_url} is chain {chain.chain_id}, the trust file says {trust.chain_id}",
        )
    try:
        registry = AttestationRegistry.attach(chain, trust.registry)
        issuer, _, block_number = registry.batch(bytes.fromhex(digest))
    except (ChainError, ValueError) as exc:
        return failed(name, f"cannot read the trusted registry {trust.registry}: {exc}")
    if issuer.lower() == ZERO_ADDRESS:
        return failed(
            name, f"statement {digest[:12]}… is not anchored on the trusted registry {trust.registry}"
        )
    if issuer.lower() != trust.issuer.lower():
        return failed(name, f"anchored by {issuer}, not by the trusted issuer {trust.issuer}")
    block = chain.w3.eth.get_block(block_number)
    anchored_at = dt.datetime.fromtimestamp(int(block["timestamp"]), dt.UTC)
    ended = _parse_ts(str((statement.get("predicate") or {}).get("ended", "")))
    delay = (anchored_at - ended).total_seconds()
    if delay < -CLOCK_SKEW_S:
        return failed(
            name,
            f"anchored in block {block_number} at {anchored_at:%Y-%m-%d %H:%M:%S}Z, before the run ended",
        )
    if delay > trust.max_delay_s:
        return failed(
            name,
            f"anchored in block {block_number} {delay:.0f} s after the run ended; the trust file allows "
            f"{trust.max_delay_s:.0f} s",
        )
    return ok(
        name,
        f"chain {trust.chain_id} registry {trust.registry} block {block_number}, {max(delay, 0):.0f} s after the run ended",
    )
