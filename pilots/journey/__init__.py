"""The immersive-journey pilot: citizens walk a public-service procedure across channels."""

from __future__ import annotations

from pilots.journey.pilot import JourneyParams, JourneyPilot, journey

__all__ = ["JourneyParams", "JourneyPilot", "journey"]
