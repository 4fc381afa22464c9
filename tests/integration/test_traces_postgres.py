"""The assistant's traces and their assessments on an MLflow tracking server backed by PostgreSQL,
read back through the server as a lab's MLflow UI reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import run_experiment
from civiclab.store.tracker import Tracker
from pilots.assistant.standin import serve
from tests.integration.servers import mlflow_server, postgres
from tests.pilots.assistant_support import DATA
from tests.pilots.byo_support import byo_spec, http_system
from tests.pilots.test_assistant_traces import check_traces

pytestmark = pytest.mark.integration


def test_traces_and_grades_are_read_back_from_a_postgresql_backed_server(tmp_path: Path) -> None:
    with (
        postgres() as db_url,
        mlflow_server(db_url, tmp_path / "artifacts") as server,
        serve(DATA / "knowledge_base.yaml") as url,
    ):
        spec = byo_spec(tmp_path, http_system(url), sessions=12)
        result = run_experiment(load_experiment(spec), tracking_uri=server)
        folder = Tracker(server).download(result.run_id, tmp_path / "download")
        check_traces(server, result, 12, folder)
