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
    from civiclab.spec.instruments import Instrument, load_instrument
    from civiclab.survey.collect import Gathered, check_response_files, gather, survey_context
    from civiclab.survey.enrolment import redeem, store_answers, withdraw_person
    from civiclab.survey.responses import SurveyResponse
    from civiclab.survey.scoring import ScoringOptions, construct_scores, score_survey
    from civiclab.survey.store import InvitationUnknown, InvitationUsed, SurveyStore, normalise_code

_LAZY: dict[str, str] = {
    "Gathered": "civiclab.survey.collect",
    "Instrument": "civiclab.spec.instruments",
    "load_instrument": "civiclab.spec.instruments",
    "ScoringOptions": "civiclab.survey.scoring",
    "SurveyResponse": "civiclab.survey.responses",
    "check_response_files": "civiclab.survey.collect",
    "gather": "civiclab.survey.collect",
    "score_survey": "civiclab.survey.scoring",
    "construct_scores": "civiclab.survey.scoring",
    # the invitation codes, for a pilot that enrols participants with them
    "InvitationUnknown": "civiclab.survey.store",
    "InvitationUsed": "civiclab.survey.store",
    "SurveyStore": "civiclab.survey.store",
    "normalise_code": "civiclab.survey.store",
    "survey_context": "civiclab.survey.collect",
    "redeem": "civiclab.survey.enrolment",
    "store_answers": "civiclab.survey.enrolment",
    "withdraw_person": "civiclab.survey.enrolment",
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
    "InvitationUnknown",
    "InvitationUsed",
    "ScoringOptions",
    "SurveyResponse",
    "SurveyStore",
    "check_response_files",
    "construct_scores",
    "gather",
    "load_instrument",
    "normalise_code",
    "redeem",
    "score_survey",
    "store_answers",
    "survey_context",
    "withdraw_person",
]
