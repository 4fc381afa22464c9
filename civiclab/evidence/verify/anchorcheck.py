"""Checking that a run's signed statement is anchored where the trust file says, in time.

The chain, registry and issuer come from the committee's trust file, never from the run's own
record (which whoever can write the store can rewrite): a statement re-anchored later on a newly
deployed registry, or by another sender, or long after the run ended, does not count. A run is
anchored once: another statement of the same run anchored by the trusted issuer means it was signed
again after it ended (an insider with the lab's key re-signing a changed run), and neither counts.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from civiclab.errors import ChainError
from civiclab.evidence.signing.trust import AnchorTrust
from civiclab.evidence.verify.result import Check, ReviewRow, failed, ok

if TYPE_CHECKING:
    from civiclab.evm import AttestationRegistry, Chain

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
    from civiclab.evm import Chain

    try:
        chain = Chain.connect(trust.rpc_url, timeout_s=15.0)
    except ChainError as exc:
        return failed(name, f"cannot reach the trusted chain: {exc}")
    if chain.chain_id != trust.chain_id:
        return failed(
            name,
            f"the node at {trust.rpc_url} is chain {chain.chain_id}, the trust file says {trust.chain_id}",
        )
    return check_anchor_on(chain, digest, statement, trust)


def _other_statements(
    registry: AttestationRegistry, digest: str, statement: dict[str, Any], trust: AnchorTrust
) -> list[tuple[bytes, int]]:
    """Every other digest the trusted issuer anchored for this run, with its block, oldest first."""
    from civiclab.evidence.anchoring import anchor_uri

    run_id = str((statement.get("predicate") or {}).get("run_id", ""))
    return [
        a for a in registry.anchored_by(trust.issuer, anchor_uri(run_id)) if a[0] != bytes.fromhex(digest)
    ]


def check_anchor_on(chain: Chain, digest: str, statement: dict[str, Any], trust: AnchorTrust) -> Check:
    """The anchor check on a chain already reached (the trust file's node, checked to be its chain).

    Besides this statement's anchor, every anchor the trusted issuer made for the same run is read: a
    run's statement is anchored once, so another one means the run was signed again after it ended.
    """
    from civiclab.evm import ZERO_ADDRESS, AttestationRegistry

    name = "anchor"
    try:
        registry = AttestationRegistry.attach(chain, trust.registry)
        issuer, _, block_number = registry.batch(bytes.fromhex(digest))
        others = _other_statements(registry, digest, statement, trust)
    except (ChainError, ValueError) as exc:
        return failed(name, f"cannot read the trusted registry {trust.registry}: {exc}")
    earlier = [o for o in others if issuer.lower() == ZERO_ADDRESS or o[1] <= block_number]
    if issuer.lower() == ZERO_ADDRESS:
        detail = f"statement {digest[:12]}… is not anchored on the trusted registry {trust.registry}"
        if earlier:
            detail += f"; another statement of this run was anchored at block {earlier[0][1]}: re-signed"
        return failed(name, detail)
    if issuer.lower() != trust.issuer.lower():
        return failed(name, f"anchored by {issuer}, not by the trusted issuer {trust.issuer}")
    if earlier:
        root, block = earlier[0]
        return failed(
            name,
            f"an earlier statement of this run was anchored at block {block}: re-signed (statement "
            f"{root.hex()[:12]}… then, this one {digest[:12]}… at block {block_number})",
        )
    if others:
        root, block = others[0]
        return failed(
            name,
            f"a later statement of this run was anchored at block {block}: the run was signed again "
            f"(statement {root.hex()[:12]}…) after this one (block {block_number})",
        )
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
        f"chain {trust.chain_id} registry {trust.registry} block {block_number}, {max(delay, 0):.0f} s after "
        "the run ended, the only statement of this run its issuer anchored",
    )


def check_review_anchors(rows: list[ReviewRow], run_id: str, trust: AnchorTrust) -> Check:
    """Every review of the run anchored by the trusted issuer, and no anchored review missing from the run.

    The last review of a run can be cut by whoever rewrites the store, the artifacts and every copy;
    its anchor cannot be: an anchored review the chain no longer holds was dropped (or its recording
    was interrupted after it was anchored, which the reviewer then knows).
    """
    from civiclab.evidence.anchoring import review_anchor_uri
    from civiclab.evm import AttestationRegistry, Chain

    name = "review anchors"
    try:
        chain = Chain.connect(trust.rpc_url, timeout_s=15.0) if trust.rpc_url else None
        if chain is None:
            return failed(name, "the trust file's anchoring has no rpc_url to read the chain from")
        registry = AttestationRegistry.attach(chain, trust.registry)
        anchored = registry.anchored_by(trust.issuer, review_anchor_uri(run_id))
    except (ChainError, ValueError) as exc:
        return failed(name, f"cannot read the trusted registry {trust.registry}: {exc}")
    held = {r.sha256 for r in rows if r.sha256}
    for digest, block in anchored:
        if digest.hex() not in held:
            return failed(
                name,
                f"a review anchored at block {block} ({digest.hex()[:12]}…) is not in the run's chain: dropped "
                "(or its recording was interrupted after it was anchored)",
            )
    blocks = {digest.hex(): block for digest, block in anchored}
    missing = next((r for r in rows if r.sha256 and r.sha256 not in blocks), None)
    if missing is not None:
        return failed(
            name, f"review line {missing.line} is not anchored on the trusted registry {trust.registry}"
        )
    if not rows:
        return ok(name, "no review, and none anchored for this run")
    return ok(name, f"{len(rows)} review(s) anchored by the trusted issuer, none missing from the run")
