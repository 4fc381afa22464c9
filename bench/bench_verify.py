"""`civiclab verify` from the shell, as a committee member waits for it: this tree against a baseline.

One 10,000-session journey run (signed, trust file given), then `civiclab verify RUN --trust FILE`
from a fresh interpreter, alternately with this tree's civiclab and with a baseline revision's
(`git archive` of `--baseline`, default the commit before verify stopped importing MLflow), so that
both face the same load on a shared machine. Both must find the run intact (exit 0). The run is made
twice, its audit log in format 1 (a line per event, which the baseline reads) and in format 2 (a line
per session, which only this tree reads): this tree verifies both, the baseline format 1. Prints each
attempt, the median and best of each side and the ratio, the start-up imports of this tree
(`-X importtime`), and the load average. Target: at most 3 s.

Usage: python bench/bench_verify.py [--sessions 10000] [--repeat 5] [--baseline REF]
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

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "experiments" / "journey.yaml"
PACKAGES = ("civiclab", "pilots", "evaluators")
BASELINE = "483bb46"  # main before this change: verify opened MLflow and parsed every audit line twice


def export_baseline(ref: str, into: Path) -> Path:
    """The baseline's source tree (only the packages verify runs), from git."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, *PACKAGES],
        capture_output=True,
        check=True,
    ).stdout
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    # Both sides start from bytecode (this tree's is written by `make`), so that neither pays compiling.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(into)], check=True)
    return into


def verify_cli(source: Path, uri: str, run_id: str, trust: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one `civiclab verify` from `source`; CPU time moves
    less than wall time when others share the cores."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "civiclab.cli", "--tracking-uri", uri, "verify", run_id, "--trust", str(trust)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(source)},
        cwd=source.parent,  # `python -m` puts the working folder first on the path: not this tree
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, f"{source}: exit {done.returncode}: {done.stderr}"
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def startup_imports(uri: str, run_id: str, trust: Path) -> list[tuple[int, str]]:
    """The slowest top-level imports of this tree's `civiclab verify` (cumulative µs, module)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "civiclab.cli", "--tracking-uri", uri, "verify", run_id,
         "--trust", str(trust)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    top = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("  "):
            top.append((int(parts[1]), parts[2].strip()))
    return sorted(top, reverse=True)[:6]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CIVICLAB_HOME"] = f"{tmp}/home"
        from civiclab.evidence.signing.keys import export_public, init_key
        from civiclab.plugins.experiment import load_experiment
        from civiclab.run.runner import run_experiment

        init_key("lab-bench")
        trust = Path(tmp) / "trust.yaml"
        key = export_public("lab-bench", "pem").replace("\n", "\n      ")
        trust.write_text(f"version: 1\nlabs:\n  - name: Bench lab\n    public_key: |\n      {key}\n")
        uri = f"sqlite:///{tmp}/mlflow.db"
        from civiclab.evidence import audit

        exp = load_experiment(SPEC, {"population.sessions": args.sessions, "energy.tracker": "none"})
        runs = {}
        for audit_format in (audit.PER_EVENT, audit.PER_SESSION):
            audit.WRITTEN_FORMAT = audit_format
            runs[audit_format] = run_experiment(exp, tracking_uri=uri).run_id
        run_id = runs[audit.PER_SESSION]
        baseline = export_baseline(args.baseline, Path(tmp) / "baseline")
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", *(str(ROOT / p) for p in PACKAGES)], check=True
        )
        sides: dict[str, list[tuple[float, float]]] = {
            f"baseline {args.baseline}, format 1": [],
            "this tree, format 1": [],
            "this tree, format 2": [],
        }
        sources = ((baseline, runs[1]), (ROOT, runs[1]), (ROOT, runs[2]))
        for attempt in range(args.repeat):
            for walls, (source, run) in zip(sides.values(), sources, strict=True):
                walls.append(verify_cli(source, uri, run, trust))
            print(
                f"attempt {attempt + 1}: "
                + ", ".join(f"{n} {w[-1][0]:.2f} s ({w[-1][1]:.2f} s CPU)" for n, w in sides.items())
            )
        (base_name, base), (_, new_1), (_, new) = sides.items()
        print(
            f"civiclab verify (CLI, {args.sessions:,} sessions, trust file, exit 0), {args.repeat} attempts:"
        )
        for name, runs in sides.items():
            walls, cpus = [w for w, _ in runs], [c for _, c in runs]
            print(
                f"  {name}: wall median {statistics.median(walls):.2f} s, best {min(walls):.2f} s; "
                f"CPU median {statistics.median(cpus):.2f} s"
            )
        for i, what in ((0, "wall"), (1, "CPU")):
            b = [r[i] for r in base]
            for label, side in (("format 1", new_1), ("format 2", new)):
                n = [r[i] for r in side]
                print(
                    f"  {what} ratio this tree ({label}) / {base_name}: "
                    f"{statistics.median(n) / statistics.median(b):.2f} (median), {min(n) / min(b):.2f} (best)"
                )
        best = min(w for w, _ in new)
        print(f"  target <= 3 s: {'met' if best <= 3 else 'missed'} (best wall; the median carries the load)")
        imports = startup_imports(uri, run_id, trust)
        print("  slowest top-level imports: " + ", ".join(f"{m} {us / 1e6:.2f} s" for us, m in imports))
        print(f"  load average: {os.getloadavg()[0]:.1f} (2 cores shared)")


if __name__ == "__main__":
    main()
