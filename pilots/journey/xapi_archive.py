"""The statements read from an LRS, kept with the run without personal data.

Every Agent or Group (actor, authority, instructor, team, members, 2.0 contextAgents, an object
that is an agent) is replaced by its salted pseudonym, and so is the registration (as in the
session records); every remaining string then goes through civiclab's redaction (names, e-mails,
phone numbers typed in a response, say).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from civiclab.privacy.redaction import redact
from pilots.journey.xapi_statement import IFI, agent_key, pseudonym


def _is_agent(value: dict[str, Any]) -> bool:
    return value.get("objectType") in ("Agent", "Group") or any(k in value for k in IFI)


def pseudonymise_agents(value: Any, salt: str) -> Any:
    """`value` with each agent or group replaced by `{objectType, pseudonym, members}`."""
    if isinstance(value, list):
        return [pseudonymise_agents(v, salt) for v in value]
    if not isinstance(value, dict):
        return value
    if _is_agent(value):
        key = agent_key(value)
        out: dict[str, Any] = {"objectType": value.get("objectType", "Agent")}
        if key is not None:
            out["pseudonym"] = pseudonym(key, salt)
        members = value.get("member")
        if isinstance(members, list):
            out["member"] = [pseudonymise_agents(m, salt) for m in members]
        return out
    return {k: pseudonymise_agents(v, salt) for k, v in value.items()}


class Archive:
    """Writes each statement read, pseudonymised and redacted, as one JSON line."""

    def __init__(self, path: Path, salt: str) -> None:
        self.path = path
        self.salt = salt
        self._out: IO[str] = path.open("w", encoding="utf-8")
        self.count = 0

    def write(self, statement: Any) -> None:
        clean = pseudonymise_agents(statement, self.salt)
        context = clean.get("context") if isinstance(clean, dict) else None
        if isinstance(context, dict) and isinstance(context.get("registration"), str):
            context["registration"] = pseudonym(context["registration"].lower(), self.salt)
        clean = redact(clean)
        self._out.write(json.dumps(clean, sort_keys=True, ensure_ascii=False) + "\n")
        self.count += 1

    def close(self) -> None:
        self._out.close()
