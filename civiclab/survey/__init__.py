"""Social-acceptability surveys: instruments, scoring, imports, store and the participant web form.

A public module: its `__all__` is what an evaluator may import (gathering a survey's responses and
scoring them). It is kept import-light, as the CLI imports `civiclab.survey.cli` at start: every
name below is imported on first use, and the web form (`civiclab.survey.web`) and the store
(`civiclab.survey.store`) import FastAPI and SQLAlchemy only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civiclab.spec.instruments import Instrument
    from civiclab.survey.collect import Gathered, check_response_files, gather
    from civiclab.survey.responses import SurveyResponse
    from civiclab.survey.scoring import ScoringOptions, score_survey

_LAZY: dict[str, str] = {
    "Gathered": "civiclab.survey.collect",
    "Instrument": "civiclab.spec.instruments",
    "ScoringOptions": "civiclab.survey.scoring",
    "SurveyResponse": "civiclab.survey.responses",
    "check_response_files": "civiclab.survey.collect",
    "gather": "civiclab.survey.collect",
    "score_survey": "civiclab.survey.scoring",
}


def __getattr__(name: str) -> Any:
    """The public names, imported on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'civiclab.survey' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Gathered",
    "Instrument",
    "ScoringOptions",
    "SurveyResponse",
    "check_response_files",
    "gather",
    "score_survey",
]
