"""A run's state, said the same way in MLflow's status and in civiclab's `civiclab.status` tag.

MLflow's status (`RUNNING`, `FINISHED`, `FAILED`, `KILLED`) is what the MLflow UI and its API
filter on; the tag is what civiclab's own commands and reports read. They must never disagree:
a run stopped by SIGINT/SIGTERM is `KILLED` / `killed`; one that raised, or whose process
vanished (SIGKILL, power loss: the next command that lists runs closes it), is `FAILED` / `failed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from civiclab.store.tracker import RunSummary

TAG = "civiclab.status"
TAG_FOR_STATUS = {"RUNNING": "running", "FINISHED": "finished", "FAILED": "failed", "KILLED": "killed"}


def status_tag(mlflow_status: str) -> dict[str, str]:
    """The `civiclab.status` tag that goes with an MLflow run status."""
    return {TAG: TAG_FOR_STATUS[mlflow_status]}


def unfinished(summary: RunSummary) -> str | None:
    """Why a run's results are partial (it did not finish), or None for a finished run."""
    tag = summary.tags.get(TAG, "finished")
    if summary.status == "FINISHED" and tag == "finished":
        return None
    error = summary.tags.get("civiclab.error", "")
    return f"status {summary.status.lower()}" + (f": {error[:120]}" if error else "")
