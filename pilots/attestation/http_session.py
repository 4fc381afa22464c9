"""One session against the lab's own HTTP issuer and verifier: issue, maybe revoke, present, verify at a time."""

from __future__ import annotations

import copy
import datetime as dt
import random
import time
from typing import Any

from pydantic import Field

from civiclab import EventLog, PilotError, PilotFacts, SessionPlan, SessionRecord
from pilots.attestation.http_service import AttestationService
from pilots.attestation.params import EXPECTED, REVOKED, TIME_DEPENDENT, AttestationParams
from pilots.attestation.people import can_present, verifier_handling_s
from pilots.attestation.prepared import Prepared
from pilots.attestation.tampering import presented_document

DAY_S = 86_400.0


class ServiceFacts(PilotFacts):
    """What evaluators read of a run against the lab's service: no chain civiclab can scan."""

    chain: str = "none: the lab's HTTP service"
    setup_gas: int | None = None
    onchain_blobs: list[tuple[str, bytes]] = Field(default_factory=list)
    onchain_storage: dict[bytes, bytes] | None = None
    onchain_storage_method: str = "not scanned: the service's storage is the lab's"
    personal_values: list[str] = Field(default_factory=list, exclude=True, repr=False)


def iso_ms(t: float) -> str:
    """An ISO time with milliseconds: a revocation a few ms after issuance must be told apart."""
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _altered_credential(credential: Any) -> Any:
    """The credential with one character of its longest string changed, outside its proof: what a holder
    who edits the file sends. Whatever the service's format, its signature must no longer hold."""
    changed = copy.deepcopy(credential)
    best: tuple[int, Any, Any] = (-1, None, None)
    stack: list[Any] = [changed]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, value in items:
            if key == "proof":
                continue
            if isinstance(value, str) and len(value) > best[0]:
                best = (len(value), node, key)
            elif isinstance(value, dict | list):
                stack.append(value)
    if isinstance(credential, str):
        return credential[:-1] + ("A" if credential[-1:] != "A" else "B")
    _, node, key = best
    if node is None:
        raise PilotError("the service's credential holds no string to alter")
    value = node[key]
    node[key] = value[:-1] + ("0" if value[-1:] != "0" else "1")
    return changed


def service_session(
    service: AttestationService,
    params: AttestationParams,
    plan: SessionPlan,
    prep: Prepared,
    start: dt.datetime,
) -> SessionRecord:
    """Issue through the service, revoke if the scenario says so, then ask it to verify at the right time."""
    log = EventLog(plan.session_id, start)
    data: dict[str, Any] = {
        "scenario": prep.scenario, "kind": prep.kind, "expected": EXPECTED[prep.scenario], "strategy": "http",
        "issued": False, "time_dependent": prep.scenario in TIME_DEPENDENT,
        "can_present": can_present(plan.segment, params.people, on_paper=False),
    }  # fmt: skip
    timings: dict[str, float] = {}
    document = prep.document.model_dump(mode="json")
    issued_at = time.time()
    valid_until = issued_at + params.validity_days * DAY_S
    values: dict[str, Any] = {
        "document": document, "kind": prep.kind, "valid_from": iso_ms(issued_at), "valid_until": iso_ms(valid_until),
        "session": plan.session_id,
    }  # fmt: skip
    log.add("attestation.requested", "citizen", 0.0, document_kind=prep.kind)
    try:
        issued, timings["issue_s"] = service.call("issue", values)
        if issued.get("credential") is None:
            raise PilotError("issue: the reply holds no credential at issue.response.credential")
        data["issued"] = True
        log.add("attestation.issued", "town_hall", 0.0)
        values |= {"credential": issued["credential"], "credential_id": str(issued.get("credential_id", ""))}
        at = time.time()
        if prep.scenario in REVOKED:
            _, timings["revoke_s"] = service.call("revoke", values)
            log.add("attestation.revoked", "town_hall", 0.0)
        if prep.scenario == "expired":
            at = valid_until + DAY_S
        elif prep.scenario == "revoked":
            at = time.time() + 0.002  # times travel in milliseconds: past the revocation for sure
        rng = random.Random(plan.seed + 1)
        shown = presented_document(prep, rng)
        credential = (
            _altered_credential(values["credential"]) if prep.scenario == "forged" else values["credential"]
        )
        answer, timings["verify_s"] = service.call("verify", values | {"document": shown, "credential": credential,
                                                                      "at": iso_ms(at)})  # fmt: skip
    except PilotError as exc:
        log.add("attestation.service_failed", "town_hall", 0.0, error=str(exc))
        return SessionRecord(
            session_id=plan.session_id, persona_id=plan.persona_id, segment=plan.segment, channel_path=["online"],
            events=log.events, outcome="failed", data=data, error=str(exc), timings=timings,
        )  # fmt: skip
    accepted = answer.get("accepted")
    if not isinstance(accepted, bool):
        raise PilotError(f"verify: verify.response.accepted gave {type(accepted).__name__}, not a boolean")
    verdict = "accept" if accepted else "reject"
    reason = str(answer.get("reason") or ("accepted" if accepted else "rejected"))[:80]
    data |= {
        "verdict": verdict, "reason": reason, "correct": verdict == data["expected"], "verifier": "http",
        "verifier_handling_s": verifier_handling_s(params.people, 0),
    }  # fmt: skip
    log.add("attestation.verified", "verifier", 2 * DAY_S, verdict=verdict, reason=reason,
            expected=data["expected"], scenario=prep.scenario)  # fmt: skip
    return SessionRecord(
        session_id=plan.session_id, persona_id=plan.persona_id, segment=plan.segment,
        channel_path=["online", "verifier"], events=log.events, outcome="completed", duration_s=2 * DAY_S,
        data=data, timings=timings,
    )  # fmt: skip
