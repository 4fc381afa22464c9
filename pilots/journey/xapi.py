"""Real participants' telemetry: xAPI statements (1.0.3 or 2.0, cmi5 and ADL verbs) into sessions.

`ObservedStatements` takes statements one at a time (from a file or an LRS), so a large export
is never held whole: each is checked, deduplicated by id and reduced to a few fields; voiding is
applied once everything is read, since an LRS returns the newest first. One session per
registration. `session_from_statements` turns one session's statements into its record.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from civiclab import SEGMENT_ATTRIBUTES, SessionPlan
from pilots.journey.xapi_mapping import ActivityMap
from pilots.journey.xapi_session import session_from_statements
from pilots.journey.xapi_statement import (
    PERSONA_EXT,
    SEGMENT_EXT,
    Invalid,
    Problem,
    Statement,
    check_statement,
    parse_statement,
    pseudonym,
    read_statements,
)

__all__ = [
    "ObservedStatements",
    "XapiReport",
    "check_statement",
    "plans_from_statements",
    "read_statements",
    "session_from_statements",
]

log = logging.getLogger(__name__)
EXAMPLES = 10  # how many unmapped activities or unread verbs a report names


class XapiReport(BaseModel):
    """What observe mode read, used and left out: the run's `xapi_report.json` and `xapi` fact."""

    model_config = ConfigDict(extra="forbid")

    source: str
    statements_read: int = 0
    statements_used: int = 0
    rejected: int = 0
    ignored_fields: int = 0
    duplicates_ignored: int = Field(default=0, description="statements whose id was already read")
    voided: int = Field(default=0, description="statements excluded because another statement voids them")
    voiding_statements: int = 0
    voiding_without_target: int = Field(default=0, description="voiding statements whose target was not read")
    not_activities: int = Field(default=0, description="statements about an agent, group or statement")
    unmapped_statements: int = 0
    unmapped_activities: int = 0
    unmapped_examples: list[str] = Field(default_factory=list)
    other_verbs: dict[str, int] = Field(default_factory=dict, description="verbs with no journey meaning")
    verbs: dict[str, int] = Field(default_factory=dict)
    versions: dict[str, int] = Field(default_factory=dict)
    actors: dict[str, int] = Field(default_factory=dict, description="sessions by actor kind")
    sessions: int = 0
    sessions_beyond_limit: int = Field(default=0, description="registrations past population.sessions")
    sessions_fully_voided: int = 0


CIVICLAB_EXT = "https://w3id.org/civiclab/xapi/"
DETAIL_KEYS = frozenset(
    {
        "channel",
        "comfort-setting",
        "comfort-value",
        "exit-reason",
        "immersive-seconds",
        "frame-rate-median",
        "step",
    }
)


def immersion_detail(raw: Any) -> dict[str, Any] | None:
    """civiclab's immersion extensions of a statement (channel, comfort, exit), short values only."""
    found: dict[str, Any] = {}
    for where in ("context", "result"):
        part = raw.get(where) if isinstance(raw, dict) else None
        ext = part.get("extensions") if isinstance(part, dict) else None
        if not isinstance(ext, dict):
            continue
        for key, value in ext.items():
            name = key[len(CIVICLAB_EXT) :] if isinstance(key, str) and key.startswith(CIVICLAB_EXT) else None
            if name in DETAIL_KEYS and (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                or isinstance(value, str)
                and len(value) <= 40
            ):
                found[name] = value
    return found or None


def _compact(
    st: Statement, index: int, kind: str, target: str | None, detail: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The few fields a session needs, picklable for worker processes (no actor, no free text)."""
    return {
        "detail": detail,
        "index": index,
        "statement_id": st.id,
        "verb": st.verb,
        "kind": kind,
        "target": target,
        "timestamp": st.timestamp.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "success": st.success,
        "completion": st.completion,
        "duration_s": st.duration_s,
    }


class ObservedStatements:
    """Statements read one by one, grouped into sessions by registration."""

    def __init__(
        self, activities: ActivityMap, salt: str, personas: dict[str, dict[str, str]], source: str
    ) -> None:
        self.activities = activities
        self.salt = salt
        self.personas = personas
        self.report = XapiReport(source=source)
        self.problems: list[Problem] = []
        self._seen: set[str] = set()
        self._registration_of: dict[str, str] = {}
        self._voiding: list[tuple[Statement, int]] = []
        self._sessions: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._actors: dict[str, tuple[Statement, str]] = {}
        self._unmapped: Counter[str] = Counter()
        self._other: Counter[str] = Counter()
        self._verbs: Counter[str] = Counter()
        self._versions: Counter[str] = Counter()
        self._count = 0

    def add(self, raw: Any) -> None:
        """Read the next statement (its index is its position in what was read)."""
        index = self._count
        self._count += 1
        notes: list[tuple[str, str]] = []
        sid = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
        try:
            st = parse_statement(raw, notes)
        except Invalid as exc:
            self.problems.append(Problem(index=index, statement_id=sid, field=exc.field, reason=exc.reason))
            self.report.rejected += 1
            return
        if st.id is not None:
            if st.id in self._seen:
                self.report.duplicates_ignored += 1  # the same statement sent or paged twice
                return
            self._seen.add(st.id)
        for field, reason in notes:
            self.problems.append(
                Problem(index=index, statement_id=sid, field=field, reason=reason, kind="ignored_field")
            )
            self.report.ignored_fields += 1
        self._verbs[st.verb] += 1
        self._versions[st.version or "unstated"] += 1
        if st.verb == "voided":
            self._voiding.append((st, index))
            return
        if st.verb == "other":
            self._other[st.verb_iri] += 1
        assert st.registration is not None
        if st.object_kind != "Activity":
            self.report.not_activities += 1
            return
        resolved = self.activities.resolve(st.object_id, st.activity_type)
        if resolved.kind == "unmapped":
            self._unmapped[st.object_id] += 1
        self._sessions[st.registration].append(
            _compact(st, index, resolved.kind, resolved.target or st.object_id, immersion_detail(raw))
        )
        if st.id is not None:
            self._registration_of[st.id] = st.registration
        known = self._actors.get(st.registration)
        if known is None or st.timestamp < known[0].timestamp:
            self._actors[st.registration] = (st, pseudonym(st.actor_key, self.salt))

    def _apply_voiding(self) -> None:
        # xAPI 2.3.2: a statement is voided iff it is not itself a voiding statement and a voiding
        # statement refers to it; the evidence is disregarded, the voiding itself is recorded.
        voiding_ids = {st.id for st, _ in self._voiding if st.id is not None}
        targets: dict[str, set[str]] = defaultdict(set)
        for st, index in self._voiding:
            self.report.voiding_statements += 1
            registration = self._registration_of.get(st.object_id)
            if registration is None or st.object_id in voiding_ids:
                self.report.voiding_without_target += 1
                continue
            targets[registration].add(st.object_id)
            entry = _compact(st, index, "voiding", st.object_id)
            self._sessions[registration].append(entry)  # recorded in the session it changes
        for registration, ids in targets.items():
            kept = [
                s
                for s in self._sessions[registration]
                if s["kind"] == "voiding" or s["statement_id"] not in ids
            ]
            self.report.voided += len(self._sessions[registration]) - len(kept)
            self._sessions[registration] = kept

    def plans(self, limit: int) -> list[SessionPlan]:
        """One plan per registration, its statements in time order, at most `limit`, oldest first."""
        self._apply_voiding()
        sessions: list[tuple[str, list[dict[str, Any]]]] = []
        for registration, sts in self._sessions.items():
            if not any(s["kind"] != "voiding" for s in sts):
                self.report.sessions_fully_voided += 1
                continue
            sts.sort(key=lambda s: (s["timestamp"], s["index"]))
            sessions.append((registration, sts))
        # Timestamps were normalised to UTC "Z" strings, so they sort as text.
        sessions.sort(key=lambda kv: (kv[1][0]["timestamp"], kv[0]))
        plans: list[SessionPlan] = []
        actors: Counter[str] = Counter()
        for index, (registration, sts) in enumerate(sessions[:limit]):
            first, actor = self._actors[registration]
            actors[first.actor_kind] += 1
            segment = {a: "unknown" for a in SEGMENT_ATTRIBUTES}
            persona_id = actor
            ext = first.extensions
            if isinstance(ext.get(PERSONA_EXT), str) and ext[PERSONA_EXT] in self.personas:
                persona_id = ext[PERSONA_EXT]
                segment.update(self.personas[persona_id])
            if isinstance(ext.get(SEGMENT_EXT), dict):
                segment.update({k: str(v) for k, v in ext[SEGMENT_EXT].items() if k in SEGMENT_ATTRIBUTES})
            plans.append(
                SessionPlan(
                    session_id=f"x{index:06d}",
                    index=index,
                    persona_id=persona_id,
                    segment=segment,
                    seed=0,
                    source={
                        "registration_hash": pseudonym(registration, self.salt),
                        "actor_kind": first.actor_kind,
                        "group_members": first.members if first.actor_kind != "agent" else None,
                        "statements": sts,
                    },
                )
            )
        self.report.sessions_beyond_limit = max(0, len(sessions) - limit)
        self._finish_report(plans, actors)
        return plans

    def _finish_report(self, plans: list[SessionPlan], actors: Counter[str]) -> None:
        r = self.report
        r.statements_read = self._count
        r.statements_used = sum(
            1 for p in plans for s in p.source["statements"] if s["kind"] not in ("voiding", "unmapped")
        )
        r.unmapped_statements = sum(self._unmapped.values())
        r.unmapped_activities = len(self._unmapped)
        r.unmapped_examples = [a for a, _ in self._unmapped.most_common(EXAMPLES)]
        r.other_verbs = dict(self._other.most_common(EXAMPLES))
        r.verbs = dict(sorted(self._verbs.items()))
        r.versions = dict(sorted(self._versions.items()))
        r.actors = dict(sorted(actors.items()))
        r.sessions = len(plans)
        if r.unmapped_statements:
            log.warning(
                "xAPI: %d statements on %d activities map to no journey step (e.g. %s); see xapi_report.json",
                r.unmapped_statements,
                r.unmapped_activities,
                ", ".join(r.unmapped_examples[:3]),
            )


def plans_from_statements(
    statements: list[Any],
    salt: str,
    personas: dict[str, dict[str, str]],
    limit: int,
    activities: ActivityMap,
) -> tuple[list[SessionPlan], ObservedStatements]:
    """Plans of a list of statements, and what was read (report, problems)."""
    observed = ObservedStatements(activities, salt, personas, source="list")
    for st in statements:
        observed.add(st)
    return observed.plans(limit), observed
