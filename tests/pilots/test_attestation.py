"""The attestation pilot end to end on the real in-process chain, through the runner and MLflow (sqlite)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from civiclab.errors import ChainError, PilotError
from civiclab.plugins.evaluation import RunData
from civiclab.plugins.experiment import load_experiment
from civiclab.plugins.population import sample_plans
from civiclab.privacy.probe import PersonalValueProbe
from civiclab.records import SessionPlan
from civiclab.run.runner import RunResult, build_pilot, run_experiment
from evaluators.attestation_privacy import attestation_privacy
from pilots.attestation.documents import personal_values
from pilots.attestation.params import SCENARIOS

SPEC = Path(__file__).resolve().parents[2] / "experiments" / "attestation.yaml"
FAST = {"energy.tracker": "none"}


def _run(tmp_path: Path, **overrides: Any) -> RunResult:
    experiment = load_experiment(SPEC, overrides={**FAST, **overrides})
    return run_experiment(experiment, tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")


def _metric(result: RunResult, name: str) -> float:
    values = [m.value for m in result.metrics if m.name == name and m.segment is None]
    assert values and values[0] is not None, f"{name} missing"
    return float(values[0])


def _sessions(result: RunResult) -> list[dict[str, Any]]:
    assert result.artifact_dir is not None
    return [json.loads(line) for line in (result.artifact_dir / "sessions.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def merkle_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    tmp = tmp_path_factory.mktemp("merkle")
    return _run(tmp, **{"population.sessions": 160, "pilot.params.batch_size": 16})


def test_no_fraud_is_accepted_and_no_genuine_attestation_rejected(merkle_run: RunResult) -> None:
    sessions = _sessions(merkle_run)
    assert {s["data"]["scenario"] for s in sessions} == set(SCENARIOS)
    assert all(s["outcome"] == "completed" for s in sessions)
    frauds = [s for s in sessions if s["data"]["expected"] == "reject"]
    assert frauds and all(s["data"]["verdict"] == "reject" for s in frauds)
    reasons = {s["data"]["scenario"]: s["data"]["reason"] for s in frauds}
    assert reasons == {
        "altered": "document_mismatch",
        "forged": "wrong_signer",
        "revoked": "revoked",
        "unknown_issuer": "untrusted_issuer",
        "malformed": "malformed_document",
        "expired": "expired",
    }
    before = [s for s in sessions if s["data"]["scenario"] == "checked_before_revocation"]
    assert before and all(s["data"]["verdict"] == "accept" and "revocation_gas" in s["data"] for s in before)
    assert _metric(merkle_run, "attestation.status_at_time_accuracy") == 1
    assert _metric(merkle_run, "attestation.false_acceptances") == 0
    assert _metric(merkle_run, "attestation.false_acceptance_rate") == 0
    assert _metric(merkle_run, "attestation.false_rejection_rate") == 0
    assert _metric(merkle_run, "attestation.verification_accuracy") == 1


def test_generated_documents_are_marked_synthetic_in_the_credentials_and_the_scorecard(
    merkle_run: RunResult,
) -> None:
    assert merkle_run.artifact_dir is not None
    samples = json.loads((merkle_run.artifact_dir / "attestation" / "sample_attestations.json").read_text())
    assert samples["synthetic"].startswith("SYNTHETIC")
    assert samples["credentials"] and all(
        c["description"] == samples["synthetic"] and c["proof"]["cryptosuite"] == "eddsa-jcs-2022"
        for c in samples["credentials"]
    )
    accuracy = [m for m in merkle_run.metrics if m.name == "attestation.verification_accuracy"]
    assert accuracy and all((m.synthetic or "").startswith("GENERATED documents") for m in accuracy)
    assert "attestation" in [s.split(":", 1)[0] for s in merkle_run.scorecard.synthetic]
    assert merkle_run.scorecard.recommendation != "go"
    assert any(r.startswith("SYNTHETIC evidence: attestation") for r in merkle_run.scorecard.reasons)


def test_nothing_personal_on_chain_or_in_the_logs(merkle_run: RunResult) -> None:
    assert _metric(merkle_run, "privacy.values_probed") > 300
    assert _metric(merkle_run, "privacy.onchain_bytes_scanned") > 1000
    assert _metric(merkle_run, "privacy.personal_values_on_chain") == 0
    assert _metric(merkle_run, "privacy.personal_values_in_artifacts") == 0
    assert merkle_run.artifact_dir is not None
    scan = json.loads((merkle_run.artifact_dir / "attestation" / "privacy_scan.json").read_text())
    assert scan["storage"] == "py-evm storage trie"
    assert {"audit.jsonl", "sessions.jsonl", "attestation/sample_attestations.json"} <= set(
        scan["files_scanned"]
    )
    events = [e for s in _sessions(merkle_run) for e in s["events"]]
    assert {k for e in events for k in e["payload"]} <= {
        "document_kind", "leaf", "root", "batch_size", "tx", "block", "verdict", "reason", "expected", "scenario",
    }  # fmt: skip


@pytest.mark.slow
def test_batching_costs_a_fraction_of_the_per_document_baseline(
    merkle_run: RunResult, tmp_path: Path
) -> None:
    baseline = _run(tmp_path, **{"population.sessions": 30, "pilot.params.strategy": "per_document"})
    assert _metric(baseline, "attestation.transactions_per_attestation") == 1
    per_doc_gas = _metric(baseline, "attestation.gas_per_attestation")
    assert per_doc_gas > 40_000
    batched_gas = _metric(merkle_run, "attestation.gas_per_attestation")
    assert batched_gas < per_doc_gas / 8  # batches of at most 16 documents
    assert _metric(merkle_run, "attestation.transactions_per_attestation") < 1 / 8
    assert _metric(merkle_run, "attestation.onchain_bytes_per_attestation") < _metric(
        baseline, "attestation.onchain_bytes_per_attestation"
    )
    cost = _metric(baseline, "attestation.cost_eur_per_attestation")
    assert cost == pytest.approx(per_doc_gas * 1e-9 * 3000)  # 1 gwei, 3000 EUR/ETH in the spec
    # Batching waits for the window to close; the baseline is verifiable one block later.
    assert _metric(baseline, "attestation.latency_s_median") == 12
    assert _metric(merkle_run, "attestation.latency_s_median") > 12


@pytest.mark.slow
def test_the_same_spec_and_seed_give_the_same_audit_root(tmp_path: Path) -> None:
    first = _run(tmp_path / "a", **{"population.sessions": 25, "pilot.params.batch_size": 8})
    second = _run(tmp_path / "b", **{"population.sessions": 25, "pilot.params.batch_size": 8})
    assert first.audit_root == second.audit_root


@pytest.mark.slow
def test_an_unreachable_node_fails_in_one_line_before_any_session(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ChainError) as info:
        _run(tmp_path, **{"pilot.params.rpc_url": f"http://127.0.0.1:{port}", "pilot.params.timeout_s": 2})
    assert str(info.value) == f"cannot reach the EVM node at http://127.0.0.1:{port}"


def _pilot(sessions: int = 24, **overrides: Any) -> tuple[Any, list[SessionPlan]]:
    experiment = load_experiment(SPEC, overrides={**FAST, "pilot.params.batch_size": 8, **overrides})
    pilot = build_pilot(experiment)
    pilot.setup()
    return pilot, pilot.plans(sessions, experiment.spec.population.seed)


def test_a_reverted_anchor_records_nothing_as_attested() -> None:
    pilot, plans = _pilot()
    first = [pilot.run_session(p) for p in plans[:8]]
    assert any(r.data["issued"] for r in first)
    pilot.registry.set_issuer(pilot.issuer, False)  # the town hall loses its authorisation
    later = [pilot.run_session(p) for p in plans[8:]]
    issued_scenarios = [r for r in later if r.data["scenario"] in {"genuine", "revoked", "altered"}]
    assert issued_scenarios
    for record in issued_scenarios:
        assert record.outcome == "failed"
        assert "anchor reverted on in-process: unknown issuer" in (record.error or "")
        assert not record.data["issued"]
        assert "attestation.issued" not in [e.kind for e in record.events]
    pilot.close()


def test_the_privacy_scan_finds_a_planted_leak(tmp_path: Path) -> None:
    pilot, plans = _pilot(sessions=8)
    records = [pilot.run_session(p) for p in plans]
    document = pilot.prepared[plans[0].session_id].document
    name, family = personal_values(document)[:2]
    pilot.registry.anchor(b"\x42" * 32, 1, f"leak:{name}")
    (tmp_path / "notes.txt").write_text(f"citizen {family.upper()} called")
    run = RunData.for_experiment(
        load_experiment(SPEC), records=records, artifact_dir=tmp_path, facts=pilot.run_facts()
    )
    metrics = {m.name: m.value for m in attestation_privacy(run, None)}
    assert metrics["privacy.personal_values_on_chain"] >= 1
    assert metrics["privacy.personal_values_in_artifacts"] == 1
    report = (tmp_path / "attestation" / "privacy_scan.json").read_text()
    assert name not in report and family not in report.casefold()


def test_sessions_outside_the_pilots_own_plans_are_refused() -> None:
    pilot, plans = _pilot(sessions=4)
    stranger = plans[0].model_copy(update={"session_id": "elsewhere"})
    with pytest.raises(PilotError, match="its own plans"):
        pilot.run_session(stranger)


@pytest.mark.slow
def test_several_workers_keep_the_sessions_in_the_one_process_that_holds_the_issuer(tmp_path: Path) -> None:
    # The pilot declares `parallel = False`: its issuance windows and nonces live in one process.
    experiment = load_experiment(SPEC, overrides={**FAST, "population.sessions": 20})
    result = run_experiment(experiment, tracking_uri=f"sqlite:///{tmp_path}/mlflow.db", workers=2)
    sessions = _sessions(result)
    assert len(sessions) == 20 and all(s["outcome"] == "completed" for s in sessions)
    assert _metric(result, "privacy.values_probed") > 0


def test_no_personal_value_anywhere_in_the_store_after_the_run(merkle_run: RunResult) -> None:
    """Independent of the evaluator: regenerate the documents and grep every file the run left behind."""
    assert merkle_run.artifact_dir is not None
    store = merkle_run.artifact_dir.parents[2]  # <tmp>/artifacts/<run id>/artifacts
    experiment = load_experiment(SPEC, overrides={**FAST, "pilot.params.batch_size": 16})
    pilot = build_pilot(experiment)
    # No setup: preparing a session's document needs no chain, only the run's seed and salt.
    plans = sample_plans(experiment.personas, merkle_run.sessions, experiment.spec.population.seed)
    leaves = {p.session_id: "0x" + pilot._prepare(p).leaf.hex() for p in plans}
    issued = {s["session_id"]: s["data"]["leaf"] for s in _sessions(merkle_run) if s["data"]["issued"]}
    assert issued and all(leaves[sid] == leaf for sid, leaf in issued.items())  # the very same documents
    probe = PersonalValueProbe(list(pilot.personal_values))
    assert len(probe) > 300
    files = [p for p in store.rglob("*") if p.is_file()]
    assert {"mlflow.db", "scorecard.md", "manifest.json", "metrics.json"} <= {p.name for p in files}
    leaks = [hit.where for p in files for hit in probe.scan_file(p, str(p.relative_to(store)))]
    assert leaks == []


@pytest.mark.slow
def test_random_salts_change_every_leaf_but_no_verdict(tmp_path: Path) -> None:
    runs = [
        _run(tmp_path / str(i), **{"population.sessions": 20, "pilot.params.salts": "random"}) for i in (1, 2)
    ]
    leaves = [{s["data"].get("leaf") for s in _sessions(r)} - {None} for r in runs]
    assert leaves[0] and not leaves[0] & leaves[1]
    assert runs[0].audit_root != runs[1].audit_root
    verdicts = [[s["data"]["verdict"] for s in _sessions(r)] for r in runs]
    assert verdicts[0] == verdicts[1]
