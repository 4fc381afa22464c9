"""A lab's own credential service behind HTTP, measured by the attestation pilot like the built-in registry.

The service is a stand-in on 127.0.0.1 (tests/pilots/attestation_service_support.py) with reply shapes of
its own, read through the experiment's JMESPath paths.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from civiclab.errors import SpecError
from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import run_experiment
from tests.pilots.attestation_service_support import stand_in_service

SPEC = Path(__file__).resolve().parents[2] / "experiments" / "attestation.yaml"
MIX = {"genuine": 0.4, "reformatted": 0.1, "altered": 0.1, "forged": 0.1, "revoked": 0.1, "unknown_issuer": 0,
       "malformed": 0.05, "expired": 0.1, "checked_before_revocation": 0.1}  # fmt: skip


def system(base: str) -> dict[str, Any]:
    return {
        "kind": "http",
        "issue": {"url": f"{base}/issue", "request": {"document": "{document}", "validFrom": "{valid_from}",
                  "validUntil": "{valid_until}"}, "response": {"credential": "vc", "credential_id": "id"}},
        "revoke": {"url": f"{base}/revoke", "request": {"id": "{credential_id}"}, "response": {}},
        "verify": {"url": f"{base}/verify", "request": {"vc": "{credential}", "document": "{document}", "at": "{at}"},
                   "response": {"accepted": "verified", "reason": "problem"}},
    }  # fmt: skip


def test_the_labs_http_service_is_measured_like_the_registry(tmp_path: Path) -> None:
    with stand_in_service() as (base, service):
        experiment = load_experiment(SPEC, overrides={
            "energy.tracker": "none", "population.sessions": 60, "audit.anchor": None,
            "pilot.params.system": system(base), "pilot.params.scenarios": MIX,
        })  # fmt: skip
        result = run_experiment(experiment, tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    assert result.artifact_dir is not None
    sessions = [json.loads(x) for x in (result.artifact_dir / "sessions.jsonl").read_text().splitlines()]
    assert all(s["outcome"] == "completed" for s in sessions)
    revokes = sum(s["data"]["scenario"] in ("revoked", "checked_before_revocation") for s in sessions)
    assert service.calls == 2 * len(sessions) + revokes  # issue + verify each, one revoke where due
    reasons = {
        s["data"]["scenario"]: s["data"]["reason"] for s in sessions if s["data"]["expected"] == "reject"
    }
    assert reasons == {"altered": "document mismatch", "forged": "signature", "revoked": "revoked",
                       "expired": "expired", "malformed": "malformed document"}  # fmt: skip
    metrics = {m.name: m for m in result.metrics if m.segment is None}
    assert metrics["attestation.false_acceptances"].value == 0
    assert metrics["attestation.false_rejection_rate"].value == 0
    assert metrics["attestation.status_at_time_accuracy"].value == 1
    fr = metrics["attestation.false_rejection_rate"]
    assert fr.ci_high is not None and 0 < fr.ci_high < 0.2  # an interval, from the sessions that should pass
    assert 0 < metrics["attestation.issue_ms_median"].value <= metrics["attestation.issue_ms_p95"].value  # type: ignore[operator]
    assert 0 < metrics["attestation.verify_ms_median"].value <= metrics["attestation.verify_ms_p95"].value  # type: ignore[operator]
    assert "attestation.gas_per_attestation" not in metrics  # no chain of civiclab's to account for


def test_an_http_service_cannot_show_an_unknown_issuer() -> None:
    with pytest.raises(SpecError, match="unknown_issuer"):
        load_experiment(SPEC, overrides={"pilot.params.system": system("http://127.0.0.1:9")})
