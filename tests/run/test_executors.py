"""Executors: serial, process pool and a real local Ray cluster give the same audit root; plans are
drawn as records come back (backpressure), never all at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from civiclab.plugins.experiment import load_experiment
from civiclab.plugins.population import iter_plans
from civiclab.records import SessionPlan
from civiclab.run.executors import make_executor
from civiclab.run.runner import run_experiment
from civiclab.run.sessions import build_pilot, safe_session
from civiclab.spec.experiment import ExecutorSpec

SESSIONS = 400


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[object]:
    """A real local Ray cluster on 127.0.0.1 (2 CPUs, no dashboard, no usage statistics)."""
    import ray

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
        # "local": a cluster of this test's own, never one another worker or `ray start` left to join.
        ray.init(
            address="local",
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            _node_ip_address="127.0.0.1",
        )
        try:
            yield ray
        finally:
            ray.shutdown()


def run_root(spec: Path, uri: str, **overrides: object) -> tuple[str, int]:
    exp = load_experiment(spec, {"population.sessions": SESSIONS, "energy.tracker": "none", **overrides})
    result = run_experiment(exp, tracking_uri=uri, workers=2 if overrides else 1)
    return result.audit_root, result.sessions


@pytest.mark.ray
@pytest.mark.timeout(600)
def test_serial_process_pool_and_ray_runs_have_the_same_audit_root(
    journey_spec: Path, tmp_path: Path, ray_cluster: object
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    serial = run_root(journey_spec, uri)
    pool = run_root(journey_spec, uri, **{"executor.kind": "process", "executor.batch": 16})
    on_ray = run_root(journey_spec, uri, **{"executor.kind": "ray", "executor.batch": 16})
    assert serial[1] == SESSIONS
    assert pool == serial
    assert on_ray == serial


@pytest.mark.timeout(600)
def test_serial_and_process_pool_runs_have_the_same_audit_root_in_either_format(
    journey_spec: Path, tmp_path: Path, audit_format: int
) -> None:
    """Sessions timed differently in each process (their `timings`) still give one root: the chain
    never holds timings."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    serial = run_root(journey_spec, uri)
    pool = run_root(journey_spec, uri, **{"executor.kind": "process", "executor.batch": 16})
    assert serial[1] == SESSIONS
    assert pool == serial


@pytest.mark.timeout(300)
def test_a_pool_draws_plans_only_as_records_come_back(journey_spec: Path) -> None:
    exp = load_experiment(journey_spec, {"population.sessions": 2000})
    drawn: list[int] = []

    def plans() -> Iterator[SessionPlan]:
        for plan in iter_plans(exp.personas, 2000, exp.spec.population.seed):
            drawn.append(plan.index)
            yield plan

    spec = ExecutorSpec(kind="process", workers=2, batch=25)
    pilot = build_pilot(exp)
    import functools

    factory = functools.partial(build_pilot, exp, None)
    with make_executor(spec, pilot=pilot, factory=factory, run_one=safe_session) as executor:
        stream = executor.run(plans())
        first = next(stream)
        # Two batches per worker in flight: 4 × 25 plans drawn when the first record arrives.
        assert len(drawn) <= 4 * 25 + 25
        rest = list(stream)
    ids = [first.session_id, *(r.session_id for r in rest)]
    assert ids == [f"s{i:06d}" for i in range(2000)]
    assert len(drawn) == 2000


def test_the_executor_is_strict_and_not_part_of_the_evidence(journey_spec: Path) -> None:
    from civiclab.errors import SpecError

    plain = load_experiment(journey_spec)
    on_ray = load_experiment(
        journey_spec, {"executor.kind": "ray", "executor.address": "ray://10.1.2.3:10001"}
    )
    assert on_ray.spec.executor.address == "ray://10.1.2.3:10001"
    assert on_ray.digest == plain.digest  # where sessions ran changes no evidence
    with pytest.raises(SpecError, match="executor.address"):
        load_experiment(journey_spec, {"executor.kind": "ray", "executor.address": "http://10.1.2.3"})
    with pytest.raises(SpecError, match="executor.kind"):
        load_experiment(journey_spec, {"executor.kind": "dask"})
    with pytest.raises(SpecError, match="executor.batch"):
        load_experiment(journey_spec, {"executor.batch": 0})
