"""Time for a Ray run to be ready to send sessions: starting a local cluster vs joining one started apart.

"Ready" is what a run waits for before its first session: the cluster reached (started, or joined with
civiclab and the pilot's package sent as `py_modules`), two actors created, each with the journey pilot
built from the shipped factory and set up; then the executor is closed. Joining is measured by cluster
address (HOST:PORT) and through Ray Client (ray://), against a head started with `ray start --head`
(tests/ray_head.py), not counted. Baseline: starting a local cluster.

Usage: PYTHONPATH=. python bench/bench_ray_connect.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from civiclab.plugins.experiment import load_experiment  # noqa: E402
from civiclab.run.executors.ray import RayExecutor  # noqa: E402
from civiclab.run.sessions import safe_session  # noqa: E402
from civiclab.run.shipping import PortablePilotFactory  # noqa: E402
from tests.ray_head import ray_head  # noqa: E402


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def ready_s(factory: PortablePilotFactory, address: str | None, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        executor = RayExecutor(
            factory, safe_session, address=address, workers=2, batch=256, modules=["civiclab", "pilots"]
        )
        times.append(time.perf_counter() - t0)
        executor.close()
    return statistics.median(times)


def with_token(token: str, measure: Callable[[], float]) -> float:
    from ray._raylet import AuthenticationTokenLoader, Config

    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
    # Ray caches the token of the last cluster this process used: reload it from the environment.
    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()
    try:
        return measure()
    finally:
        del os.environ["RAY_AUTH_MODE"], os.environ["RAY_AUTH_TOKEN"]
        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    exp = load_experiment(ROOT / "experiments" / "journey.yaml", {"energy.tracker": "none"})
    factory = PortablePilotFactory.of(exp, None)
    print(f"{os.cpu_count()} CPUs; load average {load()}; median of {args.repeat}")
    start = ready_s(factory, None, args.repeat)
    print(f"start a local cluster for the run:      {start:6.2f} s  ratio 1.00  (load {load()})", flush=True)
    with tempfile.TemporaryDirectory() as tmp, ray_head(Path(tmp)) as head:
        by_address = with_token(head.token, lambda: ready_s(factory, head.address, args.repeat))
        print(f"join a running head by address:         {by_address:6.2f} s  ratio {by_address / start:.2f}"
              f"  (load {load()})", flush=True)  # fmt: skip
        by_client = with_token(head.token, lambda: ready_s(factory, head.client_address, args.repeat))
        print(f"join a running head through Ray Client: {by_client:6.2f} s  ratio {by_client / start:.2f}"
              f"  (load {load()})", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
