"""The 2D-Doc-style baseline as a pilot: the same sessions, documents and scenarios, with a signed barcode.

Run it beside the attestation pilot with the same population, seed and scenario mix
(`experiments/attestation_barcode.yaml`) and compare the two runs: the `attestation` evaluator scores both
the same way. No chain: gas, transactions and bytes on chain are 0, and a revoked document is still
accepted, because a printed barcode cannot be revoked (the false acceptances say so).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from civiclab import EventLog, Pilot, PilotContext, PilotFacts, SessionPlan, SessionRecord, pilot
from pilots.attestation.barcode import FIELDS, barcode_issuer, issue_barcode, verify_barcode
from pilots.attestation.documents import GENERATED, SYNTHETIC_NOTICE, personal_values, synthetic_document
from pilots.attestation.params import (
    DEFAULT_KINDS,
    DEFAULT_MIX,
    EXPECTED,
    TIME_DEPENDENT,
    KindName,
    ScenarioName,
)
from pilots.attestation.people import PeopleModel, can_present, verifier_handling_s
from pilots.attestation.pilot import VERIFIER
from pilots.attestation.prepared import Prepared
from pilots.attestation.tampering import presented_document
from pilots.attestation.windows import weighted


class BarcodeParams(BaseModel):
    """The baseline's parameters: those of the attestation pilot that still mean something without a chain."""

    model_config = ConfigDict(extra="forbid")

    scenarios: dict[ScenarioName, float] = Field(default_factory=lambda: dict(DEFAULT_MIX))
    kinds: dict[KindName, float] = Field(default_factory=lambda: dict(DEFAULT_KINDS))
    validity_days: float = Field(default=90, gt=0, le=36_500)
    certificate_years: int = Field(default=5, ge=1, le=30, description="validity of the issuer's certificate")
    people: PeopleModel = Field(default_factory=PeopleModel)
    sample_credentials: int = Field(
        default=0, ge=0, le=0, description="barcodes hold personal data: none kept"
    )


class BarcodeFacts(PilotFacts):
    """What evaluators read of the baseline: no chain, and every personal value (in memory only)."""

    chain: str = "none"
    setup_gas: int = 0
    onchain_blobs: list[tuple[str, bytes]] = Field(default_factory=list)
    onchain_storage: dict[bytes, bytes] | None = None
    onchain_storage_method: str = "no chain: a printed barcode"
    personal_values: list[str] = Field(default_factory=list, exclude=True, repr=False)


@pilot("signed_barcode", params=BarcodeParams)
class SignedBarcodePilot(Pilot[BarcodeParams]):
    """Baseline: a 2D-Doc-style barcode signed by the town hall's certificate, checked offline, no revocation."""

    def __init__(self, params: BarcodeParams, context: PilotContext) -> None:
        super().__init__(params, context)
        self.personal_values: dict[str, None] = {}

    def setup(self) -> None:
        start = self.context.start.date() - dt.timedelta(days=365)
        self.issuer = barcode_issuer(
            self.context.pseudonym_salt, valid_from=start, years=self.params.certificate_years
        )
        self.trusted = {self.issuer.cert_id: self.issuer.certificate}
        self.forger = barcode_issuer("forger", self.issuer.cert_id, valid_from=start)
        self.stranger = barcode_issuer("stranger", "ZZ99", valid_from=start)

    def run_session(self, plan: SessionPlan) -> SessionRecord:
        # The same draws, in the same order, as the attestation pilot: same scenario, kind and document.
        rng = random.Random(plan.seed)
        scenario = weighted(rng, self.params.scenarios)
        kind = weighted(rng, self.params.kinds)
        document = synthetic_document(kind, rng)
        self.personal_values.update(dict.fromkeys(personal_values(document)))
        prep = Prepared(plan, scenario, kind, document, b"", b"", b"")
        signed_on = self.session_start(plan).date()
        valid_until = signed_on + dt.timedelta(days=self.params.validity_days)
        signer = {"forged": self.forger, "unknown_issuer": self.stranger}.get(scenario, self.issuer)
        barcode = issue_barcode(signer, document.model_dump(mode="json"), signed_on, valid_until)
        shown = presented_document(prep, random.Random(plan.seed + 1))
        at = valid_until + dt.timedelta(days=1) if scenario == "expired" else signed_on + dt.timedelta(days=3)
        log = EventLog(plan.session_id, self.session_start(plan))
        log.add("attestation.requested", "citizen", 0.0, document_kind=kind)
        log.add("attestation.issued", "town_hall", 0.0, batch_size=1)
        started = time.perf_counter()
        reason = verify_barcode(shown, barcode, self.trusted, at)
        verify_s = time.perf_counter() - started
        verdict = "accept" if reason == "accepted" else "reject"
        verifier = VERIFIER[kind]
        seconds = (at - signed_on).days * 86_400.0
        log.add("attestation.verified", verifier, seconds, verdict=verdict, reason=reason,
                expected=EXPECTED[scenario], scenario=scenario)  # fmt: skip
        fields = sum(1 for k in shown if k in FIELDS)
        data: dict[str, Any] = {
            "scenario": scenario, "kind": kind, "expected": EXPECTED[scenario], "strategy": "signed_barcode",
            "issued": scenario not in ("forged", "unknown_issuer"), "time_dependent": scenario in TIME_DEPENDENT,
            "verdict": verdict, "reason": reason, "verifier": verifier, "correct": verdict == EXPECTED[scenario],
            "gas": 0.0, "transactions": 0.0, "onchain_bytes": 0.0, "blocks_to_verifiable": 0, "latency_s": 0.0,
            "credential_bytes": len(barcode.encode()), "revocable": False,
            "can_present": can_present(plan.segment, self.params.people, on_paper=True),
            "verifier_handling_s": verifier_handling_s(self.params.people, fields),
        }  # fmt: skip
        return SessionRecord(
            session_id=plan.session_id, persona_id=plan.persona_id, segment=plan.segment,
            channel_path=["paper", verifier], events=log.events, outcome="completed", duration_s=seconds,
            data=data, timings={"verify_s": verify_s},
        )  # fmt: skip

    def run_facts(self) -> BarcodeFacts:
        return BarcodeFacts(personal_values=list(self.personal_values), synthetic=GENERATED)

    def run_artifacts(self, records: Collection[SessionRecord], out_dir: Path) -> list[Path]:
        folder = out_dir / "attestation"
        folder.mkdir(parents=True, exist_ok=True)
        from cryptography.hazmat.primitives.serialization import Encoding

        path = folder / "barcode_issuer.json"
        path.write_text(json.dumps({
            "synthetic": SYNTHETIC_NOTICE, "scheme": "2D-Doc-style signed barcode (ECDSA P-256, SHA-256)",
            "certificate_id": self.issuer.cert_id,
            "certificate_pem": self.issuer.certificate.public_bytes(Encoding.PEM).decode(),
            "revocation": "none: a printed barcode verifies until it expires",
        }, indent=1), encoding="utf-8")  # fmt: skip
        return [path]
