"""The registry contract: the committed artifact is what the source compiles to, and it behaves on a real EVM."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest

from civiclab.errors import ChainError
from civiclab.evm.client import Chain
from civiclab.evm.contract import ARTIFACT, EVM_VERSION, compile_source, load_artifact, source_sha256
from civiclab.evm.registry import AttestationRegistry
from pilots.attestation.credential import build_attestation, verify
from pilots.attestation.dataintegrity import add_proof, did_key, issuer_signing_key
from pilots.attestation.documents import document_digest, synthetic_document
from pilots.attestation.merkle import MerkleTree, leaf_hash


def test_the_committed_artifact_is_what_the_source_compiles_to() -> None:
    committed = json.loads(ARTIFACT.read_text())
    fresh = compile_source()
    assert committed["bytecode"] == fresh.bytecode
    assert committed["abi"] == fresh.abi
    assert committed["source_sha256"] == source_sha256()
    assert committed["evm_version"] == EVM_VERSION == "cancun"
    assert committed["compiler"] == "vyper 0.4.3"
    assert "# pragma evm-version cancun" in (ARTIFACT.parent / committed["source"]).read_text()


@pytest.fixture(scope="module")
def chain() -> Chain:
    return Chain.connect(None)


@pytest.fixture
def registry(chain: Chain) -> Iterator[AttestationRegistry]:
    registry, deployed = AttestationRegistry.deploy(chain)
    assert deployed.gas_used > 0
    registry.set_issuer(chain.sender, True)
    yield registry


KEY = issuer_signing_key("town hall of Belleval")
DID = did_key(KEY.public_key().public_bytes_raw())


def _trusted(registry: AttestationRegistry) -> dict[str, str]:
    return {DID: registry.chain.sender}


def _attested(registry: AttestationRegistry, seed: int = 1) -> tuple[dict, object, bytes, bytes]:
    rng = random.Random(seed)
    doc = synthetic_document("residence", rng)
    salt = rng.randbytes(32)
    digest = document_digest(salt, doc)
    leaves = [leaf_hash(digest)] + [leaf_hash(rng.randbytes(32)) for _ in range(6)]
    tree = MerkleTree(leaves)
    registry.anchor(tree.root, len(leaves))
    att = build_attestation(
        signing_key=KEY, kind="residence", digest=digest, salt=salt, root=tree.root, path=tree.proof(0),
        issuer=registry.chain.sender, registry=registry, valid_from="2026-01-05T09:00:00Z",
    )  # fmt: skip
    return doc.model_dump(mode="json"), att, tree.root, leaves[0]


def test_only_an_authorised_issuer_anchors_and_a_root_is_anchored_once(
    chain: Chain, registry: AttestationRegistry
) -> None:
    outsider = chain.unlocked_accounts()[3]
    with pytest.raises(ChainError, match="anchor reverted on in-process: unknown issuer"):
        registry.anchor(b"\x01" * 32, 1, sender=outsider)
    assert registry.batch(b"\x01" * 32)[0] == "0x" + "00" * 20  # nothing recorded
    registry.anchor(b"\x02" * 32, 5, "batch-2")
    issuer, count, _ = registry.batch(b"\x02" * 32)
    assert (issuer, count) == (chain.sender, 5)
    with pytest.raises(ChainError, match="root already anchored"):
        registry.anchor(b"\x02" * 32, 5)
    with pytest.raises(ChainError, match="empty batch"):
        registry.anchor(b"\x03" * 32, 0)


def test_a_genuine_attestation_verifies_until_revoked(registry: AttestationRegistry) -> None:
    doc, att, root, leaf = _attested(registry)
    assert verify(doc, att, registry, _trusted(registry)).reason == "accepted"
    registry.revoke(root, leaf)
    assert verify(doc, att, registry, _trusted(registry)).reason == "revoked"
    with pytest.raises(ChainError, match="already revoked"):
        registry.revoke(root, leaf)


def test_only_the_batch_issuer_revokes(chain: Chain, registry: AttestationRegistry) -> None:
    doc, att, root, leaf = _attested(registry, seed=2)
    other = chain.unlocked_accounts()[4]
    with pytest.raises(ChainError, match="not the batch issuer"):
        chain.send(registry.contract.functions.revoke(root, leaf), what="revoke", sender=other)
    assert verify(doc, att, registry, _trusted(registry)).accepted


def test_a_withdrawn_issuer_anchors_no_more_and_a_foreign_registry_is_refused(
    chain: Chain, registry: AttestationRegistry
) -> None:
    doc, att, _, _ = _attested(registry, seed=3)
    other, _ = AttestationRegistry.deploy(chain)
    assert verify(doc, att, other, _trusted(registry)).reason == "wrong_registry"
    registry.set_issuer(chain.sender, False)
    # What it anchored while authorised still stands; it cannot anchor any more, nor be re-authorised.
    assert verify(doc, att, registry, _trusted(registry)).reason == "accepted"
    with pytest.raises(ChainError, match="unknown issuer"):
        registry.anchor(b"\x07" * 32, 1)
    with pytest.raises(ChainError, match="authorise a new key"):
        registry.set_issuer(chain.sender, True)


def test_bad_files_are_rejections_not_crashes(registry: AttestationRegistry) -> None:
    doc, att, _, _ = _attested(registry, seed=4)
    broken = att.as_json()
    broken["evidence"][0]["salt"] = "0x12"
    assert verify(doc, broken, registry, _trusted(registry)).reason == "malformed_attestation"
    assert verify({"kind": "residence"}, att, registry, _trusted(registry)).reason == "malformed_document"
    assert verify(doc, "not a credential", registry, _trusted(registry)).reason == "malformed_attestation"
    short = att.as_json()
    short["evidence"][0]["path"] = short["evidence"][0]["path"][1:]
    assert verify(doc, short, registry, _trusted(registry)).reason == "invalid_signature"
    # The issuer signs a path that does not reach the root: the signature holds, the inclusion does not.
    resigned = add_proof(
        {k: v for k, v in short.items() if k != "proof"}, KEY, created="2026-01-05T09:00:00Z"
    )
    assert verify(doc, resigned, registry, _trusted(registry)).reason == "invalid_proof"


def test_the_synced_view_answers_like_the_chain(registry: AttestationRegistry) -> None:
    doc, att, root, leaf = _attested(registry, seed=5)
    doc2, att2, root2, leaf2 = _attested(registry, seed=6)
    registry.revoke(root2, leaf2)
    view = registry.view()
    for d, a in ((doc, att), (doc2, att2)):
        assert verify(d, a, view, _trusted(registry)) == verify(d, a, registry, _trusted(registry))
    assert verify(doc2, att2, view, _trusted(registry)).reason == "revoked"


def test_the_pilot_loads_the_committed_artifact_without_compiling() -> None:
    artifact = load_artifact()
    assert artifact.bytecode.startswith("0x") and artifact.source_sha256 == source_sha256()


def test_a_bad_key_is_named_by_its_variable_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLAB_TEST_BAD_KEY", "0xnot-a-key-secret-value")
    with pytest.raises(ChainError) as info:
        Chain.connect(None, key_env="CIVICLAB_TEST_BAD_KEY")
    assert "CIVICLAB_TEST_BAD_KEY" in str(info.value) and "secret" not in str(info.value)
    monkeypatch.delenv("CIVICLAB_TEST_BAD_KEY")
    with pytest.raises(ChainError, match="CIVICLAB_TEST_BAD_KEY .* is not set"):
        Chain.connect(None, key_env="CIVICLAB_TEST_BAD_KEY")
