"""Issue 10's tamper matrix against an MLflow tracking server on PostgreSQL.

The attacker edits the PostgreSQL database behind the server and the server's artifact folder; a
committee member runs `civiclab verify` through the server. One server for every attack (it takes
seconds to start); each attack has its own run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from civiclab.evidence import audit
from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import run_experiment
from tests.evidence.signing.attacks import Store, postgres_store
from tests.evidence.signing.conftest import keys, trust_file, verify_cli  # noqa: F401 - fixtures used below
from tests.evidence.signing.matrix import ATTACKS
from tests.integration.servers import mlflow_server, postgres

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("pg-server")
    with postgres() as db_url, mlflow_server(db_url, folder / "artifacts") as server:
        yield postgres_store(server, db_url, folder / "artifacts")


def test_tamper_matrix_on_a_postgresql_backed_server(
    server_store: Store,
    journey_spec: Path,
    trust_file: Path,  # noqa: F811 - the fixture imported above
    keys: dict[str, Any],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    experiment = load_experiment(journey_spec, {"population.sessions": 60, "energy.tracker": "none"})
    clean = run_experiment(experiment, tracking_uri=server_store.uri)
    code, table, err = verify_cli(server_store.uri, clean.run_id, trust_file, capsys)
    assert code == 0, table
    assert table["kind"] == "signed" and table["trusted"] is True

    caught: dict[str, str] = {}
    served = [a for a in ATTACKS if not a.local_files]
    for attack in served:
        result = run_experiment(experiment, tracking_uri=server_store.uri)
        attack.apply(server_store, result.run_id, keys)
        code, table, err = verify_cli(server_store.uri, result.run_id, trust_file, capsys)
        rows = {c["name"]: c for c in table["checks"]}
        assert code == 1, (attack.name, table)
        for check, words in attack.expected(audit.WRITTEN_FORMAT):
            assert rows[check]["status"] == "failed", (attack.name, check, rows[check])
            assert words in rows[check]["detail"], (attack.name, check, rows[check]["detail"])
        caught[attack.name] = next(c["name"] for c in table["checks"] if c["status"] == "failed")
    assert set(caught) == {a.name for a in served}


def test_an_untrusted_review_through_a_postgresql_backed_server(
    server_store: Store,
    journey_spec: Path,
    trust_file: Path,  # noqa: F811
    keys: dict[str, Any],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    from civiclab.evidence.review import add_review

    experiment = load_experiment(journey_spec, {"population.sessions": 60, "energy.tracker": "none"})
    run_id = run_experiment(experiment, tracking_uri=server_store.uri).run_id
    tracker = server_store.tracker
    add_review(tracker, run_id, key=keys["outsider"], reviewer="Dr Martin", decision="approve", comment="GO")
    code, table, err = verify_cli(server_store.uri, run_id, trust_file, capsys)
    assert code == 0, err
    assert table["evidence_ok"] and table["committee"]["state"] == "awaiting"
    rows = {c["name"]: c for c in table["checks"]}
    assert rows["reviews"]["detail"].endswith("0 counted, 1 untrusted, ignored")
    assert tracker.get_run(run_id).tags["civiclab.review.status"] == "not checked"

    add_review(tracker, run_id, key=keys["member"], decision="reject", comment="no", trust_path=trust_file)
    code, table, err = verify_cli(server_store.uri, run_id, trust_file, capsys)
    assert code == 0, err
    assert (
        table["committee"]["summary"]
        == "rejected by 1 of 1 member(s), chair included; 1 review(s) not counted"
    )
    assert tracker.get_run(run_id).tags["civiclab.review.status"] == "rejected"
