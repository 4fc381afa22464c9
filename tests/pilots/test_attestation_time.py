"""Status at a time, on the real in-process chain: revocation times, issuer periods, key rotation, validity.

Times are the chain's own block timestamps, read back from the blocks that carried each transaction, so
every expected verdict is derived from when things were mined, not from what the registry answers.
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from civiclab.errors import ChainError
from civiclab.evm import OPEN_END, AttestationRegistry, Chain, status_at
from pilots.attestation.credential import TrustedIssuer, build_attestation, iso_time, verify
from pilots.attestation.dataintegrity import did_key, issuer_signing_key
from pilots.attestation.documents import document_digest, synthetic_document
from pilots.attestation.merkle import MerkleTree, leaf_hash

OLD_KEY = issuer_signing_key("town hall, key of 2025")
NEW_KEY = issuer_signing_key("town hall, key of 2026")
OLD_DID = did_key(OLD_KEY.public_key().public_bytes_raw())
NEW_DID = did_key(NEW_KEY.public_key().public_bytes_raw())
DAY = 86_400


@pytest.fixture(scope="module")
def chain() -> Chain:
    return Chain.connect(None)


@pytest.fixture
def registry(chain: Chain) -> AttestationRegistry:
    registry, _ = AttestationRegistry.deploy(chain)
    registry.set_issuer(chain.sender, True)
    return registry


class Issued:
    """Documents anchored in one root by `account`, each with its credential signed by `key`."""

    def __init__(
        self, registry: AttestationRegistry, key: Any, account: str, seed: int, n: int = 4, days: int = 90
    ) -> None:
        rng = random.Random(seed)
        self.docs = [synthetic_document("residence", rng) for _ in range(n)]
        salts = [rng.randbytes(32) for _ in range(n)]
        digests = [document_digest(s, d) for s, d in zip(salts, self.docs, strict=True)]
        self.leaves = [leaf_hash(d) for d in digests]
        tree = MerkleTree(self.leaves)
        self.root = tree.root
        self.tx = registry.anchor(tree.root, n, sender=account)
        self.anchored_at = registry.block_time(self.tx.block_number)
        self.valid_until = self.anchored_at + days * DAY
        self.credentials = [
            build_attestation(
                signing_key=key,
                kind="residence",
                digest=digests[i],
                salt=salts[i],
                root=tree.root,
                path=tree.proof(i),
                issuer=account,
                registry=registry,
                valid_from=iso_time(self.anchored_at),
                valid_until=iso_time(self.valid_until),
            )  # fmt: skip
            for i in range(n)
        ]

    def check(self, i: int, registry: Any, trusted: dict[str, Any], at: int) -> str:
        return verify(
            self.docs[i].model_dump(mode="json"), self.credentials[i], registry, trusted, at=at
        ).reason


def test_a_revocation_counts_from_its_time_on(registry: AttestationRegistry) -> None:
    issued = Issued(registry, OLD_KEY, registry.chain.sender, seed=1)
    trusted = {OLD_DID: registry.chain.sender}
    revoked_at = registry.block_time(registry.revoke(issued.root, issued.leaves[0]).block_number)
    assert revoked_at > issued.anchored_at
    assert issued.check(0, registry, trusted, at=revoked_at - 1) == "accepted"  # the deed signed before
    assert issued.check(0, registry, trusted, at=revoked_at) == "revoked"
    assert issued.check(0, registry, trusted, at=issued.anchored_at - 1) == "not_yet_valid"
    assert issued.check(1, registry, trusted, at=revoked_at) == "accepted"  # its neighbour in the batch
    # Revoking the whole batch later: the leaf keeps its earlier revocation time, the others get the batch's.
    batch_at = registry.block_time(registry.revoke_batch(issued.root).block_number)
    standing = registry.standings([(issued.root, leaf, registry.chain.sender) for leaf in issued.leaves])
    assert [s.revoked_at for s in standing] == [revoked_at] + [batch_at] * 3
    assert issued.check(1, registry, trusted, at=batch_at - 1) == "accepted"
    assert issued.check(1, registry, trusted, at=batch_at) == "revoked"
    with pytest.raises(ChainError, match="already revoked"):
        registry.revoke_batch(issued.root)


def test_validity_period_is_checked_offline(registry: AttestationRegistry) -> None:
    issued = Issued(registry, OLD_KEY, registry.chain.sender, seed=2, days=30)
    trusted = {OLD_DID: registry.chain.sender}
    assert issued.credentials[0].validUntil == iso_time(issued.anchored_at + 30 * DAY)
    assert issued.check(0, registry, trusted, at=issued.valid_until - 1) == "accepted"
    assert issued.check(0, registry, trusted, at=issued.valid_until) == "expired"


def test_rotating_the_issuer_key_and_account_keeps_what_the_old_ones_issued(
    chain: Chain, registry: AttestationRegistry
) -> None:
    """The town hall moves to a new signing key and a new anchoring account; the old ones are withdrawn."""
    old_account, new_account = chain.sender, chain.unlocked_accounts()[5]
    before = Issued(registry, OLD_KEY, old_account, seed=3)
    rotated_at = registry.block_time(registry.set_issuer(old_account, False).block_number)
    registry.set_issuer(new_account, True)
    after = Issued(registry, NEW_KEY, new_account, seed=4)
    trusted = {
        OLD_DID: TrustedIssuer(old_account, valid_until=rotated_at),
        NEW_DID: TrustedIssuer(new_account, valid_from=rotated_at),
    }
    now = registry.now()
    assert before.check(0, registry, trusted, now) == "accepted"
    assert after.check(0, registry, trusted, now) == "accepted"
    with pytest.raises(ChainError, match="unknown issuer"):
        Issued(registry, OLD_KEY, old_account, seed=5)
    # The old key, still in someone's hands, signs a credential dated after the rotation: refused offline.
    late = build_attestation(
        signing_key=OLD_KEY, kind="residence", digest=bytes(32), salt=bytes(32), root=after.root, path=[],
        issuer=old_account, registry=registry, valid_from=iso_time(rotated_at + 10),
    )  # fmt: skip
    assert verify(after.docs[0].model_dump(mode="json"), late, registry, trusted, at=now).reason == (
        "key_not_valid_at_issuance"
    )
    # The standing says when each account was authorised, as mined.
    period = registry.standing(before.root, before.leaves[0], old_account)
    assert (period.issuer_from, period.issuer_until, period.anchored_at) == (
        period.issuer_from, rotated_at, before.anchored_at,
    )  # fmt: skip
    assert registry.standing(after.root, after.leaves[0], new_account).issuer_until == OPEN_END


def test_a_key_found_compromised_is_withdrawn_from_a_past_time(
    chain: Chain, registry: AttestationRegistry
) -> None:
    """Roots anchored before the compromise still count; those anchored after it no longer do."""
    early = Issued(registry, OLD_KEY, chain.sender, seed=6)
    late = Issued(registry, OLD_KEY, chain.sender, seed=7)
    assert late.anchored_at > early.anchored_at
    registry.withdraw_issuer(chain.sender, late.anchored_at)
    trusted = {OLD_DID: chain.sender}
    now = registry.now()
    assert early.check(0, registry, trusted, now) == "accepted"
    assert late.check(0, registry, trusted, now) == "unknown_issuer"
    with pytest.raises(ChainError, match="before the authorisation began"):
        registry.withdraw_issuer(chain.sender, 1)


def test_status_at_a_time_for_many_in_one_call_agrees_with_one_by_one_and_with_the_view(
    chain: Chain, registry: AttestationRegistry
) -> None:
    batches = [Issued(registry, OLD_KEY, chain.sender, seed=10 + i, n=8) for i in range(3)]
    revoked_at = registry.block_time(registry.revoke(batches[1].root, batches[1].leaves[2]).block_number)
    queries = [(b.root, leaf, chain.sender) for b in batches for leaf in b.leaves]
    queries.append((b"\x42" * 32, b"\x43" * 32, chain.sender))  # never anchored
    view = registry.view()
    times = [batches[0].anchored_at - 1, batches[2].anchored_at, revoked_at]
    for t in times:
        expected = [
            "root_not_anchored" if q[0] == b"\x42" * 32 or registry.standing(*q).anchored_at > t
            else "revoked" if (q[0], q[1]) == (batches[1].root, batches[1].leaves[2]) and t >= revoked_at
            else "accepted"
            for q in queries
        ]  # fmt: skip
        assert status_at(registry, queries, t) == expected
        assert status_at(view, queries, t) == expected
    assert status_at(registry, queries, revoked_at).count("revoked") == 1


def test_many_statuses_are_read_in_chunks_of_the_contracts_limit(registry: AttestationRegistry) -> None:
    issued = Issued(registry, OLD_KEY, registry.chain.sender, seed=20, n=2)
    queries = [(issued.root, issued.leaves[i % 2], registry.chain.sender) for i in range(1001)]
    started = time.perf_counter()
    verdicts = status_at(registry, queries, registry.now())
    assert verdicts == ["accepted"] * 1001
    assert time.perf_counter() - started < 60  # two eth_calls on py-evm; the bench has the figures
