# pragma version 0.4.3
# pragma evm-version cancun
"""
@title Attestation registry of a municipality
@notice Anchors Merkle roots of salted document hashes and revokes single attestations.
        Nothing personal is ever stored or logged here: only 32-byte hashes, counts and addresses.
@dev    A per-document issuance is a batch of one whose root is the document's leaf.
"""

struct Batch:
    issuer: address
    count: uint256
    block_number: uint256


event IssuerSet:
    issuer: indexed(address)
    authorised: bool

event BatchAnchored:
    root: indexed(bytes32)
    issuer: indexed(address)
    count: uint256
    uri: String[256]

event AttestationRevoked:
    root: indexed(bytes32)
    leaf: indexed(bytes32)
    issuer: indexed(address)


owner: public(address)
issuers: public(HashMap[address, bool])
batches: public(HashMap[bytes32, Batch])
revoked: public(HashMap[bytes32, HashMap[bytes32, bool]])


@deploy
def __init__():
    self.owner = msg.sender


@external
def set_issuer(issuer: address, authorised: bool):
    """@notice Authorise or withdraw an issuer; only the registry owner may."""
    assert msg.sender == self.owner, "not owner"
    assert issuer != empty(address), "zero issuer"
    self.issuers[issuer] = authorised
    log IssuerSet(issuer=issuer, authorised=authorised)


@external
def anchor(root: bytes32, count: uint256, uri: String[256]):
    """@notice Anchor the Merkle root of `count` attestations issued by the caller."""
    assert self.issuers[msg.sender], "unknown issuer"
    assert root != empty(bytes32), "empty root"
    assert count > 0, "empty batch"
    assert self.batches[root].issuer == empty(address), "root already anchored"
    self.batches[root] = Batch(issuer=msg.sender, count=count, block_number=block.number)
    log BatchAnchored(root=root, issuer=msg.sender, count=count, uri=uri)


@external
def revoke(root: bytes32, leaf: bytes32):
    """@notice Revoke one attestation (its leaf) of a batch the caller anchored."""
    assert self.batches[root].issuer == msg.sender, "not the batch issuer"
    assert not self.revoked[root][leaf], "already revoked"
    self.revoked[root][leaf] = True
    log AttestationRevoked(root=root, leaf=leaf, issuer=msg.sender)


@view
@external
def status(root: bytes32, leaf: bytes32, issuer: address) -> (bool, address, bool, uint256):
    """
    @notice Everything a verifier needs in one call, for an attestation claiming `issuer`.
    @return (claimed issuer authorised, issuer that anchored the root (zero if none), leaf revoked,
            block the root was anchored at)
    """
    batch: Batch = self.batches[root]
    return self.issuers[issuer], batch.issuer, self.revoked[root][leaf], batch.block_number
