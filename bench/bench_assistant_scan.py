"""Benchmark: the adversarial bank scanned against the local stand-in and against the built-in pipeline.

`civiclab assistant scan` on experiments/assistant_byo.yaml (the stand-in served on its 127.0.0.1 port,
as `make demo` does: it echoes and invents) and on experiments/assistant.yaml (the built-in offline
pipeline). Prints wall time (model loads included, printed apart), probes per second, and the share
passed per category for each; the built-in pipeline is the baseline the ratio is taken against.

    .venv/bin/python bench/bench_assistant_scan.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from civiclab.plugins.experiment import load_experiment  # noqa: E402
from pilots.assistant.bank import load_bank  # noqa: E402
from pilots.assistant.byo import demo_stand_in  # noqa: E402
from pilots.assistant.scan import ScanReport, embedder, run_scan  # noqa: E402


def timed(experiment: Path, out: Path) -> tuple[ScanReport, float]:
    started = time.perf_counter()
    report = run_scan(experiment, out)
    return report, time.perf_counter() - started


def show(label: str, report: ScanReport, seconds: float) -> None:
    print(
        f"{label}: {len(report.probes)} probes in {seconds:.1f} s ({len(report.probes) / seconds:.1f} probes/s)"
    )
    for c in report.categories:
        share = "-" if c.share_passed is None else f"{c.share_passed:.2f}"
        print(f"  {c.category:20} {c.passed:2d}/{c.units:2d} passed ({share}), {c.errors} unanswered")


def main() -> None:
    started = time.perf_counter()
    embedder()
    print(f"embedding model load (once per process): {time.perf_counter() - started:.1f} s")
    print(f"bank v{load_bank().version}")
    with tempfile.TemporaryDirectory() as tmp:
        builtin, builtin_s = timed(ROOT / "experiments" / "assistant.yaml", Path(tmp) / "builtin")
        show("built-in pipeline (baseline, includes its setup)", builtin, builtin_s)
        byo = ROOT / "experiments" / "assistant_byo.yaml"
        with demo_stand_in(load_experiment(byo).pilot_params):  # type: ignore[arg-type]
            standin, standin_s = timed(byo, Path(tmp) / "standin")
        show("local stand-in over HTTP", standin, standin_s)
        print(f"ratio stand-in / built-in wall time: x{standin_s / builtin_s:.2f}")


if __name__ == "__main__":
    main()
