"""Real participants' telemetry: xAPI 1.0.3 statements (cmi5 verbs) turned into session records."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from civiclab.errors import SpecError
from civiclab.piloting import EventLog
from civiclab.records import SEGMENT_ATTRIBUTES, SessionPlan, SessionRecord
from pilots.journey.model import HUMAN_CHANNELS, Journey
from pilots.journey.record import journey_record

ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {
    ADL + "initialized": "initialized",
    ADL + "launched": "initialized",
    ADL + "attempted": "attempted",
    ADL + "experienced": "attempted",
    ADL + "passed": "passed",
    ADL + "completed": "completed",
    ADL + "failed": "failed",
    ADL + "terminated": "terminated",
    ADL + "asked": "asked_human",
    "https://w3id.org/xapi/adl/verbs/abandoned": "abandoned",
    "https://w3id.org/xapi/adl/verbs/waived": "passed",
    "https://w3id.org/civiclab/xapi/verbs/escalated": "asked_human",
}
SEGMENT_EXT = "https://w3id.org/civiclab/xapi/segment"
PERSONA_EXT = "https://w3id.org/civiclab/xapi/persona"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:\S+$")


class Rejected(BaseModel):
    """A statement left out, with why (never its personal content)."""

    model_config = ConfigDict(extra="forbid")

    index: int
    statement_id: str | None
    reason: str


def read_statements(path: Path) -> list[Any]:
    """A JSON array, an LRS `{"statements": [...]}` page, or JSON lines."""
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    try:
        if stripped.startswith("["):
            data = json.loads(text)
            return list(data)
        if stripped.startswith("{") and '"statements"' in stripped[:200]:
            return list(json.loads(text)["statements"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SpecError(path, "", f"not a JSON array of xAPI statements: {exc}") from None
    out: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            out.append({"__unreadable__": f"line {number}: not valid JSON"})
    return out


def actor_key(actor: Any) -> str | None:
    if not isinstance(actor, dict):
        return None
    if isinstance(actor.get("mbox"), str) and actor["mbox"].startswith("mailto:"):
        return actor["mbox"].lower()
    if isinstance(actor.get("mbox_sha1sum"), str):
        return "sha1:" + actor["mbox_sha1sum"]
    account = actor.get("account")
    if isinstance(account, dict) and account.get("homePage") and account.get("name"):
        return f"{account['homePage']}|{account['name']}"
    if isinstance(actor.get("openid"), str):
        return actor["openid"]
    return None


def parse_timestamp(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def check_statement(st: Any) -> str | None:
    """Why a statement cannot be used, or None when it is valid for civiclab."""
    if not isinstance(st, dict):
        return "not a JSON object"
    if "__unreadable__" in st:
        return str(st["__unreadable__"])
    if actor_key(st.get("actor")) is None:
        return "actor has no inverse functional identifier (mbox, mbox_sha1sum, account, openid)"
    verb = st.get("verb")
    if not isinstance(verb, dict) or not isinstance(verb.get("id"), str) or not _IRI.match(verb["id"]):
        return "verb.id missing or not an IRI"
    if verb["id"] not in VERBS:
        return f"verb {verb['id']} is not one civiclab reads"
    obj = st.get("object")
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not _IRI.match(obj["id"]):
        return "object.id missing or not an IRI"
    if parse_timestamp(st.get("timestamp")) is None:
        return "timestamp missing or not ISO 8601"
    context = st.get("context")
    registration = context.get("registration") if isinstance(context, dict) else None
    if not isinstance(registration, str) or not _UUID.match(registration):
        return "context.registration missing or not a UUID"
    return None


def pseudonym(actor: str, salt: str) -> str:
    return "p-" + hashlib.sha256(f"{salt}|{actor}".encode()).hexdigest()[:16]


def plans_from_statements(
    statements: list[Any], salt: str, personas: dict[str, dict[str, str]], limit: int
) -> tuple[list[SessionPlan], list[Rejected]]:
    """One plan per registration, carrying its valid statements in time order (actors pseudonymised)."""
    rejected: list[Rejected] = []
    sessions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for index, st in enumerate(statements):
        reason = check_statement(st)
        sid = st.get("id") if isinstance(st, dict) and isinstance(st.get("id"), str) else None
        if reason is not None:
            rejected.append(Rejected(index=index, statement_id=sid, reason=reason))
            continue
        sessions[st["context"]["registration"]].append(st)
    ordered = sorted(
        sessions.items(),
        key=lambda kv: (min(parse_timestamp(s["timestamp"]) for s in kv[1]), kv[0]),  # type: ignore[type-var]
    )
    plans: list[SessionPlan] = []
    for index, (registration, sts) in enumerate(ordered[:limit]):
        sts.sort(key=lambda s: parse_timestamp(s["timestamp"]))  # type: ignore[arg-type, return-value]
        actor = pseudonym(actor_key(sts[0]["actor"]) or "?", salt)
        segment = {a: "unknown" for a in SEGMENT_ATTRIBUTES}
        persona_id = actor
        for st in sts:
            ext = (st.get("context") or {}).get("extensions") or {}
            if isinstance(ext.get(PERSONA_EXT), str) and ext[PERSONA_EXT] in personas:
                persona_id = ext[PERSONA_EXT]
                segment.update(personas[persona_id])
            if isinstance(ext.get(SEGMENT_EXT), dict):
                segment.update({k: str(v) for k, v in ext[SEGMENT_EXT].items() if k in SEGMENT_ATTRIBUTES})
        minimal = [
            {
                "verb": VERBS[s["verb"]["id"]],
                "object": s["object"]["id"],
                "timestamp": s["timestamp"],
                "duration": (s.get("result") or {}).get("duration"),
                "success": (s.get("result") or {}).get("success"),
            }
            for s in sts
        ]
        plans.append(
            SessionPlan(
                session_id=f"x{index:06d}",
                index=index,
                persona_id=persona_id if persona_id != actor else actor,
                segment=segment,
                seed=0,
                source={"registration_hash": pseudonym(registration, salt), "statements": minimal},
            )
        )
    return plans, rejected


def _step_of(object_id: str, journey: Journey) -> str | None:
    tail = object_id.rstrip("/").rsplit("/", 1)[-1]
    ids = {s.id for s in journey.steps}
    return tail if tail in ids else None


def _assistance_of(object_id: str, journey: Journey) -> str | None:
    tail = object_id.rstrip("/").rsplit("/", 1)[-1]
    return tail if tail in {a.id for a in journey.assistance_points} else None


def session_from_statements(journey: Journey, plan: SessionPlan) -> SessionRecord:
    """The record of one observed session: steps, channels and outcome read from its statements."""
    sts = plan.source["statements"]
    start = parse_timestamp(sts[0]["timestamp"])
    assert start is not None
    log = EventLog(plan.session_id, start)
    steps: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    channels: list[str] = []
    outcome = "abandoned"  # a session that never says how it ended is counted as abandoned
    failed_online = False
    human_reachable: bool | None = None
    clock = 0.0
    for st in sts:
        at = parse_timestamp(st["timestamp"])
        assert at is not None
        clock = max(0.0, (at - start).total_seconds())
        verb, obj = st["verb"], st["object"]
        step_id = _step_of(obj, journey)
        point = _assistance_of(obj, journey)
        if step_id is not None:
            step = journey.step(step_id)
            entry = steps.setdefault(
                step_id,
                {
                    "step": step_id,
                    "channel": step.channel,
                    "attempts": 0,
                    "success": False,
                    "time_s": 0.0,
                    "usable": True,
                    "_since": clock,
                },
            )
            if step_id not in order:
                order.append(step_id)
                if not channels or channels[-1] != step.channel:
                    channels.append(step.channel)
                log.add("step.enter", "citizen", clock, step=step_id, channel=step.channel)
            if verb == "attempted":
                entry["attempts"] += 1
            elif verb in ("passed", "completed"):
                entry["success"] = True
                entry["attempts"] = max(1, entry["attempts"])
                entry["time_s"] = round(clock - entry["_since"], 3)
                log.add("step.complete", "citizen", clock, step=step_id)
            elif verb == "failed":
                entry["attempts"] = max(1, entry["attempts"])
                entry["time_s"] = round(clock - entry["_since"], 3)
                log.add("step.fail", "citizen", clock, step=step_id, reason="observed")
                if step.channel not in HUMAN_CHANNELS:
                    failed_online = True
                    reachable = journey.human_in_reach(step_id)
                    human_reachable = reachable and human_reachable is not False
            continue
        if point is not None or verb == "asked_human":
            log.add("human.handover", "mediator", clock, point=point or "unknown")
            outcome = "escalated_to_human"
            continue
        if verb == "initialized":
            log.add("journey.start", "citizen", clock, journey=journey.id)
        elif verb == "completed" and outcome != "escalated_to_human":
            outcome = "completed"
            log.add("journey.complete", "citizen", clock)
        elif verb == "abandoned":
            outcome = "abandoned" if outcome != "escalated_to_human" else outcome
            log.add("journey.abandon", "citizen", clock)
        elif verb == "terminated":
            log.add("journey.terminate", "citizen", clock)
    ordered_steps = [{k: v for k, v in steps[s].items() if k != "_since"} for s in order]
    return journey_record(
        journey,
        plan,
        log,
        outcome=outcome,
        clock=clock,
        steps=ordered_steps,
        channels=channels,
        fallback_used=len({journey.step(s).channel for s in order}) > 1,
        failed_online=failed_online,
        human_reachable_on_failure=human_reachable,
        registration=plan.source.get("registration_hash"),
        observed=True,
    )
