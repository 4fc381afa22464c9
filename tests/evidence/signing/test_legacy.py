"""Runs made before signing verify as before, reported `unsigned (legacy)`, never as signed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from civiclab.store.tracker import Tracker
from tests.evidence.signing import attacks as a
from tests.evidence.signing.conftest import verify_cli


def _as_legacy(store_uri: str, run_id: str) -> None:
    """What a run of a civiclab older than signing left: no statement, no run inputs, no signing-era
    tags, and that civiclab's version (older than `SIGNING_SINCE`) in its version tag."""
    store = a.sqlite_store(store_uri)
    folder = store.artifacts(run_id)
    (folder / "statement.dsse.json").unlink()
    (folder / "run_inputs.json").unlink()
    a.rewrite_manifest(store, run_id, folder)
    client = Tracker(store_uri).client
    for tag in ("civiclab.statement_sha256", "civiclab.signer", "civiclab.executor"):
        client.delete_tag(run_id, tag)
    client.set_tag(run_id, "civiclab.version", "0.0.9")


@pytest.mark.slow
def test_a_legacy_run_verifies_as_unsigned(
    signed_run: Callable[..., Any], store_uri: str, trust_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = signed_run(store_uri)
    _as_legacy(store_uri, result.run_id)
    code, table, err = verify_cli(store_uri, result.run_id, None, capsys)
    assert code == 3, err  # intact, but nothing was checked against a trust file
    assert table["kind"] == "unsigned (legacy)" and table["signer"] is None
    rows = {c["name"]: c for c in table["checks"]}
    assert rows["signature"] == {"name": "signature", "status": "warning", "detail": "unsigned (legacy)"}
    assert rows["legacy checks"]["status"] == "ok"

    # A committee's trust file asks for signed runs: a legacy run (or a signed run stripped to look
    # like one) does not pass.
    code, table, err = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert code == 1 and "unsigned (legacy): the trust file given requires signed runs" in err

    # And a legacy run whose files were changed still fails as before.
    folder = a.sqlite_store(store_uri).artifacts(result.run_id)
    (folder / "metrics.json").write_text("[]")
    code, table, err = verify_cli(store_uri, result.run_id, None, capsys)
    rows = {c["name"]: c for c in table["checks"]}
    assert code == 1 and rows["legacy checks"]["detail"] == "metrics.json: sha256 does not match the manifest"
