"""Anchoring audit roots: the spec model, the in-process chain (ephemeral) and a real anvil node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from civiclab.errors import AuditError, ChainError, SpecError
from civiclab.evidence.anchoring import (
    EphemeralChain,
    anchor_audit_root,
    check_anchor,
    describe_anchor,
    preflight,
)
from civiclab.evidence.verify.manifestcheck import verify_run_manifest
from civiclab.evm.client import Chain
from civiclab.evm.registry import AttestationRegistry
from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import RunResult, run_experiment
from civiclab.spec.experiment import AnchorSpec
from civiclab.store.tracker import Tracker
from tests import anvil_node

anvil_url = anvil_node.anvil_url  # the fixture: a fresh anvil node for this module
SPEC = Path(__file__).resolve().parents[2] / "experiments" / "attestation.yaml"
SMALL = {"energy.tracker": "none", "population.sessions": 12, "pilot.params.batch_size": 4}


def _anchored_run(tmp_path: Path, anchor: Any) -> tuple[RunResult, dict[str, Any]]:
    experiment = load_experiment(SPEC, overrides={**SMALL, "audit.anchor": anchor})
    result = run_experiment(experiment, tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    assert result.artifact_dir is not None
    manifest = json.loads((result.artifact_dir / "manifest.json").read_text())
    # What is anchored is the run's signed statement, which covers its audit root and everything else.
    statement = (
        Tracker(f"sqlite:///{tmp_path}/mlflow.db").get_run(result.run_id).tags["civiclab.statement_sha256"]
    )
    assert manifest["anchor"]["statement_sha256"] == "0x" + statement
    assert manifest["anchor"]["anchors"] == "statement"
    return result, manifest["anchor"]


def _tampered(anchor: dict[str, Any], root: str) -> dict[str, Any]:
    """The anchor a forger would write for another root: the root and the calldata both rewritten."""
    from web3 import Web3

    from civiclab.evm.contract import load_artifact

    contract = Web3().eth.contract(abi=load_artifact().abi)
    calldata = contract.encode_abi("anchor", [bytes.fromhex(root), 1, "civiclab:run:forged"])
    return {**anchor, "statement_sha256": "0x" + root, "calldata": calldata}


def _statement(anchor: dict[str, Any]) -> str:
    return str(anchor["statement_sha256"]).removeprefix("0x")


@pytest.mark.parametrize(
    ("value", "chain"),
    [
        (True, "in-process"),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ({"chain": "in-process"}, "in-process"),
    ],
)
def test_the_anchor_spec_accepts_shorthands(value: Any, chain: str) -> None:
    experiment = load_experiment(SPEC, overrides={"audit.anchor": value})
    assert isinstance(experiment.spec.audit.anchor, AnchorSpec)
    assert experiment.spec.audit.anchor.chain == chain
    assert load_experiment(SPEC, overrides={"audit.anchor": False}).spec.audit.anchor is None


@pytest.mark.parametrize(
    ("value", "field", "problem"),
    [
        ({"chain": "ftp://node"}, "audit.anchor.chain", "should match pattern"),
        ({"rpc": "http://x"}, "audit.anchor.rpc", "unknown field"),
        ({"contract": "0x12"}, "audit.anchor.contract", "should match pattern"),
        ({"key_env": "my key"}, "audit.anchor.key_env", "should match pattern"),
    ],
)
def test_a_bad_anchor_spec_names_the_field(value: Any, field: str, problem: str) -> None:
    with pytest.raises(SpecError) as info:
        load_experiment(SPEC, overrides={"audit.anchor": value})
    assert info.value.field == field and problem in info.value.problem


@pytest.mark.slow
def test_an_in_process_anchor_is_checked_as_far_as_it_can_be(tmp_path: Path) -> None:
    result, anchor = _anchored_run(tmp_path, True)
    assert anchor["ephemeral"] is True and anchor["rpc_url"] == "in-process"
    assert anchor["tx_hash"].startswith("0x") and anchor["block_number"] >= 1 and anchor["gas_used"] > 40_000
    with pytest.raises(EphemeralChain, match="ended with the run"):
        check_anchor(anchor, _statement(anchor))
    with pytest.raises(AuditError, match="not this run's audit root"):
        check_anchor(anchor, "ab" * 32)
    with pytest.raises(AuditError, match="does not anchor this audit root"):
        check_anchor({**anchor, "statement_sha256": "0x" + "ab" * 32}, "ab" * 32)
    assert "in-process" in describe_anchor(anchor)
    # `civiclab verify` says so: the run verifies, the anchor is reported as not checked, and why.
    report = verify_run_manifest(Tracker(f"sqlite:///{tmp_path}/mlflow.db"), result.run_id, strict=False)
    assert (
        report.ok
        and report.found.anchor == "unchecked"
        and "ended with the run" in report.found.anchor_detail
    )


@pytest.mark.integration
@pytest.mark.evm_node
def test_anchored_run_verifies_on_anvil_tampered_root_does_not(tmp_path: Path, anvil_url: str) -> None:
    result, anchor = _anchored_run(tmp_path, anvil_url)
    assert anchor["ephemeral"] is False and anchor["rpc_url"] == anvil_url and anchor["chain_id"] == 31337
    check_anchor(anchor, _statement(anchor))  # read back from the node
    assert "checked on chain" in describe_anchor(anchor)
    report = verify_run_manifest(Tracker(f"sqlite:///{tmp_path}/mlflow.db"), result.run_id, strict=False)
    assert report.ok and report.found.anchor == "verified"

    forged_root = "cd" * 32
    with pytest.raises(AuditError, match="does not hold audit root"):
        check_anchor(_tampered(anchor, forged_root), forged_root)
    # A forger holding the issuer's key anchors the tampered root now: it is not where the manifest says.
    registry = AttestationRegistry.attach(Chain.connect(anvil_url), anchor["contract"])
    registry.anchor(bytes.fromhex(forged_root), 1, "civiclab:run:forged")
    with pytest.raises(AuditError, match="not as the manifest records"):
        check_anchor(_tampered(anchor, forged_root), forged_root)
    with pytest.raises(AuditError, match="is not the recorded block"):
        check_anchor({**anchor, "block_hash": "0x" + "00" * 32}, _statement(anchor))
    with pytest.raises(AuditError, match="is chain 31337"):
        check_anchor({**anchor, "chain_id": 1}, _statement(anchor))


@pytest.mark.integration
@pytest.mark.evm_node
def test_anchoring_into_an_existing_registry_needs_an_authorised_issuer(anvil_url: str) -> None:
    chain = Chain.connect(anvil_url)
    registry, _ = AttestationRegistry.deploy(chain)
    with pytest.raises(ChainError, match="unknown issuer"):
        anchor_audit_root({"chain": anvil_url, "contract": registry.address}, "ef" * 32, "run-x", None)
    registry.set_issuer(chain.sender, True)
    anchor = anchor_audit_root({"chain": anvil_url, "contract": registry.address}, "ef" * 32, "run-x", None)
    assert anchor["contract"] == registry.address
    check_anchor(anchor, "ef" * 32)


def test_an_unreachable_node_or_a_missing_key_fails_before_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ChainError, match=r"^cannot reach the EVM node at http://127\.0\.0\.1:9/?$"):
        preflight({"chain": "http://127.0.0.1:9"})
    monkeypatch.delenv("CIVICLAB_TEST_ANCHOR_KEY", raising=False)
    with pytest.raises(ChainError, match="CIVICLAB_TEST_ANCHOR_KEY"):
        preflight({"chain": "http://127.0.0.1:9", "key_env": "CIVICLAB_TEST_ANCHOR_KEY"})
    preflight({"chain": "in-process"})  # nothing to reach
