"""civiclab: responsible experimentation with emerging technologies in public services.

Public API for pilot and evaluator authors; heavy libraries are imported lazily elsewhere.
"""

from __future__ import annotations

from civiclab.errors import CivicLabError
from civiclab.registry import evaluator, pilot

__version__ = "0.1.0"

__all__ = ["CivicLabError", "__version__", "evaluator", "pilot"]
