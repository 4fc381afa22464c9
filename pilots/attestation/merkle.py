"""Merkle batching of attestation leaves, with inclusion proofs.

Hashing is SHA-256 with domain separation (0x00 for leaves, 0x01 for inner nodes), so an inner
node can never be passed off as a leaf. Pairs are hashed in sorted order, so a proof is just the
list of sibling hashes; an odd node is carried up unchanged rather than paired with itself (which
would let two different leaf lists share a root).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def leaf_hash(document_digest: bytes) -> bytes:
    """The leaf of one attestation: a hash of the salted document digest."""
    return hashlib.sha256(LEAF_PREFIX + document_digest).digest()


def node_hash(a: bytes, b: bytes) -> bytes:
    low, high = (a, b) if a <= b else (b, a)
    return hashlib.sha256(NODE_PREFIX + low + high).digest()


class MerkleTree:
    """All levels of a tree over `leaves` (at least one); `proof(i)` proves leaf i against `root`."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            level = self.levels[-1]
            up = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                up.append(level[-1])
            self.levels.append(up)

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def __len__(self) -> int:
        return len(self.levels[0])

    def proof(self, index: int) -> list[bytes]:
        """Sibling hashes from leaf `index` up to the root."""
        if not 0 <= index < len(self):
            raise IndexError(f"leaf {index} out of range 0..{len(self) - 1}")
        path: list[bytes] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index //= 2
        return path


def verify_proof(leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """True when `proof` links `leaf` to `root`."""
    node = leaf
    for sibling in proof:
        if len(sibling) != 32:
            return False
        node = node_hash(node, sibling)
    return node == root
