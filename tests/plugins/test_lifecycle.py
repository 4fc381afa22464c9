"""The plugin contract: the public API, the declared pilot lifecycle, typed facts and evaluator errors."""

from __future__ import annotations

import os
import pkgutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

from civiclab import EventLog, Pilot, PilotFacts, RunData, SessionPlan, SessionRecord, pilot
from civiclab.errors import EvaluatorError
from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import run_experiment

FAST = {"energy.tracker": "none", "population.sessions": 40}


def test_the_public_api_is_sorted_and_no_submodule_shadows_it() -> None:
    import civiclab.plugins.piloting  # noqa: F401 - importing a submodule must not change what `civiclab` exports

    assert civiclab.__all__ == sorted(civiclab.__all__)
    from civiclab import evaluator as evaluator_decorator
    from civiclab import pilot as pilot_decorator

    assert callable(pilot_decorator) and callable(evaluator_decorator)
    submodules = {m.name for m in pkgutil.iter_modules(civiclab.__path__)}
    assert not submodules & set(civiclab.__all__)


class CountingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    log: str


class CountingFacts(PilotFacts):
    setups: int
    secret_names: list[str] = Field(exclude=True, repr=False)


@pilot("test-counting", params=CountingParams)
class CountingPilot(Pilot[CountingParams]):
    """Writes the pid of every `setup` call to a file (tests only)."""

    def setup(self) -> None:
        with open(self.params.log, "a", encoding="utf-8") as out:
            out.write(f"{os.getpid()}\n")
        self.ready = True

    def run_session(self, plan: SessionPlan) -> SessionRecord:
        assert self.ready, "a session ran on a pilot that was not set up"
        log = EventLog(plan.session_id, self.session_start(plan))
        log.add("kiosk.served", "kiosk", 30)
        return SessionRecord(
            session_id=plan.session_id,
            persona_id=plan.persona_id,
            segment=plan.segment,
            events=log.events,
            outcome="completed",
            duration_s=30,
        )

    def run_facts(self) -> CountingFacts:
        setups = len(Path(self.params.log).read_text().splitlines())
        return CountingFacts(setups=setups, secret_names=["Jeanne Martin"])


def counting_spec(journey_spec: Path, log: Path) -> Path:
    data = yaml.safe_load(journey_spec.read_text())
    data["pilot"] = {"kind": "test-counting", "params": {"log": str(log)}}
    data["evaluators"] = ["auditability"]
    data.pop("survey", None)
    data["scorecard"] = {"criteria": [{"metric": "auditability.reproducible", "at_least": 1}]}
    journey_spec.write_text(yaml.safe_dump(data))
    return journey_spec


def setups(log: Path) -> list[int]:
    return [int(line) for line in log.read_text().splitlines()]


def reproducible(metrics: list[Any]) -> float | None:
    return next(m.value for m in metrics if m.name == "auditability.reproducible" and m.segment is None)


@pytest.mark.slow
def test_serial_runs_set_the_pilot_up_once_and_replay_on_it(
    journey_spec: Path, store_uri: str, tmp_path: Path
) -> None:
    log = tmp_path / "setups.txt"
    result = run_experiment(load_experiment(counting_spec(journey_spec, log), FAST), tracking_uri=store_uri)
    assert setups(log) == [os.getpid()]  # sessions, replay and facts all used the one set-up pilot
    assert reproducible(result.metrics) == 1.0


@pytest.mark.slow
def test_a_pool_sets_each_worker_up_once_and_the_parent_only_to_replay(
    journey_spec: Path, store_uri: str, tmp_path: Path
) -> None:
    log = tmp_path / "setups.txt"
    spec = counting_spec(journey_spec, log)
    result = run_experiment(load_experiment(spec, FAST), tracking_uri=store_uri, workers=2)
    pids = setups(log)
    assert len(pids) == len(set(pids)), "a process set its pilot up twice"
    assert os.getpid() in pids  # the parent replays the first sessions, so it sets up, once
    assert 2 <= len(pids) <= 3  # the parent and the workers that ran sessions
    assert reproducible(result.metrics) == 1.0


class Seen(BaseModel):
    setups: int
    secret_names: list[str] = []


class NeedsChain(BaseModel):
    chain_id: int


def test_evaluators_read_typed_facts_through_their_own_view(journey_spec: Path, tmp_path: Path) -> None:
    facts = CountingFacts(setups=2, secret_names=["Jeanne Martin"])
    experiment = load_experiment(journey_spec)
    run = RunData.for_experiment(experiment, records=[], artifact_dir=tmp_path, facts=facts)
    view = run.facts_as(Seen)
    assert view is not None and view.setups == 2 and view.secret_names == ["Jeanne Martin"]
    # Personal values travel to evaluators in memory, never into a dump or a log line.
    assert "Jeanne" not in facts.model_dump_json() and "Jeanne" not in repr(facts)
    with pytest.raises(EvaluatorError, match="do not fit NeedsChain: chain_id"):
        run.facts_as(NeedsChain)
    assert RunData.for_experiment(experiment, records=[], artifact_dir=tmp_path).facts_as(Seen) is None


def test_two_failing_evaluators_in_one_dimension_keep_their_own_error(
    journey_spec: Path, tmp_path: Path
) -> None:
    from civiclab.plugins.evaluation import run_evaluators
    from civiclab.plugins.registry import evaluator

    @evaluator("test-queue-a", dimension="human_centered")
    def queue_a(run: RunData, params: object) -> list[Any]:
        raise ZeroDivisionError("no sessions")

    @evaluator("test-queue-b", dimension="human_centered")
    def queue_b(run: RunData, params: object) -> list[Any]:
        raise KeyError("wait_s")

    data = yaml.safe_load(journey_spec.read_text())
    data["evaluators"] = ["test-queue-a", "test-queue-b"]
    data.pop("survey", None)
    journey_spec.write_text(yaml.safe_dump(data))
    experiment = load_experiment(journey_spec)
    run = RunData.for_experiment(experiment, records=[], artifact_dir=tmp_path)
    metrics, errors = run_evaluators(run, experiment.evaluators)
    assert {m.name: m.error for m in metrics} == {
        "human_centered.test-queue-a.evaluator_error": "ZeroDivisionError: no sessions",
        "human_centered.test-queue-b.evaluator_error": "KeyError: 'wait_s'",
    }
    assert errors == ["test-queue-a: ZeroDivisionError: no sessions", "test-queue-b: KeyError: 'wait_s'"]


def test_importing_the_public_api_loads_no_heavy_library() -> None:
    import subprocess
    import sys

    heavy = ("numpy", "mlflow", "torch", "transformers", "web3", "shap")
    code = f"import sys, civiclab; print([m for m in {heavy!r} if m in sys.modules])"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


PUBLIC_MODULES = (
    "civiclab",
    "civiclab.text",
    "civiclab.survey",
    "civiclab.evm",
    "civiclab.privacy.redaction",
)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_name_resolves_and_the_heavy_ones_only_on_first_use(name: str) -> None:
    import importlib
    import subprocess
    import sys

    module = importlib.import_module(name)
    missing = [n for n in module.__all__ if getattr(module, n, None) is None and n != "__version__"]
    assert missing == []
    # Importing the module alone never loads numpy; the names that need it load it when used.
    code = f"import sys, {name}; print('numpy' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_an_evaluator_reads_the_run_without_the_experiment(tmp_path: Path) -> None:
    """What `verify` builds to re-run evaluators: name, k and seed given, no spec loaded."""
    from civiclab import Estimate, metric_from, per_segment, rate

    segment = {"age_band": "80+", "digital_literacy": "none"}
    records = [
        SessionRecord(session_id=f"s{i}", persona_id="p", segment=segment, outcome="completed")
        for i in range(6)
    ]
    run = RunData(experiment_name="stored", k=5, seed=7, records=records, artifact_dir=tmp_path)
    assert run.experiment is None and (run.k, run.seed) == (5, 7)

    def completed(rs: list[SessionRecord]) -> Estimate:
        return rate([r.outcome == "completed" for r in rs], seed=run.seed)

    metrics = per_segment(run, "human_centered.completion_rate", completed, dimension="human_centered")
    assert [m.segment for m in metrics] == [None, "age_band=80+", "digital_literacy=none"]
    smaller = RunData(experiment_name="stored", k=7, seed=7, records=records, artifact_dir=tmp_path)
    assert [m.segment for m in per_segment(smaller, "x.y", completed, dimension="x")] == [None]
    est = completed(records)
    assert metric_from("x.y", est, dimension="x").model_dump(
        include={"value", "ci_low", "ci_high", "n", "method"}
    ) == {
        "value": est.value,
        "ci_low": est.ci_low,
        "ci_high": est.ci_high,
        "n": est.n,
        "method": est.method,
    }


class Verdict(BaseModel):
    verdict: str | None = None
    gas: float


def test_a_session_s_data_is_read_through_a_typed_view() -> None:
    record = SessionRecord(
        session_id="s1", persona_id="p", segment={}, outcome="completed", data={"gas": 21000, "other": "x"}
    )
    view = record.data_as(Verdict)
    assert view.gas == 21000.0 and view.verdict is None  # keys the view does not name are ignored
    with pytest.raises(EvaluatorError, match="the data of session s1 do not fit Verdict: gas"):
        record.model_copy(update={"data": {"verdict": "accept"}}).data_as(Verdict)
