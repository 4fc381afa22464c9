"""Credentials in URLs never reach a stored or printed place (issue 15: "Credentials in URLs")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civiclab.cli import main
from civiclab.errors import TrackingError
from civiclab.plugins.experiment import load_experiment
from civiclab.privacy.credentials import strip_credentials, strip_url_credentials
from civiclab.run.runner import run_experiment
from civiclab.store.tracker import Tracker
from tests import anvil_node

anvil_url = anvil_node.anvil_url
SPEC = Path(__file__).resolve().parents[2] / "experiments" / "attestation.yaml"
PASSWORD = "s3cretPassw0rd"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://lab:s3cret@node:8545/", "http://lab:***@node:8545/"),
        ("postgresql://mlflow:p%40ss@db:5432/mlflow", "postgresql://mlflow:***@db:5432/mlflow"),
        ("https://node.example/rpc?token=abc&chain=1", "https://node.example/rpc?token=***&chain=1"),
        ("https://x/?password=a&api_key=b#f", "https://x/?password=***&api_key=***#f"),
        ("https://0123456789abcdef0123456789abcdef0123@node/", "https://***@node/"),
        ("http://lab@node/", "http://lab@node/"),
        ("sqlite:////tmp/lab@home/mlflow.db", "sqlite:////tmp/lab@home/mlflow.db"),
        ("in-process", "in-process"),
    ],
)
def test_strip_url_credentials_keeps_the_address_and_drops_the_secret(url: str, shown: str) -> None:
    assert strip_url_credentials(url) == shown


def test_an_error_message_never_prints_a_password() -> None:
    message = f"cannot open the MLflow store postgresql://lab:{PASSWORD}@db/mlflow: refused"
    assert PASSWORD not in str(TrackingError(message))
    assert strip_credentials(message).startswith(
        "cannot open the MLflow store postgresql://lab:***@db/mlflow"
    )


# Guards issue 15: on main the password landed in an MLflow param, manifest.json, spec.yaml, the
# verify output, the HTML report and error messages.
@pytest.mark.integration
@pytest.mark.evm_node
def test_an_rpc_url_password_appears_in_no_artifact_param_or_output(
    tmp_path: Path, anvil_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    secret_url = anvil_url.replace("http://", f"http://lab:{PASSWORD}@") + "/?token=tok" + PASSWORD
    (tmp_path / "data").symlink_to(SPEC.parent / "data")
    spec = tmp_path / "attestation.yaml"
    text = SPEC.read_text(encoding="utf-8")
    spec.write_text(text + f"audit:\n  anchor: {secret_url}\n", encoding="utf-8")
    store = f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    experiment = load_experiment(
        spec, {"energy.tracker": "none", "population.sessions": 8, "pilot.params.batch_size": 4}
    )
    result = run_experiment(experiment, tracking_uri=store)
    assert result.artifact_dir is not None
    everything = b"".join(p.read_bytes() for p in result.artifact_dir.rglob("*") if p.is_file())
    assert PASSWORD.encode() not in everything
    manifest = json.loads((result.artifact_dir / "manifest.json").read_text())
    assert manifest["anchor"]["rpc_url"].startswith("http://lab:***@127.0.0.1")
    assert "lab:***@" in (result.artifact_dir / "spec.yaml").read_text()
    run = Tracker(store).get_run(result.run_id)
    assert not any(PASSWORD in v for v in [*run.params.values(), *run.tags.values()])
    assert run.params["audit.anchor"].startswith("http://lab:***@")

    capsys.readouterr()
    assert main(["--tracking-uri", store, "verify", result.run_id]) == 3  # intact; no trust file given
    assert main(["--tracking-uri", store, "report", result.run_id, "--output", str(tmp_path / "r.html")]) == 0
    out = capsys.readouterr()
    assert PASSWORD not in out.out + out.err
    assert PASSWORD not in (tmp_path / "r.html").read_text(encoding="utf-8")
    # The sqlite store holds params and tags too: scan the file itself.
    assert PASSWORD.encode() not in (tmp_path / "mlruns" / "mlflow.db").read_bytes()


def test_a_tracking_server_password_is_not_in_the_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--tracking-uri", f"postgresql://lab:{PASSWORD}@127.0.0.1:1/mlflow", "runs"]) == 2
    err = capsys.readouterr().err
    assert PASSWORD not in err and "postgresql://lab:***@127.0.0.1:1/mlflow" in err
    assert len(err.strip().splitlines()) == 1
