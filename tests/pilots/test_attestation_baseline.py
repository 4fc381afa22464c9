"""The 2D-Doc-style baseline scored on the same sessions as the chain, and the people measures of both."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest

from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import RunResult, run_experiment
from pilots.attestation.barcode import barcode_issuer, issue_barcode, verify_barcode
from pilots.attestation.documents import synthetic_document

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
SESSIONS = {"population.sessions": 160, "energy.tracker": "none"}


def _run(name: str, tmp: Path, **overrides: Any) -> RunResult:
    experiment = load_experiment(EXPERIMENTS / name, overrides={**SESSIONS, **overrides})
    return run_experiment(experiment, tracking_uri=f"sqlite:///{tmp}/mlflow.db")


def _metric(result: RunResult, name: str) -> float:
    values = [m.value for m in result.metrics if m.name == name and m.segment is None]
    assert values and values[0] is not None, f"{name} missing"
    return float(values[0])


def _sessions(result: RunResult) -> list[dict[str, Any]]:
    assert result.artifact_dir is not None
    return [json.loads(line) for line in (result.artifact_dir / "sessions.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, RunResult]:
    tmp = tmp_path_factory.mktemp("baseline")
    chain = _run("attestation.yaml", tmp, **{"pilot.params.batch_size": 16})
    barcode = _run("attestation_barcode.yaml", tmp)
    return chain, barcode


def test_the_barcode_costs_no_gas_but_cannot_revoke(runs: tuple[RunResult, RunResult]) -> None:
    chain, barcode = runs
    ours, theirs = _sessions(chain), _sessions(barcode)
    # The same sessions: same scenario and document kind, session by session.
    assert [(s["data"]["scenario"], s["data"]["kind"]) for s in ours] == [
        (s["data"]["scenario"], s["data"]["kind"]) for s in theirs
    ]
    revoked = [s for s in theirs if s["data"]["scenario"] == "revoked"]
    assert revoked and all(s["data"]["verdict"] == "accept" for s in revoked)
    others = [s for s in theirs if s["data"]["scenario"] != "revoked"]
    assert all(s["data"]["correct"] for s in others), [s["data"] for s in others if not s["data"]["correct"]]
    assert _metric(barcode, "attestation.false_acceptances") == len(revoked)
    assert _metric(chain, "attestation.false_acceptances") == 0
    assert _metric(barcode, "attestation.gas_per_attestation") == 0
    assert _metric(barcode, "attestation.cost_eur_per_attestation") == 0
    assert _metric(chain, "attestation.gas_per_attestation") > 1000
    timed = [s for s in theirs if s["data"]["time_dependent"]]
    assert _metric(barcode, "attestation.status_at_time_accuracy") == pytest.approx(
        sum(s["data"]["correct"] for s in timed) / len(timed)
    )
    assert _metric(chain, "attestation.status_at_time_accuracy") == 1
    reasons = {
        s["data"]["scenario"]: s["data"]["reason"] for s in others if s["data"]["expected"] == "reject"
    }
    assert reasons == {
        "altered": "document_mismatch",
        "forged": "invalid_signature",
        "unknown_issuer": "untrusted_issuer",
        "malformed": "malformed_document",
        "expired": "expired",
    }
    assert _metric(barcode, "privacy.personal_values_in_artifacts") == 0


def test_who_can_present_follows_the_persona_model(runs: tuple[RunResult, RunResult]) -> None:
    chain, barcode = runs
    sessions = _sessions(chain)
    # The experiment's rule, applied here by hand: a wallet needs one of these devices and medium literacy.
    able = [
        s["segment"].get("device") in {"smartphone", "tablet", "computer"}
        and s["segment"].get("digital_literacy") in {"medium", "high"}
        for s in sessions
    ]
    assert 0 < sum(able) < len(able)
    assert _metric(chain, "attestation.can_present_rate") == pytest.approx(sum(able) / len(able))
    assert _metric(barcode, "attestation.can_present_rate") == 1  # paper: everyone
    # The chain's verifier compares no field by eye; the clerk reading a barcode compares each one.
    assert 5 <= _metric(chain, "attestation.verifier_check_s_median") < 6
    assert _metric(barcode, "attestation.verifier_check_s_median") > 5 + 3 * 5
    metric = next(m for m in chain.metrics if m.name == "attestation.can_present_rate" and m.segment is None)
    assert metric.dimension == "human_centered" and (metric.synthetic or "").startswith("MODELLED")


def test_a_barcode_checks_its_signature_certificate_dates_and_fields() -> None:
    rng = random.Random(3)
    doc = synthetic_document("civil_status", rng).model_dump(mode="json")
    town_hall = barcode_issuer("belleval", valid_from=dt.date(2025, 1, 1), years=1)
    trusted = {town_hall.cert_id: town_hall.certificate}
    code = issue_barcode(town_hall, doc, dt.date(2025, 6, 1), dt.date(2025, 9, 1))
    assert code.startswith("DC04FR00BV01") and doc["family_name"] in code  # personal data in clear
    assert verify_barcode(doc, code, trusted, dt.date(2025, 6, 2)) == "accepted"
    assert verify_barcode(doc, code, trusted, dt.date(2025, 9, 1)) == "expired"
    assert verify_barcode(doc, code, trusted, dt.date(2025, 5, 31)) == "not_yet_valid"
    tampered = code.replace(doc["family_name"], "dupont", 1)
    assert verify_barcode(doc, tampered, trusted, dt.date(2025, 6, 2)) == "invalid_signature"
    assert (
        verify_barcode({**doc, "birth_place": "Paris"}, code, trusted, dt.date(2025, 6, 2))
        == "document_mismatch"
    )
    assert verify_barcode(doc, code[:10], trusted, dt.date(2025, 6, 2)) == "malformed_attestation"
    # Signed after the certificate expired (a key kept in use): refused.
    late = issue_barcode(town_hall, doc, dt.date(2026, 2, 1), dt.date(2026, 5, 1))
    assert verify_barcode(doc, late, trusted, dt.date(2026, 2, 2)) == "key_not_valid_at_issuance"
