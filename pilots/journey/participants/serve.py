"""`civiclab journey serve`: the served journey of an experiment, from its spec.

Statements go to the experiment's LRS (`lrs:`) or to civiclab's own statement store (`store:`),
the same places observe mode reads: what participants do is what the run counts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from civiclab import SpecError, pseudonym_salt
from civiclab.survey import SurveyStore, survey_context
from pilots.journey.model import load_journey
from pilots.journey.participants.app import Served, create_app
from pilots.journey.participants.sinks import LrsSink, StatementSink, StoreSink

if TYPE_CHECKING:
    from civiclab import Experiment

HOME_PAGE = "https://w3id.org/civiclab/participants"


def statement_sink(experiment: Experiment) -> StatementSink:
    """Where participants' statements go, or `SpecError` when the experiment names nowhere to read them back."""
    params: Any = experiment.pilot_params
    if params.mode != "observe" or (params.lrs is None and params.store is None):
        raise SpecError(
            experiment.path,
            "pilot.params",
            "journey serve needs mode: observe with `lrs:` or `store:` (where the run will read what "
            "participants do)",
        )
    if params.lrs is not None:
        return LrsSink(params.lrs, HOME_PAGE)
    return StoreSink(params.store.path)


@contextlib.contextmanager
def participant_app(experiment: Experiment, *, secret: bytes | None = None) -> Iterator[Any]:
    """The ASGI app of the experiment's served journey; its stores are closed on exit."""
    params: Any = experiment.pilot_params
    journey = load_journey(params.journey)
    sink = statement_sink(experiment)
    ctx = survey_context(str(experiment.path))
    codes = SurveyStore(ctx.store_url())
    governance = experiment.spec.governance
    served = Served(
        experiment.spec.name,
        journey,
        codes,
        sink,
        {
            "data_controller": getattr(governance, "data_controller", "") or "",
            "retention": getattr(governance, "retention", "") or "",
        },
        salt=pseudonym_salt(experiment.spec.privacy),
    )
    try:
        yield create_app(served, secret=secret)
    finally:
        sink.close()
        codes.close()
