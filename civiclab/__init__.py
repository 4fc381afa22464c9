"""civiclab: responsible experimentation with emerging technologies in public services.

The public API for pilot and evaluator authors. Everything here is light to import: heavy
libraries (mlflow, torch, web3...) are imported lazily inside the code that needs them.
"""

from __future__ import annotations

from civiclab import errors as _errors
from civiclab.errors import (
    AuditError,
    ChainError,
    CivicLabError,
    EvaluatorError,
    PilotError,
    RegistryError,
    SpecError,
    SurveyError,
    TrackingError,
)
from civiclab.plugins.evaluation import RunData
from civiclab.plugins.piloting import EventLog, Pilot, PilotContext, PilotFacts
from civiclab.plugins.registry import evaluator, pilot
from civiclab.privacy import credentials as _credentials
from civiclab.records import Event, Metric, SessionPlan, SessionRecord

__version__ = "0.1.0"

# No error message shows a password (a tracking or node URL with credentials), wherever it is printed.
_errors.redact_messages_with(_credentials.strip_credentials)

__all__ = [
    "AuditError",
    "ChainError",
    "CivicLabError",
    "EvaluatorError",
    "Event",
    "EventLog",
    "Metric",
    "Pilot",
    "PilotContext",
    "PilotError",
    "PilotFacts",
    "RegistryError",
    "RunData",
    "SessionPlan",
    "SessionRecord",
    "SpecError",
    "SurveyError",
    "TrackingError",
    "__version__",
    "evaluator",
    "pilot",
]
