"""The AI-assistant pilot: retrieval over a municipal knowledge base, hand-over router, explanations."""

from __future__ import annotations

from pilots.assistant.pilot import AssistantPilot

assistant = AssistantPilot

__all__ = ["AssistantPilot", "assistant"]
