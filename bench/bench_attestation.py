"""Benchmark: Merkle batching vs one transaction per document, on the in-process chain.

Issues 10,000 attestations in Merkle batches and a few hundred with the per-document baseline (its
cost is linear: one transaction each), then prints seconds and gas per attestation for both, their
ratios, and the time to verify one document (its credential's eddsa-jcs-2022 signature, its Merkle proof,
and the status against a view of the registry synced from its events, or with one eth_call per document). Targets: batching >= 100x faster and >= 50x less gas per
attestation; verification <= 1 ms per document.

    .venv/bin/python bench/bench_attestation.py [--documents 10000] [--baseline 300] [--batch 1024]
                                                [--rpc-url http://127.0.0.1:8545]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from civiclab.evm.client import Chain  # noqa: E402
from civiclab.evm.registry import AttestationRegistry  # noqa: E402
from pilots.attestation.credential import AttestationFile, build_attestation, verify  # noqa: E402
from pilots.attestation.dataintegrity import did_key, issuer_signing_key  # noqa: E402
from pilots.attestation.documents import (  # noqa: E402
    KINDS,
    canonical_bytes,
    document_digest,
    parse_document,
    synthetic_document,
)
from pilots.attestation.merkle import MerkleTree, leaf_hash  # noqa: E402

TOWN_HALL = issuer_signing_key("bench")
TOWN_HALL_DID = did_key(TOWN_HALL.public_key().public_bytes_raw())


def documents(n: int, seed: int) -> list[tuple[dict, bytes]]:
    """Presented documents (as the town hall receives them, uncanonicalised JSON) and their salts."""
    rng = random.Random(seed)
    return [
        (synthetic_document(KINDS[i % 3], rng).model_dump(mode="json"), rng.randbytes(32)) for i in range(n)
    ]


def issue_batched(
    registry: AttestationRegistry, docs: list[tuple[dict, bytes]], batch: int
) -> tuple[float, int, list]:
    """Canonicalise, hash, build one tree per batch, anchor each root and sign each credential (eddsa-jcs-2022);
    returns (s, gas, attestations)."""
    started = time.perf_counter()
    gas = 0
    out: list[tuple[dict, AttestationFile]] = []
    for start in range(0, len(docs), batch):
        chunk = docs[start : start + batch]
        digests = [document_digest(salt, parse_document(doc)) for doc, salt in chunk]
        tree = MerkleTree([leaf_hash(d) for d in digests])
        tx = registry.anchor(tree.root, len(chunk))
        gas += tx.gas_used
        for i, ((doc, salt), digest) in enumerate(zip(chunk, digests, strict=True)):
            att = build_attestation(
                signing_key=TOWN_HALL, kind=doc["kind"], digest=digest, salt=salt, root=tree.root, path=tree.proof(i),
                issuer=registry.chain.sender, registry=registry, valid_from="2026-01-05T09:00:00Z",
                anchor_tx=tx.tx_hash, anchor_block=tx.block_number,
            )  # fmt: skip
            out.append((doc, att))
    return time.perf_counter() - started, gas, out


def issue_per_document(registry: AttestationRegistry, docs: list[tuple[dict, bytes]]) -> tuple[float, int]:
    started = time.perf_counter()
    gas = 0
    for doc, salt in docs:
        leaf = leaf_hash(document_digest(salt, parse_document(doc)))
        gas += registry.anchor(leaf, 1).gas_used
    return time.perf_counter() - started, gas


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--documents", type=int, default=10_000)
    ap.add_argument("--baseline", type=int, default=300)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--live-sample", type=int, default=300)
    ap.add_argument(
        "--rpc-url", default=None, help="a JSON-RPC node (e.g. anvil) instead of the in-process chain"
    )
    args = ap.parse_args()

    chain = Chain.connect(args.rpc_url)
    registry, _ = AttestationRegistry.deploy(chain)
    registry.set_issuer(chain.sender, True)
    docs = documents(args.documents, seed=1)
    baseline_docs = documents(args.baseline, seed=2)
    assert len(canonical_bytes(parse_document(docs[0][0]))) > 0

    batched_s, batched_gas, attested = issue_batched(registry, docs, args.batch)
    base_s, base_gas = issue_per_document(registry, baseline_docs)

    b_s, b_gas = batched_s / len(docs), batched_gas / len(docs)
    p_s, p_gas = base_s / len(baseline_docs), base_gas / len(baseline_docs)
    batches = -(-len(docs) // args.batch)
    where = "in-process py-evm (web3 EthereumTesterProvider)" if chain.ephemeral else chain.label
    print(f"chain: {where}, registry {registry.address}")
    print(f"merkle batching : {len(docs):>6} attestations, {batches} tx of <= {args.batch}: "
          f"{batched_s:8.2f} s  {b_s * 1e3:9.4f} ms/att  {b_gas:10.1f} gas/att")  # fmt: skip
    print(f"per document    : {len(baseline_docs):>6} attestations, {len(baseline_docs)} tx: "
          f"{base_s:8.2f} s  {p_s * 1e3:9.4f} ms/att  {p_gas:10.1f} gas/att")  # fmt: skip
    speed, gas_ratio = p_s / b_s, p_gas / b_gas
    print(f"ratio           : {speed:8.1f}x faster (target >= 100x: {'PASS' if speed >= 100 else 'FAIL'}), "
          f"{gas_ratio:8.1f}x less gas (target >= 50x: {'PASS' if gas_ratio >= 50 else 'FAIL'})")  # fmt: skip

    # Verification: a verifier that synced the registry's events once, then checks documents offline.
    t0 = time.perf_counter()
    view = registry.view()
    sync_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    trusted = {TOWN_HALL_DID: chain.sender}
    verdicts = [verify(doc, att, view, trusted) for doc, att in attested]
    view_ms = (time.perf_counter() - t0) * 1e3 / len(attested)
    assert all(v.accepted for v in verdicts), "a genuine attestation was rejected"
    sample = attested[: args.live_sample]
    per_doc: list[float] = []
    for doc, att in sample:
        t0 = time.perf_counter()
        assert verify(doc, att, registry, trusted).accepted
        per_doc.append((time.perf_counter() - t0) * 1e3)
    live_ms = statistics.mean(per_doc)
    print(f"verification    : {view_ms:.3f} ms/doc against a view synced at block {view.block} "
          f"(sync {sync_s:.2f} s once; target <= 1 ms: {'PASS' if view_ms <= 1 else 'FAIL'}); "
          f"{live_ms:.2f} ms/doc with one eth_call each ({len(sample)} docs)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
