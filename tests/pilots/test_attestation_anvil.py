"""The attestation pilot against a real node (anvil): same verdicts, the full storage scanned, reverts mined."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from civiclab.errors import ChainError
from civiclab.evm.client import Chain
from civiclab.evm.registry import AttestationRegistry
from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import run_experiment
from tests import anvil_node

anvil_url = anvil_node.anvil_url  # the fixture: a fresh anvil node for this module
SPEC = Path(__file__).resolve().parents[2] / "experiments" / "attestation.yaml"
# anvil's first well-known development key (public: printed by anvil at start), never a real one.
ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

pytestmark = [pytest.mark.integration, pytest.mark.evm_node]


def test_the_pilot_on_anvil_accepts_no_fraud_and_leaks_nothing(tmp_path: Path, anvil_url: str) -> None:
    overrides = {
        "energy.tracker": "none",
        "population.sessions": 60,
        "pilot.params.batch_size": 16,
        "pilot.params.rpc_url": anvil_url,
    }
    result = run_experiment(
        load_experiment(SPEC, overrides=overrides), tracking_uri=f"sqlite:///{tmp_path}/m.db"
    )
    metrics = {m.name: m.value for m in result.metrics if m.segment is None}
    assert metrics["attestation.false_acceptances"] == 0
    assert metrics["attestation.verification_accuracy"] == 1
    assert metrics["privacy.personal_values_on_chain"] == 0
    assert metrics["privacy.personal_values_in_artifacts"] == 0
    assert result.artifact_dir is not None
    scan = json.loads((result.artifact_dir / "attestation" / "privacy_scan.json").read_text())
    assert scan["storage"] == "anvil_dumpState"
    chain = json.loads((result.artifact_dir / "attestation" / "chain.json").read_text())
    assert chain["chain_id"] == 31337 and chain["chain"] == anvil_url
    assert (
        chain["impostor_attempt"].startswith("refused: anchor reverted")
        and "unknown issuer" in chain["impostor_attempt"]
    )


def test_a_mined_revert_is_an_error_and_anchors_nothing(anvil_url: str) -> None:
    chain = Chain.connect(anvil_url)
    registry, _ = AttestationRegistry.deploy(chain)
    registry.set_issuer(chain.sender, True)
    head = chain.head
    with pytest.raises(ChainError, match=r"anchor reverted on http://127\.0\.0\.1:\d+ \(tx 0x[0-9a-f]{64}\)"):
        chain.send(registry.contract.functions.anchor(b"\x07" * 32, 0, ""), what="anchor", gas=200_000)
    assert chain.head == head + 1  # the failed transaction was mined...
    assert registry.batch(b"\x07" * 32)[1] == 0  # ...and anchored nothing


def test_a_signing_key_from_the_environment(anvil_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLAB_TEST_ISSUER_KEY", ANVIL_KEY)
    chain = Chain.connect(anvil_url, key_env="CIVICLAB_TEST_ISSUER_KEY")
    assert chain.sender == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    registry, deployed = AttestationRegistry.deploy(chain)
    registry.set_issuer(chain.sender, True)
    registry.anchor(os.urandom(32), 3)
    assert deployed.contract_address == registry.address


def test_an_existing_registry_without_our_issuer_fails_before_any_session(
    tmp_path: Path, anvil_url: str
) -> None:
    chain = Chain.connect(anvil_url)
    registry, _ = AttestationRegistry.deploy(chain)  # deployed, but nobody authorised
    overrides = {"energy.tracker": "none", "population.sessions": 5, "audit.anchor": False,
                 "pilot.params.rpc_url": anvil_url, "pilot.params.registry": registry.address}  # fmt: skip
    with pytest.raises(ChainError, match=f"is not an authorised issuer of the registry {registry.address}"):
        run_experiment(load_experiment(SPEC, overrides=overrides), tracking_uri=f"sqlite:///{tmp_path}/m.db")
    registry.set_issuer(chain.sender, True)
    result = run_experiment(
        load_experiment(SPEC, overrides=overrides), tracking_uri=f"sqlite:///{tmp_path}/m.db"
    )
    assert result.sessions == 5
    assert (
        json.loads((result.artifact_dir / "attestation" / "chain.json").read_text())["registry"]
        == registry.address
    )
