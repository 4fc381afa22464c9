"""A run's state, said the same way in MLflow's status and in civiclab's `civiclab.status` tag.

MLflow's status (`RUNNING`, `FINISHED`, `FAILED`, `KILLED`) is what the MLflow UI and its API
filter on; the tag is what civiclab's own commands and reports read. They must never disagree:
a run stopped by SIGINT/SIGTERM is `KILLED` / `killed`; one that raised, or whose process
vanished (SIGKILL, power loss: the next command that lists runs closes it), is `FAILED` / `failed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from civiclab.store.schema import ERROR_TAG, FINISHED, FINISHED_VALUE, STATUS_TAG, STATUS_TAG_VALUES

if TYPE_CHECKING:
    from civiclab.store.tracker import RunSummary


def status_tag(mlflow_status: str) -> dict[str, str]:
    """The `civiclab.status` tag that goes with an MLflow run status."""
    return {STATUS_TAG: STATUS_TAG_VALUES[mlflow_status]}


def is_finished(tags: dict[str, str]) -> bool:
    """Whether a run's tags say it finished (a run without the tag, made before it existed, did)."""
    return tags.get(STATUS_TAG, FINISHED_VALUE) == FINISHED_VALUE


def unfinished(summary: RunSummary) -> str | None:
    """Why a run's results are partial (it did not finish), or None for a finished run."""
    if summary.status == FINISHED and is_finished(summary.tags):
        return None
    error = summary.tags.get(ERROR_TAG, "")
    return f"status {summary.status.lower()}" + (f": {error[:120]}" if error else "")
