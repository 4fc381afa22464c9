"""The real EAS contracts (npm `@ethereum-attestation-service/eas-contracts` 1.9.0) on anvil: attest salted leaves,
revoke, judge at a time, and measure them like civiclab's registry (gas and bytes per attestation, privacy scan)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from civiclab.evm import AttestationRegistry, Chain
from civiclab.plugins.experiment import load_experiment
from civiclab.privacy.probe import PersonalValueProbe
from civiclab.run.runner import run_experiment
from pilots.attestation.documents import document_digest, personal_values, synthetic_document
from pilots.attestation.merkle import MerkleTree, leaf_hash
from tests import anvil_node
from tests.pilots.eas_support import deploy_eas

anvil_url = anvil_node.anvil_url
pytestmark = [pytest.mark.integration, pytest.mark.evm_node]
BATCH = 32
SPEC = Path(__file__).resolve().parents[2] / "experiments" / "attestation.yaml"


def test_eas_on_anvil_attests_revokes_and_is_judged_at_a_time_and_costs_more_than_batching(
    anvil_url: str,
) -> None:
    chain = Chain.connect(anvil_url)
    start = chain.head
    eas, setup_gas = deploy_eas(chain)
    assert setup_gas > 1_000_000
    rng = random.Random(9)
    docs = [synthetic_document("residence", rng) for _ in range(BATCH)]
    leaves = [leaf_hash(document_digest(rng.randbytes(32), d)) for d in docs]
    uids, tx = eas.attest_many(leaves, expiration_time=0)
    assert len(set(uids)) == BATCH
    attested = eas.attestation(uids[3])
    assert attested.data == leaves[3] and attested.attester.lower() == chain.sender.lower()
    assert attested.time == int(chain.w3.eth.get_block(tx.block_number)["timestamp"])
    chain.w3.provider.make_request(
        "evm_increaseTime", [60]
    )  # anvil's clock: the revocation comes a minute later
    revocation = eas.revoke(uids[3])
    revoked_at = eas.attestation(uids[3]).revocation_time
    assert revoked_at == int(chain.w3.eth.get_block(revocation.block_number)["timestamp"]) > attested.time
    assert eas.attestation(uids[3]).judge(leaves[3], chain.sender, revoked_at - 1) == "accepted"
    assert eas.attestation(uids[3]).judge(leaves[3], chain.sender, revoked_at) == "revoked"
    assert eas.attestation(uids[4]).judge(leaves[4], chain.sender, revoked_at) == "accepted"
    assert eas.attestation(uids[4]).judge(leaves[3], chain.sender, revoked_at) == "document_mismatch"
    assert (
        eas.attestation(uids[4]).judge(leaves[4], chain.unlocked_accounts()[2], revoked_at)
        == "issuer_mismatch"
    )
    assert eas.attestation(b"\x01" * 32).judge(leaves[4], chain.sender, revoked_at) == "root_not_anchored"

    # The same batch on civiclab's registry: one root for the batch, against one stored attestation each.
    registry, _ = AttestationRegistry.deploy(chain)
    registry.set_issuer(chain.sender, True)
    anchored = registry.anchor(MerkleTree(leaves).root, BATCH)
    eas_gas, registry_gas = tx.gas_used / BATCH, anchored.gas_used / BATCH
    assert eas_gas > 20 * registry_gas, (eas_gas, registry_gas)
    assert (tx.input_bytes + tx.log_bytes) / BATCH > 150  # calldata and an event per attestation

    # Nothing personal in any transaction, event or storage slot of EAS.
    probe = PersonalValueProbe([v for d in docs for v in personal_values(d)])
    hits = [h for where, blob in chain.onchain_blobs(start) for h in probe.scan_bytes(blob, where)]
    storage, method = chain.storage(eas.address)
    assert method == "anvil_dumpState" and storage
    hits += [h for slot, value in storage.items() for h in probe.scan_bytes(slot + value, "storage")]
    assert hits == []


def test_the_pilot_measures_a_labs_eas_deployment_like_the_registry(tmp_path: Path, anvil_url: str) -> None:
    chain = Chain.connect(anvil_url)
    eas, _ = deploy_eas(chain)
    system = {
        "kind": "eas",
        "rpc_url": anvil_url,
        "eas": eas.address,
        "schema_uid": "0x" + eas.schema_uid.hex(),
    }
    overrides = {"energy.tracker": "none", "population.sessions": 60, "pilot.params.batch_size": 16,
                 "pilot.params.system": system, "audit.anchor": None}  # fmt: skip
    result = run_experiment(
        load_experiment(SPEC, overrides=overrides), tracking_uri=f"sqlite:///{tmp_path}/m.db"
    )
    metrics = {m.name: m.value for m in result.metrics if m.segment is None}
    assert metrics["attestation.false_acceptances"] == 0
    assert metrics["attestation.false_rejection_rate"] == 0
    assert metrics["attestation.status_at_time_accuracy"] == 1
    assert metrics["privacy.personal_values_on_chain"] == 0
    gas = metrics["attestation.gas_per_attestation"]
    assert gas is not None and gas > 50_000  # one stored attestation each, whatever the window
    assert metrics["attestation.transactions_per_attestation"] is not None
    assert metrics["attestation.transactions_per_attestation"] < 1  # one multiAttest per issuance window
