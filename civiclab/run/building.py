"""Building the experiment's pilot with its run context: in the run's process and on every worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from civiclab.errors import PilotError
from civiclab.plugins.experiment import Experiment
from civiclab.plugins.piloting import Pilot, PilotContext
from civiclab.privacy.pseudonyms import pseudonym_salt

__all__ = ["build_pilot"]


def build_pilot(experiment: Experiment, workdir: Path | None = None) -> Pilot[Any]:
    """The experiment's pilot, built by its registered factory with the run's context.

    Raises:
        PilotError: the factory did not return a civiclab Pilot.
    """
    spec = experiment.spec
    context = PilotContext(
        experiment=spec.name,
        base_dir=experiment.base_dir,
        seed=spec.population.seed,
        start=spec.population.start,
        personas=experiment.personas,
        k_anonymity=spec.privacy.k_anonymity,
        pseudonym_salt=pseudonym_salt(experiment.spec.privacy),
        workdir=workdir,
    )
    pilot = experiment.pilot.factory(experiment.pilot_params, context)
    if not isinstance(pilot, Pilot):
        raise PilotError(f"pilot {spec.pilot.kind!r} did not build a civiclab Pilot")
    return pilot
