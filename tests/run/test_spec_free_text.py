"""Personal data a lab writes in its spec's free text never reaches what a run stores (issue 20)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from civiclab.cli import main
from civiclab.privacy.spec_text import REWRITTEN_NOTE, stored_spec_text
from civiclab.store.tracker import Tracker
from tests.reporting import toy
from tests.reporting.conftest import make_runner, toy_spec

EMAIL, PHONE, OTHER_EMAIL = "marie.dupont@example.org", "06 12 34 56 78", "jean.martin@example.fr"


# Guards issue 20: description and governance were stored unredacted in params, spec.yaml and scorecard.md.
def test_the_specs_free_text_is_stored_redacted_and_the_run_still_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toy.register()
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    spec = toy_spec("free-text")
    spec["population"]["sessions"] = 30
    spec["description"] = f"Proposed after a complaint: write to {EMAIL} or call {PHONE}."
    spec["governance"]["data_controller"] = f"Ville de Test, DPO {OTHER_EMAIL}"
    spec["governance"]["reviewers"] = ["ethics committee", f"chair ({OTHER_EMAIL})"]
    result = make_runner(tmp_path, store)(spec)

    run = Tracker(store).get_run(result.run_id)
    assert run.params["description"] == "Proposed after a complaint: write to [EMAIL] or call [PHONE]."
    assert run.params["governance.data_controller"] == "Ville de Test, DPO [EMAIL]"
    assert run.params["governance.reviewers"] == "ethics committee,chair ([EMAIL])"
    folder = result.artifact_dir
    stored = (folder / "spec.yaml").read_text(encoding="utf-8")
    assert stored.startswith(REWRITTEN_NOTE)
    copy = yaml.safe_load(stored)
    assert copy["description"] == run.params["description"]
    assert {k: v for k, v in copy.items() if k not in ("description", "governance")} == {
        k: v for k, v in spec.items() if k not in ("description", "governance")
    }
    card = json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))
    assert card["description"] == run.params["description"]
    everything = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    for secret in (EMAIL, PHONE, OTHER_EMAIL):
        assert secret.encode() not in everything
        assert not any(secret in v for v in [*run.params.values(), *run.tags.values()])
    capsys.readouterr()
    assert main(["--tracking-uri", store, "verify", result.run_id]) == 3  # intact; no trust file given
    assert "INTACT" in capsys.readouterr().out.upper()


def test_a_spec_whose_free_text_holds_no_personal_data_is_stored_as_written() -> None:
    text = "# the lab's own comment\nname: plain\ndescription: A pilot of the town hall.\npopulation: {sessions: 4}\n"
    assert stored_spec_text(text) == text
