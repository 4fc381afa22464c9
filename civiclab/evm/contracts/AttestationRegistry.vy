# pragma version 0.4.3
# pragma evm-version cancun
"""
@title Attestation registry of a municipality, with time
@notice Anchors Merkle roots of salted document hashes, revokes single attestations or whole batches,
        and keeps WHEN: each issuer account's authorisation period, each root's anchoring time, each
        revocation's time. A verifier asks "was this attestation valid at time T?", so withdrawing or
        rotating an issuer account never invalidates what it anchored while it was authorised.
        Nothing personal is ever stored or logged here: only 32-byte hashes, counts, times and addresses.
@dev    A per-document issuance is a batch of one whose root is the document's leaf. Times are block
        timestamps (seconds). An open authorisation ends at max_value(uint256).
"""

MAX_QUERIES: constant(uint256) = 1000


struct Batch:
    issuer: address
    count: uint256
    block_number: uint256
    anchored_at: uint256
    revoked_at: uint256


struct Period:
    authorised_from: uint256
    authorised_until: uint256


struct Query:
    root: bytes32
    leaf: bytes32
    issuer: address


struct Standing:
    issuer_from: uint256
    issuer_until: uint256
    root_issuer: address
    anchored_at: uint256
    anchored_block: uint256
    revoked_at: uint256


event IssuerSet:
    issuer: indexed(address)
    authorised_from: uint256
    authorised_until: uint256

event BatchAnchored:
    root: indexed(bytes32)
    issuer: indexed(address)
    count: uint256
    uri: String[256]
    anchored_at: uint256

event AttestationRevoked:
    root: indexed(bytes32)
    leaf: indexed(bytes32)
    issuer: indexed(address)
    revoked_at: uint256

event BatchRevoked:
    root: indexed(bytes32)
    issuer: indexed(address)
    revoked_at: uint256


owner: public(address)
periods: public(HashMap[address, Period])
batches: public(HashMap[bytes32, Batch])
revoked_at: public(HashMap[bytes32, HashMap[bytes32, uint256]])


@deploy
def __init__():
    self.owner = msg.sender


@view
@internal
def _authorised(issuer: address, t: uint256) -> bool:
    period: Period = self.periods[issuer]
    return period.authorised_from != 0 and period.authorised_from <= t and t < period.authorised_until


@view
@external
def issuers(issuer: address) -> bool:
    """@notice Whether `issuer` may anchor now."""
    return self._authorised(issuer, block.timestamp)


@external
def set_issuer(issuer: address, authorised: bool):
    """
    @notice Authorise an issuer account from now on, or withdraw it from now on (only the owner).
    @dev    A withdrawn account stays withdrawn: a rotated key is a new account, so the period of the old
            one (and everything it anchored within it) is kept as it was.
    """
    assert msg.sender == self.owner, "not owner"
    assert issuer != empty(address), "zero issuer"
    period: Period = self.periods[issuer]
    if authorised:
        assert period.authorised_from == 0, "issuer already authorised once: authorise a new key"
        period = Period(authorised_from=block.timestamp, authorised_until=max_value(uint256))
    else:
        assert period.authorised_from != 0, "unknown issuer"
        period.authorised_until = min(period.authorised_until, block.timestamp)
    self.periods[issuer] = period
    log IssuerSet(issuer=issuer, authorised_from=period.authorised_from, authorised_until=period.authorised_until)


@external
def withdraw_issuer(issuer: address, until: uint256):
    """
    @notice End an issuer's authorisation at `until`, which may be in the past (a key found compromised
            since then): roots it anchored from `until` on no longer count, earlier ones still do.
    """
    assert msg.sender == self.owner, "not owner"
    period: Period = self.periods[issuer]
    assert period.authorised_from != 0, "unknown issuer"
    assert until >= period.authorised_from, "before the authorisation began"
    period.authorised_until = min(period.authorised_until, until)
    self.periods[issuer] = period
    log IssuerSet(issuer=issuer, authorised_from=period.authorised_from, authorised_until=period.authorised_until)


@external
def anchor(root: bytes32, count: uint256, uri: String[256]):
    """@notice Anchor the Merkle root of `count` attestations issued by the caller."""
    assert self._authorised(msg.sender, block.timestamp), "unknown issuer"
    assert root != empty(bytes32), "empty root"
    assert count > 0, "empty batch"
    assert self.batches[root].issuer == empty(address), "root already anchored"
    self.batches[root] = Batch(
        issuer=msg.sender, count=count, block_number=block.number, anchored_at=block.timestamp, revoked_at=0
    )
    log BatchAnchored(root=root, issuer=msg.sender, count=count, uri=uri, anchored_at=block.timestamp)


@external
def revoke(root: bytes32, leaf: bytes32):
    """@notice Revoke one attestation (its leaf) of a batch the caller anchored, from now on."""
    assert self.batches[root].issuer == msg.sender, "not the batch issuer"
    assert self.revoked_at[root][leaf] == 0, "already revoked"
    self.revoked_at[root][leaf] = block.timestamp
    log AttestationRevoked(root=root, leaf=leaf, issuer=msg.sender, revoked_at=block.timestamp)


@external
def revoke_batch(root: bytes32):
    """@notice Revoke every attestation of a batch the caller anchored, from now on."""
    assert self.batches[root].issuer == msg.sender, "not the batch issuer"
    assert self.batches[root].revoked_at == 0, "already revoked"
    self.batches[root].revoked_at = block.timestamp
    log BatchRevoked(root=root, issuer=msg.sender, revoked_at=block.timestamp)


@view
@internal
def _standing(root: bytes32, leaf: bytes32, issuer: address) -> Standing:
    batch: Batch = self.batches[root]
    period: Period = self.periods[issuer]
    revoked: uint256 = self.revoked_at[root][leaf]
    if batch.revoked_at != 0 and (revoked == 0 or batch.revoked_at < revoked):
        revoked = batch.revoked_at
    return Standing(
        issuer_from=period.authorised_from,
        issuer_until=period.authorised_until,
        root_issuer=batch.issuer,
        anchored_at=batch.anchored_at,
        anchored_block=batch.block_number,
        revoked_at=revoked,
    )


@view
@external
def standing(root: bytes32, leaf: bytes32, issuer: address) -> Standing:
    """
    @notice Everything a verifier needs to judge one attestation claiming `issuer` at any time: the
            issuer's authorisation period, who anchored the root and when, and when it was revoked
            (0: never; the earlier of the leaf's and the batch's revocation).
    """
    return self._standing(root, leaf, issuer)


@view
@external
def standings(queries: DynArray[Query, MAX_QUERIES]) -> DynArray[Standing, MAX_QUERIES]:
    """@notice `standing` for up to MAX_QUERIES attestations in one call."""
    out: DynArray[Standing, MAX_QUERIES] = []
    for q: Query in queries:
        out.append(self._standing(q.root, q.leaf, q.issuer))
    return out
