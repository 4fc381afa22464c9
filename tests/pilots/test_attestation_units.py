"""Units of the attestation pilot alone: Merkle proofs, canonical documents, the privacy probe, params."""

from __future__ import annotations

import json
import random

import pytest
from pydantic import ValidationError

from civiclab.privacy.probe import PersonalValueProbe
from pilots.attestation.documents import (
    KINDS,
    MalformedDocument,
    document_digest,
    document_salt,
    parse_document,
    personal_values,
    synthetic_document,
)
from pilots.attestation.merkle import MerkleTree, leaf_hash, node_hash, verify_proof
from pilots.attestation.params import AttestationParams
from pilots.attestation.tampering import _altered, _retyped


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 64, 100])
def test_every_leaf_proves_against_the_root_and_no_other(size: int) -> None:
    leaves = [leaf_hash(bytes([i % 256, i // 256]) * 16) for i in range(size)]
    tree = MerkleTree(leaves)
    for i, leaf in enumerate(leaves):
        assert verify_proof(leaf, tree.proof(i), tree.root)
    other = MerkleTree([*leaves, leaf_hash(b"x" * 32)])
    assert not verify_proof(leaves[0], tree.proof(0), other.root)
    assert not verify_proof(leaf_hash(b"y" * 32), tree.proof(0), tree.root)


def test_a_proof_with_one_sibling_changed_fails() -> None:
    tree = MerkleTree([leaf_hash(bytes([i]) * 32) for i in range(10)])
    proof = tree.proof(3)
    proof[1] = bytes(32)
    assert not verify_proof(leaf_hash(bytes([3]) * 32), proof, tree.root)


def test_an_inner_node_is_not_a_leaf() -> None:
    # Domain separation: presenting the pair's hash as a document digest gives another leaf.
    a, b = leaf_hash(b"a" * 32), leaf_hash(b"b" * 32)
    tree = MerkleTree([a, b])
    assert tree.root == node_hash(a, b)
    assert leaf_hash(tree.root) != tree.root


def test_a_retyped_document_hashes_like_the_original_and_an_altered_one_does_not() -> None:
    rng = random.Random(11)
    salt = bytes(range(32))
    for kind in KINDS:
        doc = synthetic_document(kind, rng)
        data = doc.model_dump(mode="json")
        retyped = parse_document(_retyped(data, random.Random(1)))
        assert document_digest(salt, retyped) == document_digest(salt, doc)
        altered = parse_document(_altered(data, random.Random(2)))
        assert document_digest(salt, altered) != document_digest(salt, doc)
        assert document_digest(bytes(32), doc) != document_digest(salt, doc)


def test_a_malformed_document_names_the_field_not_the_value() -> None:
    doc = synthetic_document("residence", random.Random(5)).model_dump(mode="json")
    doc["birth_date"] = "31/02/1990"
    with pytest.raises(MalformedDocument, match=r"residence\.birth_date") as info:
        parse_document(doc)
    assert doc["family_name"] not in str(info.value)
    with pytest.raises(MalformedDocument):
        parse_document({"kind": "passport"})


def test_salts_are_per_document_and_depend_on_the_key() -> None:
    assert document_salt("k", "s000001", 1) != document_salt("k", "s000002", 1)
    assert document_salt("k", "s000001", 1) != document_salt("other", "s000001", 1)
    assert len(document_salt("k", "s1", 1)) == 32


def test_the_probe_finds_values_in_any_form_and_never_shows_them() -> None:
    doc = synthetic_document("diploma", random.Random(3))
    probe = PersonalValueProbe(personal_values(doc))
    name = f"{doc.given_name} {doc.family_name}"
    assert probe.scan_bytes(name.upper().encode(), "upper")
    assert probe.scan_bytes(json.dumps({"n": doc.family_name.title()}).encode(), "json-escaped")
    assert probe.scan_bytes(b"0x" + doc.diploma_number.encode().hex().encode(), "hex")
    assert probe.scan_bytes(b"\x00\xff" + doc.birth_date.isoformat().encode() + b"\x01", "binary")
    assert not probe.scan_bytes(b"nothing personal here 0x1234", "clean")
    assert doc.family_name not in repr(probe) and doc.family_name not in str(probe)
    assert len(PersonalValueProbe(["abc"])) == 0  # too short to prove anything: not probed


def test_params_reject_bad_mixes_and_the_baseline_is_one_document_per_batch() -> None:
    assert AttestationParams(strategy="per_document", batch_size=64).batch_size == 1
    with pytest.raises(ValidationError):
        AttestationParams(scenarios={"genuine": 0})
    with pytest.raises(ValidationError):
        AttestationParams(scenarios={"counterfeit": 1})
    with pytest.raises(ValidationError):
        AttestationParams(rpc_url="ftp://node")


def test_the_probe_counts_every_value_in_a_match_and_scales() -> None:
    rng = random.Random(8)
    docs = [synthetic_document(KINDS[i % 3], rng) for i in range(3000)]
    probe = PersonalValueProbe([v for d in docs for v in personal_values(d)])
    target = docs[1234]
    hits = probe.scan_bytes(f"x {target.given_name} {target.family_name} y".upper().encode(), "full name")
    assert len(hits) >= 2  # the full name and, inside it, the family name
    assert probe.scan_bytes(b"0x" + bytes(range(256)) * 200, "noise") == []


def test_a_bitstring_status_list_reads_like_the_w3c_example_and_sets_the_leftmost_bit_first() -> None:
    from pilots.attestation.statuslist import MIN_LENGTH, decode, encode, is_set

    # The example of W3C Bitstring Status List v1.0 (§2.2): an empty list of the minimum length.
    example = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
    assert decode(example) == bytes(MIN_LENGTH // 8)
    encoded = encode([0, 9, MIN_LENGTH - 1])
    bits = decode(encoded)
    assert (bits[0], bits[1], bits[-1]) == (0b1000_0000, 0b0100_0000, 0b0000_0001)
    assert [i for i in range(16) if is_set(encoded, i)] == [0, 9] and is_set(encoded, MIN_LENGTH - 1)
    assert encode([]) == encode([]) and len(encode([])) < 200  # reproducible, and compresses


def test_the_fast_canonical_json_is_rfc8785_and_falls_back_where_it_would_differ() -> None:
    import rfc8785

    from pilots.attestation.dataintegrity import ProofError, _jcs

    tricky = [chr(c) for c in range(0x80)] + ["é", "\u2028", "\ufeff", "😀", "a/b", 'q"uote', "back\\slash"]
    values: list[object] = [
        {"k": s, s: [s, 1, -(2**53) + 1, True, None]} for s in tricky if s.isascii() or s != "😀"
    ]
    values += [
        {"😀": 1, "\uffff": 2},  # orders differ in UTF-16 and code points: the fallback decides
        {"float": 1.5e-7, "neg_zero": -0.0, "int": 10},
    ]
    for value in values:
        assert _jcs(value) == rfc8785.dumps(value), value
    with pytest.raises(ProofError, match="safe integer"):
        _jcs({"big": 2**60})  # refused, as JCS refuses it, not written as orjson would
