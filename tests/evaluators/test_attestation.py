"""The attestation evaluator on hand-written records: what it counts, and the arithmetic of cost and energy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from civiclab.errors import EvaluatorError
from civiclab.plugins.evaluation import RunData
from civiclab.plugins.experiment import load_experiment
from civiclab.plugins.piloting import PilotFacts
from civiclab.records import SessionRecord
from evaluators.attestation import AttestationEvalParams, attestation

SPEC = Path(__file__).resolve().parents[2] / "experiments" / "attestation.yaml"
SEGMENT = {"age_band": "25-39", "digital_literacy": "medium", "disability": "none", "language": "fr",
           "device": "computer", "territory": "urban"}  # fmt: skip
PARAMS = AttestationEvalParams(
    gas_price_gwei=2,
    eur_per_eth=3000,
    price_source="test",
    network_kwh_per_tx=0.03,
    network_energy_source="a test source",
)


def _record(i: int, scenario: str, expected: str, verdict: str, **data: Any) -> SessionRecord:
    issued = scenario in {"genuine", "revoked"}
    base: dict[str, Any] = {"scenario": scenario, "expected": expected, "verdict": verdict,
                            "correct": expected == verdict, "strategy": "merkle", "issued": issued}  # fmt: skip
    if issued:
        base.update(
            gas=1000.0, transactions=0.1, onchain_bytes=20.0, blocks_to_verifiable=1, latency_s=60.0 * i
        )
    base.update(data)
    return SessionRecord(session_id=f"s{i}", persona_id="p", segment=SEGMENT, outcome="completed", data=base,
                         timings={"verify_s": 0.002})  # fmt: skip


def _metrics(records: list[SessionRecord], tmp_path: Path) -> dict[str, Any]:
    run = RunData.for_experiment(load_experiment(SPEC), records=records, artifact_dir=tmp_path)
    return {m.key: m for m in attestation(run, PARAMS)}


def test_a_single_accepted_fraud_is_counted_and_named(tmp_path: Path) -> None:
    records = [_record(i, "genuine", "accept", "accept") for i in range(10)]
    records += [_record(10 + i, "forged", "reject", "reject") for i in range(9)]
    records.append(_record(19, "revoked", "reject", "accept", revocation_gas=48_000))
    m = _metrics(records, tmp_path)
    assert m["attestation.false_acceptances"].value == 1
    assert m["attestation.false_acceptances"].note == "revoked"
    assert m["attestation.false_acceptance_rate"].value == pytest.approx(0.1)
    assert m["attestation.false_acceptance_rate"].n == 10
    assert m["attestation.false_rejection_rate"].value == 0
    assert m["attestation.verification_accuracy"].value == pytest.approx(19 / 20)
    assert m["attestation.gas_per_revocation"].value == 48_000


def test_cost_and_network_energy_follow_the_spec_values(tmp_path: Path) -> None:
    records = [_record(i, "genuine", "accept", "accept") for i in range(6)]
    m = _metrics(records, tmp_path)
    assert m["attestation.gas_per_attestation"].value == 1000
    # 1000 gas x 2 gwei = 2e-6 ETH, at 3000 EUR/ETH
    assert m["attestation.cost_eur_per_attestation"].value == pytest.approx(0.006)
    assert "2 gwei/gas, 3000 EUR/ETH (test)" in (m["attestation.cost_eur_per_attestation"].note or "")
    # 0.1 transaction per attestation x 0.03 kWh = 3 Wh
    assert m["energy.network_wh_per_attestation"].value == pytest.approx(3.0)
    assert m["energy.network_wh_per_attestation"].dimension == "energy"
    assert "a test source" in (m["energy.network_wh_per_attestation"].note or "")
    assert m["attestation.latency_s_median"].value == pytest.approx(150.0)
    assert m["attestation.verify_ms_median"].value == pytest.approx(2.0)


def test_segments_below_k_are_not_shown_and_no_issuance_is_missing_not_zero(tmp_path: Path) -> None:
    records = [_record(i, "forged", "reject", "reject") for i in range(3)]
    m = _metrics(records, tmp_path)
    assert not [k for k in m if "[" in k]  # 3 sessions < k = 5
    assert m["attestation.gas_per_attestation"].value is None
    assert m["attestation.gas_per_attestation"].error == "no attestation was issued"
    assert m["attestation.false_rejection_rate"].value is None


def test_a_failed_session_counts_as_unverified_and_malformed_data_names_its_session(tmp_path: Path) -> None:
    records = [_record(i, "genuine", "accept", "accept") for i in range(6)]
    unverified = _record(6, "genuine", "accept", "accept")
    del unverified.data["verdict"], unverified.data["correct"]  # the pilot failed before a verifier answered
    m = _metrics([*records, unverified], tmp_path)
    assert m["attestation.verification_accuracy"].n == 6
    assert m["attestation.gas_per_attestation"].n == 7  # it was issued: its gas counts
    broken = _record(7, "genuine", "accept", "accept")
    del broken.data["gas"]  # an issued attestation without its share of gas
    with pytest.raises(EvaluatorError, match="the data of session s7 do not fit Anchoring: gas"):
        _metrics([*records, broken], tmp_path)


def test_accuracy_on_generated_documents_is_marked_synthetic_and_the_footprint_is_not(tmp_path: Path) -> None:
    records = [_record(i, "genuine", "accept", "accept") for i in range(6)]
    records += [_record(6 + i, "forged", "reject", "reject") for i in range(4)]
    run = RunData.for_experiment(
        load_experiment(SPEC), records=records, artifact_dir=tmp_path,
        facts=PilotFacts(synthetic="GENERATED documents and forgeries"),
    )  # fmt: skip
    m = {x.key: x for x in attestation(run, PARAMS)}
    for name in (
        "false_acceptance_rate",
        "false_acceptances",
        "false_rejection_rate",
        "verification_accuracy",
    ):
        assert m[f"attestation.{name}"].synthetic == "GENERATED documents and forgeries"
    assert m["attestation.gas_per_attestation"].synthetic is None
    assert m["attestation.issuance_failure_rate"].synthetic is None
    unmarked = {x.key: x for x in attestation(RunData.for_experiment(
        load_experiment(SPEC), records=records, artifact_dir=tmp_path), PARAMS)}  # fmt: skip
    assert unmarked["attestation.verification_accuracy"].synthetic is None
