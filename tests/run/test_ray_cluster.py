"""Joining a Ray cluster started apart (`ray start --head`), as a lab with its own cluster would.

The head runs a Python where civiclab, pilots and evaluators are NOT importable (no editable install,
PYTHONPATH unset, started from a folder outside the checkout): a run only works there because civiclab
ships its code (Ray `py_modules`) and the pilot's data (inside the pilot factory). Ray would also put the driver's
current folder (here the checkout) first on the workers' path; civiclab gives the job an empty
working_dir so it does not, and the test of a node with its own civiclab checks the code sent wins.

One machine cannot prove everything a real cluster would: the nodes here share the file system, the
Python build and the installed libraries (the bare venv reads the shared site-packages); a missing data
file is simulated by moving the data away after the driver read it; the node's address is this machine's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from civiclab.errors import PilotError
from civiclab.plugins.experiment import load_experiment
from civiclab.plugins.population import iter_plans
from civiclab.run.sessions import build_pilot, record_fingerprint, safe_session
from civiclab.run.shipping import PortablePilotFactory
from tests.ray_head import RayHead, bare_python, ray_head
from tests.run.test_executors import run_root

pytestmark = pytest.mark.ray  # without Ray: skipped on a laptop, a failure in CI (tests/tools.py)


@pytest.fixture(scope="module")
def head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayHead]:
    """A separate Ray head (2 CPUs) on 127.0.0.1 whose workers cannot import civiclab by themselves."""
    outside = tmp_path_factory.mktemp("node")  # not the checkout: its cwd gives workers nothing
    python = bare_python(outside / "venv")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import ray, importlib.util as u; print([u.find_spec(m) for m in "
            "('civiclab', 'pilots', 'evaluators')])",
        ],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "[None, None, None]"  # the node lacks the checkout: it is shipped
    with ray_head(outside, python=python) as started:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("RAY_AUTH_MODE", "token")
            patch.setenv("RAY_AUTH_TOKEN", started.token)
            forget_ray_token()
            yield started
        forget_ray_token()


def forget_ray_token() -> None:
    """Ray caches the token of the last cluster this process joined or started: read it again from
    the environment, or a cluster of another test (or this head, after) refuses the stale one."""
    from ray._raylet import AuthenticationTokenLoader, Config

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


def test_a_run_joining_a_separate_head_by_address_or_ray_client_has_the_serial_audit_root(
    journey_spec: Path, tmp_path: Path, head: RayHead, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    serial = run_root(journey_spec, uri)
    by_gcs = run_root(journey_spec, uri, **{"executor.kind": "ray", "executor.address": head.address})
    by_client = run_root(
        journey_spec, uri, **{"executor.kind": "ray", "executor.address": head.client_address}
    )
    # `auto` is Ray's: RAY_ADDRESS, else the cluster last started here in Ray's default temp folder.
    monkeypatch.setenv("RAY_ADDRESS", head.address)
    by_auto = run_root(journey_spec, uri, **{"executor.kind": "ray", "executor.address": "auto"})
    assert serial[1] == 400
    assert by_gcs == serial
    assert by_client == serial
    assert by_auto == serial


def test_workers_run_on_the_shipped_data_when_their_node_lacks_the_files(
    journey_spec: Path, tmp_path: Path, head: RayHead
) -> None:
    from civiclab.run.executors.ray import RayExecutor

    exp = load_experiment(journey_spec, {"population.sessions": 60})
    plans = list(iter_plans(exp.personas, 60, exp.spec.population.seed))
    pilot = build_pilot(exp)
    expected = [record_fingerprint(safe_session(pilot, plan)) for plan in plans]
    factory = PortablePilotFactory.of(exp, None)
    # The driver read the data; now no process of this machine can find it where the spec said.
    shutil.move(journey_spec.parent / "data", tmp_path / "elsewhere")
    with RayExecutor(
        factory, safe_session, address=head.address, workers=2, batch=8, modules=["civiclab", "pilots"]
    ) as executor:
        got = [record_fingerprint(r) for r in executor.run(plans)]
    assert got == expected


def test_a_node_given_other_bytes_at_the_same_path_uses_the_drivers_data(journey_spec: Path) -> None:
    exp = load_experiment(journey_spec)
    factory = PortablePilotFactory.of(exp, None)
    graph = exp.pilot_params.journey  # type: ignore[attr-defined]
    original = build_pilot(exp).journey  # type: ignore[attr-defined]
    graph.write_text(graph.read_text(encoding="utf-8").replace("name:", "name: x", 1), encoding="utf-8")
    assert factory().journey == original  # type: ignore[attr-defined]


def test_a_worker_missing_a_module_stops_the_run_with_one_line_naming_node_and_module(
    tmp_path: Path, head: RayHead, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civiclab.run.executors.ray import RayExecutor

    lab = tmp_path / "lab_code"
    lab.mkdir()
    (lab / "kiosk_pilot.py").write_text(
        textwrap.dedent(
            """
            def build():
                import lab_only_library  # installed on the lab's laptop, not on the cluster

                return lab_only_library.pilot()
            """
        ),
        encoding="utf-8",
    )
    (lab / "lab_only_library.py").write_text("def pilot():\n    raise AssertionError\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(lab))
    import kiosk_pilot

    for modules, missing in (
        (["civiclab", "kiosk_pilot"], "lab_only_library"),
        (["civiclab"], "kiosk_pilot"),
    ):
        with pytest.raises(PilotError) as caught:
            RayExecutor(
                kiosk_pilot.build, safe_session, address=head.address, workers=1, batch=4, modules=modules
            )
        message = str(caught.value)
        assert "\n" not in message
        # The node by host name and the address Ray reports for it (this machine's, here).
        assert re.fullmatch(
            rf"ray worker on node {re.escape(_hostname())} \([\d.]+\) cannot build the pilot: "
            rf"no module named '{missing}'",
            message,
        ), message
    import ray

    assert not ray.is_initialized()  # the failed executor left the cluster
    sys.modules.pop("kiosk_pilot", None)


def _hostname() -> str:
    import socket

    return socket.gethostname()


SMS_PILOT = '''
from pydantic import BaseModel, ConfigDict

from civiclab import Pilot, SessionPlan, SessionRecord, pilot


class SmsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@pilot("sms-reminder-on-ray", params=SmsParams)
class SmsReminderPilot(Pilot[SmsParams]):
    """Reminds citizens of their appointment by SMS, through the lab's gateway library."""

    def setup(self) -> None:
        import sms_gateway_sdk  # installed where the lab runs civiclab, not on the cluster

        self.gateway = sms_gateway_sdk

    def run_session(self, plan: SessionPlan) -> SessionRecord:
        raise AssertionError("no session may run on a worker without its pilot")
'''


def test_a_run_whose_pilot_a_node_cannot_set_up_is_marked_failed_with_one_line(
    journey_spec: Path, tmp_path: Path, head: RayHead, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    from civiclab.run.runner import run_experiment
    from civiclab.store.tracker import Tracker

    plugin, lab_site = tmp_path / "plugin", tmp_path / "lab_site"
    plugin.mkdir(), lab_site.mkdir()
    (plugin / "sms_reminder_pilot.py").write_text(SMS_PILOT, encoding="utf-8")
    (lab_site / "sms_gateway_sdk.py").write_text("SENT = []\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(plugin))
    monkeypatch.syspath_prepend(str(lab_site))
    import sms_reminder_pilot  # noqa: F401 - registers the pilot in this process

    raw = yaml.safe_load(journey_spec.read_text(encoding="utf-8"))
    raw["pilot"] = {"kind": "sms-reminder-on-ray", "params": {}}
    raw["executor"] = {"kind": "ray", "address": head.address, "workers": 1}
    spec = journey_spec.with_name("sms.yaml")
    spec.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    exp = load_experiment(spec, {"population.sessions": 10, "energy.tracker": "none"})
    with pytest.raises(PilotError) as caught:
        run_experiment(exp, tracking_uri=uri)
    assert "\n" not in str(caught.value)
    assert str(caught.value).endswith("cannot build the pilot: no module named 'sms_gateway_sdk'")
    assert caught.value.exit_code == 1
    (run,) = Tracker(uri).list_runs()
    assert run.status == "FAILED"
    assert "sms_gateway_sdk" in run.tags["civiclab.error"]


def test_a_file_a_pilot_opens_outside_its_params_is_named_by_the_worker() -> None:
    import ray.cloudpickle

    from civiclab.run.executors.ray import _SessionWorker

    def factory() -> None:
        open("/srv/belleval/knowledge-base.yaml", encoding="utf-8")  # noqa: SIM115 - read at setup

    worker = _SessionWorker(ray.cloudpickle.dumps(factory), safe_session)
    node, problem = worker.ready()
    assert problem == "file not found: /srv/belleval/knowledge-base.yaml"
    assert node.startswith(_hostname() + " (")


def test_the_code_sent_wins_over_a_civiclab_installed_on_the_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node whose Python has civiclab installed (the shared venv's editable install of another
    checkout) still runs the driver's civiclab: what the run's records were made by is what was sent."""
    from civiclab.run.executors.ray import RayExecutor

    lab = tmp_path / "lab_code"
    lab.mkdir()
    (lab / "which_civiclab.py").write_text(
        "def build():\n    import civiclab\n\n    raise RuntimeError(civiclab.__file__)\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(lab))
    import which_civiclab

    node = tmp_path / "node"
    node.mkdir()
    with ray_head(node) as other, pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_AUTH_MODE", "token")
        patch.setenv("RAY_AUTH_TOKEN", other.token)
        forget_ray_token()
        try:
            with pytest.raises(PilotError) as caught:
                RayExecutor(
                    which_civiclab.build,
                    safe_session,
                    address=other.address,
                    workers=1,
                    batch=1,
                    modules=["civiclab", "which_civiclab"],
                )
        finally:
            patch.undo()
            forget_ray_token()
    used = str(caught.value).rsplit("RuntimeError: ", 1)[1]
    assert "runtime_resources" in used and used.endswith("civiclab/__init__.py"), used
    sys.modules.pop("which_civiclab", None)
