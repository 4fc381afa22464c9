"""What codecarbon found about this machine's hardware, kept in the lab folder between runs.

Starting codecarbon probes the hardware: py-cpuinfo in a subprocess, the CPU power table, RAPL and
GPU detection, ≈1.6 s that the first session waits for. codecarbon keeps the outcome for the rest of
its process (`codecarbon.core.hardware_cache`); this module keeps the same plan on disk, so that the
next run on the same machine starts measuring in milliseconds with exactly the tracking method,
CPU model and power the probe gave (the measurement itself, every `measure_power_secs`, is unchanged).
It reads codecarbon 3's `hardware_cache` internals; if they move, every run simply probes again.

The plan is reused only on the machine it was found on: the file name carries the codecarbon
version, and its key the host name, thread count, memory size and the CPU model lines of
/proc/cpuinfo. Anything unreadable or different means a new probe, never an error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import platform
from pathlib import Path
from typing import Any

from civiclab.home import lab_home

log = logging.getLogger(__name__)

FORMAT = 1


@dataclasses.dataclass(frozen=True)
class KeptProbe:
    """What the probe found besides codecarbon's plan: whether codecarbon's CPU table knows the model
    (the reading's label depends on it; looking it up is a fuzzy search of the table, ≈0.1 s)."""

    cpu_model: str
    cpu_in_table: bool


def _machine_key(tracker: Any) -> str:
    """Names this machine and this tracker's settings (what codecarbon's own cache key holds)."""
    import psutil
    from codecarbon.core.hardware_cache import make_key

    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        cpuinfo = ""
    models = sorted({line for line in cpuinfo.splitlines() if line.startswith(("model name", "vendor_id"))})
    parts = [
        f"format={FORMAT}",
        f"host={platform.node()}",
        f"machine={platform.machine()}",
        f"threads={os.cpu_count()}",
        f"memory={psutil.virtual_memory().total}",
        *models,
        repr(make_key(tracker)),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def probe_file() -> Path:
    """`$CIVICLAB_HOME/cache/energy/codecarbon-<version>.json`."""
    import codecarbon

    return lab_home() / "cache" / "energy" / f"codecarbon-{codecarbon.__version__}.json"


def preload(tracker: Any) -> KeptProbe | None:
    """Hand codecarbon the plan found on this machine before, if any (None: there is none)."""
    try:
        from codecarbon.core import hardware_cache  # codecarbon 3's per-process cache of the probe

        stored = json.loads(probe_file().read_text())
        if stored.get("key") != _machine_key(tracker):
            return None
        plan = hardware_cache._HardwarePlan(**stored["plan"])
        kept = KeptProbe(str(stored["cpu_model"]), bool(stored["cpu_in_table"]))
        with hardware_cache._cache_lock:
            hardware_cache._plans.setdefault(hardware_cache.make_key(tracker), plan)
        return kept
    except FileNotFoundError:
        return None
    except Exception as exc:  # a stale or foreign file costs one probe, nothing else
        log.info("stored codecarbon hardware plan not used (%s: %s)", type(exc).__name__, exc)
        return None


def keep(tracker: Any, cpu_model: str, cpu_in_table: bool) -> KeptProbe:
    """Store the plan codecarbon found for this tracker (after `tracker.start()`); best effort."""
    kept = KeptProbe(cpu_model, cpu_in_table)
    try:
        from codecarbon.core import hardware_cache

        with hardware_cache._cache_lock:
            plan = hardware_cache._plans.get(hardware_cache.make_key(tracker))
        if plan is None:
            return kept
        path = probe_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        body = {"key": _machine_key(tracker), "plan": dataclasses.asdict(plan), **dataclasses.asdict(kept)}
        staged.write_text(json.dumps(body, indent=1, sort_keys=True))
        os.replace(staged, path)
    except Exception as exc:
        log.info(
            "codecarbon hardware plan not stored (%s: %s); the next run probes again", type(exc).__name__, exc
        )
    return kept
