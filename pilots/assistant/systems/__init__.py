"""Assistant systems civiclab can evaluate: the built-in pipeline, or one the lab already has.

`build_system(spec)` gives an `AssistantSystem` for an external spec (OpenAI-compatible endpoint,
JSON HTTP API, Python object); the built-in pipeline stays inside the pilot.
"""

from __future__ import annotations

from pilots.assistant.systems.base import AssistantSystem, Question, Reply, SystemCallError
from pilots.assistant.systems.config import (
    BuiltinSystem,
    Calls,
    ExternalSpec,
    HttpSystem,
    OpenAISystem,
    PythonSystem,
    SystemSpec,
)


def build_system(spec: ExternalSpec) -> AssistantSystem:
    """The client for an external system (connections are opened lazily by the clients)."""
    if isinstance(spec, OpenAISystem):
        from pilots.assistant.systems.openai import OpenAIChatSystem

        return OpenAIChatSystem(spec)
    if isinstance(spec, HttpSystem):
        from pilots.assistant.systems.http import HttpJsonSystem

        return HttpJsonSystem(spec)
    from pilots.assistant.systems.python import PythonObjectSystem

    return PythonObjectSystem(spec)


__all__ = [
    "AssistantSystem",
    "BuiltinSystem",
    "Calls",
    "ExternalSpec",
    "HttpSystem",
    "OpenAISystem",
    "PythonSystem",
    "Question",
    "Reply",
    "SystemCallError",
    "SystemSpec",
    "build_system",
]
