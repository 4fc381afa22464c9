"""One xAPI statement (1.0.3 or 2.0) checked and reduced to what a journey session needs.

Follows the xAPI specification (adlnet/xAPI-Spec, Data part): actors are Agents or Groups with
one inverse functional identifier (an anonymous Group is known by its members), the verb `voided`
with a `StatementRef` object voids another statement, `timestamp` falls back to `stored`,
`result.duration` is an ISO 8601 duration. cmi5 verbs are those of CMI-5_Spec_Current section 9.3.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from civiclab import SpecError

ADL = "http://adlnet.gov/expapi/verbs/"
ADL_W3ID = "https://w3id.org/xapi/adl/verbs/"
VOIDED = ADL + "voided"
# What each verb means for a journey (see the pilot README's table). Verbs not listed are kept
# as presence on their activity ("other") and counted in the run's xAPI report.
VERBS: dict[str, str] = {
    ADL + "launched": "launched",
    ADL + "initialized": "initialized",
    ADL + "attempted": "attempted",
    ADL + "passed": "passed",
    ADL + "mastered": "passed",
    ADL + "completed": "completed",
    ADL + "failed": "failed",
    ADL + "terminated": "terminated",
    ADL + "exited": "terminated",
    ADL + "suspended": "suspended",
    ADL + "resumed": "resumed",
    ADL + "asked": "asked_human",
    ADL_W3ID + "abandoned": "abandoned",
    ADL_W3ID + "waived": "waived",
    ADL_W3ID + "satisfied": "satisfied",
    "https://w3id.org/civiclab/xapi/verbs/escalated": "asked_human",
    "https://w3id.org/civiclab/xapi/verbs/adjusted": "adjusted",  # a comfort setting (served journey)
    "https://w3id.org/civiclab/xapi/verbs/switched-channel": "switched",  # to the accessible twin
    **{
        ADL + v: "experienced"
        for v in (
            "experienced",
            "progressed",
            "interacted",
            "answered",
            "responded",
            "attended",
            "commented",
            "scored",
            "registered",
            "preferred",
            "imported",
            "shared",
        )
    },
}
SEGMENT_EXT = "https://w3id.org/civiclab/xapi/segment"
PERSONA_EXT = "https://w3id.org/civiclab/xapi/persona"
IFI = ("mbox", "mbox_sha1sum", "openid", "account")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:\S+$")
_DURATION = re.compile(
    r"^P(?!$)(?:(?P<y>\d+(?:[.,]\d+)?)Y)?(?:(?P<mo>\d+(?:[.,]\d+)?)M)?(?:(?P<w>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<d>\d+(?:[.,]\d+)?)D)?(?:T(?=\d)(?:(?P<h>\d+(?:[.,]\d+)?)H)?(?:(?P<mi>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<s>\d+(?:[.,]\d+)?)S)?)?$"
)


class Problem(BaseModel):
    """A statement left out (`rejected`) or a field of it ignored (`ignored_field`), with why.

    Never carries the statement's personal content: its index in what was read, its id, the field.
    """

    model_config = ConfigDict(extra="forbid")

    index: int
    statement_id: str | None
    field: str
    reason: str
    kind: str = "rejected"


class Invalid(Exception):
    """A statement civiclab cannot use: the field at fault and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(slots=True)
class Statement:
    """What civiclab keeps of a valid statement (actor only as a key, to be pseudonymised)."""

    id: str | None
    verb: str  # the short name from VERBS, "other" or "voided"
    verb_iri: str
    object_id: str
    object_kind: str  # "Activity", "StatementRef", "Agent", "Group", "SubStatement"
    activity_type: str | None
    actor_kind: str  # "agent", "group", "anonymous_group"
    actor_key: str
    members: int
    registration: str | None
    timestamp: dt.datetime
    success: bool | None
    completion: bool | None
    duration_s: float | None
    version: str | None
    extensions: dict[str, Any]


def iter_statements(path: Path) -> Iterator[Any]:
    """Statements of a JSON array, an LRS page `{"statements": [...]}`, or JSON lines, in order."""
    with path.open(encoding="utf-8") as handle:
        head = handle.read(4096)
    stripped = head.lstrip()
    if stripped.startswith("[") or (stripped.startswith("{") and '"statements"' in stripped[:400]):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            yield from data if isinstance(data, list) else data["statements"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise SpecError(path, "", f"not a JSON array of xAPI statements: {exc}") from None
        return
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                yield {"__unreadable__": f"line {number}: not valid JSON"}


def read_statements(path: Path) -> list[Any]:
    """All statements of a file (see `iter_statements`)."""
    return list(iter_statements(path))


def agent_key(agent: Any) -> str | None:
    """The agent's inverse functional identifier as one string, or None without exactly one."""
    if not isinstance(agent, dict):
        return None
    found = [k for k in IFI if agent.get(k) is not None]
    if len(found) != 1:
        return None
    kind = found[0]
    value = agent[kind]
    if kind == "mbox":
        return value.lower() if isinstance(value, str) and value.startswith("mailto:") else None
    if kind == "account":
        if (
            isinstance(value, dict)
            and isinstance(value.get("homePage"), str)
            and isinstance(value.get("name"), str)
        ):
            return f"account:{value['homePage']}|{value['name']}"
        return None
    return f"{kind}:{value}" if isinstance(value, str) and value else None


def actor_identity(actor: Any) -> tuple[str, str, int]:
    """(kind, key, members) of an Agent, an identified Group or an anonymous Group.

    Raises:
        Invalid: no usable identifier.
    """
    if not isinstance(actor, dict):
        raise Invalid("actor", "actor has no inverse functional identifier (missing or not an object)")
    if actor.get("objectType") != "Group":
        key = agent_key(actor)
        if key is None:
            raise Invalid(
                "actor", "actor has no inverse functional identifier (mbox, mbox_sha1sum, account, openid)"
            )
        return "agent", key, 1
    members = actor.get("member")
    if members is not None and not isinstance(members, list):
        raise Invalid("actor.member", "not a list of agents")
    members = members or []
    for i, member in enumerate(members):
        if not isinstance(member, dict) or member.get("objectType") == "Group" or agent_key(member) is None:
            raise Invalid(f"actor.member[{i}]", "not an Agent with an inverse functional identifier")
    key = agent_key(actor)
    if key is not None:
        return "group", "group:" + key, len(members)
    if any(actor.get(k) is not None for k in IFI):
        raise Invalid("actor", "Group identifier is not a valid inverse functional identifier")
    if not members:
        raise Invalid("actor.member", "an anonymous Group needs its member agents")
    # An anonymous Group has no identifier of its own: it is known by its members (unordered).
    return "anonymous_group", "members:" + "|".join(sorted(agent_key(m) or "" for m in members)), len(members)


def parse_timestamp(value: Any) -> dt.datetime | None:
    """An ISO 8601 timestamp (UTC when it has no offset, as 1.0.3 allowed); None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def parse_duration(value: str) -> float | None:
    """Seconds of an ISO 8601 duration; None when malformed or in years/months (not convertible)."""
    hit = _DURATION.match(value)
    if hit is None or hit.group("y") or hit.group("mo"):
        return None
    parts = {k: float(v.replace(",", ".")) for k, v in hit.groupdict().items() if v}
    return (
        parts.get("w", 0) * 604800
        + parts.get("d", 0) * 86400
        + parts.get("h", 0) * 3600
        + parts.get("mi", 0) * 60
        + parts.get("s", 0)
    )


def _result(
    st: dict[str, Any], notes: list[tuple[str, str]]
) -> tuple[bool | None, bool | None, float | None]:
    result = st.get("result")
    if result is None:
        return None, None, None
    if not isinstance(result, dict):
        notes.append(("result", "not an object"))
        return None, None, None
    flags: list[bool | None] = []
    for name in ("success", "completion"):
        value = result.get(name)
        if value is not None and not isinstance(value, bool):
            notes.append((f"result.{name}", "not a boolean"))
            value = None
        flags.append(value)
    duration = result.get("duration")
    seconds = None
    if duration is not None:
        seconds = parse_duration(duration) if isinstance(duration, str) else None
        if seconds is None:
            notes.append(("result.duration", "not an ISO 8601 duration in days, hours, minutes, seconds"))
    return flags[0], flags[1], seconds


def parse_statement(st: Any, notes: list[tuple[str, str]]) -> Statement:
    """The statement reduced to a `Statement`; fields ignored are appended to `notes`.

    Raises:
        Invalid: the statement cannot be used (the field and why).
    """
    if not isinstance(st, dict):
        raise Invalid("statement", "not a JSON object")
    if "__unreadable__" in st:
        raise Invalid("statement", str(st["__unreadable__"]))
    sid = st.get("id")
    if sid is not None and (not isinstance(sid, str) or not _UUID.match(sid)):
        raise Invalid("id", "not a UUID")
    version = st.get("version")
    if version is not None and (
        not isinstance(version, str) or not re.match(r"^(1\.0|2\.0)(\.\d+)?$", version)
    ):
        raise Invalid("version", "not an xAPI 1.0.x or 2.0.x version")
    actor_kind, key, members = actor_identity(st.get("actor"))
    verb = st.get("verb")
    if not isinstance(verb, dict) or not isinstance(verb.get("id"), str) or not _IRI.match(verb["id"]):
        raise Invalid("verb.id", "verb.id missing or not an IRI")
    obj = st.get("object")
    if not isinstance(obj, dict):
        raise Invalid("object", "missing or not an object")
    object_kind = obj.get("objectType") or "Activity"
    if not isinstance(object_kind, str):
        raise Invalid("object.objectType", "not a string")
    object_id: str = obj["id"] if isinstance(obj.get("id"), str) else ""
    if not object_id and object_kind not in ("Agent", "Group", "SubStatement"):
        raise Invalid("object.id", "object.id missing or not an IRI")
    if verb["id"] == VOIDED:
        if object_kind != "StatementRef" or not _UUID.match(object_id):
            raise Invalid("object", "a voiding statement's object must be a StatementRef with a statement id")
    elif object_kind == "Activity" and not _IRI.match(object_id):
        raise Invalid("object.id", "object.id missing or not an IRI")
    definition = obj.get("definition")
    activity_type = definition.get("type") if isinstance(definition, dict) else None
    stamp = parse_timestamp(st.get("timestamp"))
    if stamp is None:
        stamp = parse_timestamp(st.get("stored"))  # the LRS sets timestamp = stored when absent
        if stamp is None:
            raise Invalid("timestamp", "timestamp missing or not ISO 8601")
    context = st.get("context")
    if context is not None and not isinstance(context, dict):
        raise Invalid("context", "not an object")
    registration = (context or {}).get("registration")
    if registration is not None and (not isinstance(registration, str) or not _UUID.match(registration)):
        raise Invalid("context.registration", "context.registration missing or not a UUID")
    if registration is None and verb["id"] != VOIDED:
        # A session is a registration; a voiding statement may come from an administrator without one.
        raise Invalid("context.registration", "context.registration missing or not a UUID")
    extensions = (context or {}).get("extensions")
    success, completion, duration_s = _result(st, notes)
    return Statement(
        id=sid.lower() if isinstance(sid, str) else None,
        verb="voided" if verb["id"] == VOIDED else VERBS.get(verb["id"], "other"),
        verb_iri=verb["id"],
        object_id=object_id.lower() if verb["id"] == VOIDED else object_id,
        object_kind=object_kind,
        activity_type=activity_type if isinstance(activity_type, str) else None,
        actor_kind=actor_kind,
        actor_key=key,
        members=members,
        registration=registration.lower() if isinstance(registration, str) else None,
        timestamp=stamp,
        success=success,
        completion=completion,
        duration_s=duration_s,
        version=version,
        extensions=extensions if isinstance(extensions, dict) else {},
    )


def check_statement(st: Any) -> str | None:
    """Why a statement cannot be used, or None when civiclab can read it."""
    try:
        parse_statement(st, [])
    except Invalid as exc:
        return exc.reason
    return None


@functools.lru_cache(maxsize=1 << 16)  # the same actor and registration recur in thousands of statements
def pseudonym(key: str, salt: str) -> str:
    """A salted hash standing for an actor or a registration in every record."""
    return "p-" + hashlib.sha256(f"{salt}|{key}".encode()).hexdigest()[:16]
