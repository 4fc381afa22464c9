"""How long a committee member or lab staff waits for a `civiclab` command that does little: this tree
against a baseline revision, from fresh interpreters, alternately (both face the same load).

Rows: `civiclab --help`, `civiclab validate experiments/journey.yaml`, `civiclab validate
experiments/assistant.yaml`. Each side runs from its own bytecode (compiled first, as `make` does).
Prints wall and CPU medians and best, the ratio this tree / baseline, the target (validate at most
0.3 s) and the slowest top-level imports of this tree's validate (`-X importtime`), with the load.

Usage: python bench/bench_startup.py [--repeat 9] [--baseline REF]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_verify import PACKAGES, ROOT, export_baseline

BASELINE = "e6aaed3"  # main before the start-up work: every command imported every command's module
COMMANDS = {
    "--help": ["--help"],
    "validate journey": ["validate", str(ROOT / "experiments" / "journey.yaml")],
    "validate assistant": ["validate", str(ROOT / "experiments" / "assistant.yaml")],
}


def once(source: Path, args: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "civiclab.cli", *args],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(source)}, cwd=source.parent,
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, f"{source} {args}: exit {done.returncode}: {done.stderr}"
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def slowest_imports(args: list[str]) -> list[tuple[int, str]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "civiclab.cli", *args],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    top = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("  "):
            top.append((int(parts[1]), parts[2].strip()))
    return sorted(top, reverse=True)[:8]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--baseline", default=BASELINE)
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", *(str(ROOT / p) for p in PACKAGES)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CIVICLAB_HOME"] = f"{tmp}/home"
        baseline = export_baseline(args.baseline, Path(tmp) / "baseline")
        for name, command in COMMANDS.items():
            sides: dict[str, list[tuple[float, float]]] = {"baseline": [], "this tree": []}
            for _ in range(args.repeat):
                for runs, source in zip(sides.values(), (baseline, ROOT), strict=True):
                    runs.append(once(source, command))
            (_, base), (_, new) = sides.items()
            bw, nw = statistics.median(w for w, _ in base), statistics.median(w for w, _ in new)
            bc, nc = statistics.median(c for _, c in base), statistics.median(c for _, c in new)
            print(
                f"{name:20s} wall median {nw:.3f} s (best {min(w for w, _ in new):.3f}), CPU {nc:.3f} s; "
                f"baseline {args.baseline} wall {bw:.3f} s, CPU {bc:.3f} s; ratio wall {nw / bw:.2f}, CPU {nc / bc:.2f}"
            )
    validate = COMMANDS["validate journey"]
    print("validate target <= 0.3 s: see the wall median above (the best carries no load)")
    print(
        "slowest top-level imports of validate: "
        + ", ".join(f"{m} {us / 1e3:.0f} ms" for us, m in slowest_imports(validate))
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
