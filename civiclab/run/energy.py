"""One energy meter per run, on codecarbon's offline tracker, kept in memory (no CSV written)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from civiclab.records import EnergyReading
from civiclab.run.energy_probe import KeptProbe, keep, preload

log = logging.getLogger(__name__)

PER_THREAD_W = 4  # codecarbon's default power per thread when it does not know the CPU model
GENERIC_CPU_W = 85  # codecarbon's constant when it knows neither the model nor the thread count

_warming: threading.Thread | None = None
_warming_lock = threading.Lock()


def _quiet_codecarbon() -> None:
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    os.environ.setdefault("CODECARBON_LOG_LEVEL", "error")


def _load_grid_tables() -> None:
    """Load codecarbon's reference tables (grid mixes, and its CSV tables read with pandas), once a process.

    codecarbon reads them lazily, at the first emissions figure: without this, the meter's `stop()`
    parses them after the last session (≈30 ms of CPU), on the run's critical path.
    """
    from codecarbon.input import DataSource

    DataSource().get_global_energy_mix_data()


def _warm() -> None:
    try:
        _quiet_codecarbon()
        import codecarbon.emissions_tracker  # noqa: F401  # the tracker and its hardware modules

        _load_grid_tables()
    except Exception as exc:  # the meter, when it starts, fails or succeeds on its own
        log.info("codecarbon could not be loaded ahead of the meter: %s: %s", type(exc).__name__, exc)


def warm_up() -> None:
    """Begin loading codecarbon and its tables in the background; returns at once (once a process).

    A run calls it before it opens its store: the import then overlaps the store's writes and the
    provenance probe (time the run spends waiting, not computing) instead of the pilot's setup, and
    the meter's start and stop are left with milliseconds of work. Nothing is measured here: the
    measurement still begins at `EnergyMeter.start()`.
    """
    global _warming
    with _warming_lock:
        if _warming is None:
            _warming = threading.Thread(target=_warm, name="civiclab-energy-warm-up", daemon=True)
            _warming.start()


def _cpu_probe(tracker: Any) -> tuple[str, float | None, bool, int]:
    """How codecarbon reads the CPU: (mode, TDP in W, whether the TDP is its generic guess, threads).

    The one place that reads codecarbon internals. codecarbon 3 publishes the CPU model, powers and
    energies in `final_emissions_data` but not whether the CPU power came from RAPL counters or from
    its TDP model, and that is the difference between a measured and an estimated energy figure. The
    attributes read here are those of `codecarbon.external.hardware.CPU` (3.x); if they move, the
    reading stays usable and is labelled with mode "unknown" (estimated).
    """
    for hw in getattr(tracker, "_hardware", []):
        if type(hw).__name__ == "CPU":
            return (
                str(getattr(hw, "_mode", "unknown")),
                getattr(hw, "_tdp", None),
                bool(getattr(hw, "_is_generic_tdp", False)),
                int(getattr(hw, "_cpu_count", 0) or os.cpu_count() or 0),
            )
    return "", None, False, 0


def _method_of(
    tracker: Any, cpu_model: str, in_table: Callable[[str], bool] | None = None
) -> tuple[str, str, float | None]:
    """Whether the CPU energy was measured (RAPL) or estimated, and exactly from what.

    `in_table(model)`: whether codecarbon's CPU table knows the model (default: look it up).
    """
    mode, tdp, generic, threads = _cpu_probe(tracker)
    model = cpu_model or "unknown CPU"
    if not mode:
        return "estimated", "codecarbon without a CPU reading: no real measurement", None
    if mode == "intel_rapl":
        return "measured", f"RAPL counters of {model}", tdp
    if mode in ("apple_powermetrics", "intel_power_gadget"):
        return "measured", f"{mode} on {model}", tdp
    source = estimate_label(
        mode=mode,
        model=model,
        tdp=tdp,
        generic=generic,
        threads=threads,
        known_model=(in_table or _in_codecarbon_table)(model),
    )
    return "estimated", source, tdp


def estimate_label(
    *, mode: str, model: str, tdp: float | None, generic: bool, threads: int, known_model: bool
) -> str:
    """What an estimated CPU energy rests on, in words a committee can check.

    codecarbon, without RAPL, takes the TDP of the CPU from its table; for a model it does not know it
    assumes 4 W per thread (or 85 W without psutil). Only the first is a property of the chip, so only it
    is called "TDP of <model>".
    """
    scaled = ", scaled by CPU load" if mode == "cpu_load" else ", held constant"
    if known_model and not generic and tdp:
        return f"estimated: TDP {tdp:g} W of {model} (codecarbon's CPU table){scaled}; RAPL not readable"
    if not generic and tdp and threads and float(tdp) == PER_THREAD_W * threads:
        return (
            f"generic fallback, {PER_THREAD_W} W per thread × {threads} threads = {tdp:g} W{scaled}, "
            f"no real measurement ({model} is not in codecarbon's CPU table; RAPL not readable)"
        )
    return (
        f"generic fallback, {tdp if tdp is not None else GENERIC_CPU_W:g} W assumed{scaled}, "
        f"no real measurement ({model} is not in codecarbon's CPU table; RAPL not readable)"
    )


def _in_codecarbon_table(model: str) -> bool:
    """Whether codecarbon's CPU table knows this model (then its TDP is the chip's, not an assumption)."""
    try:
        from codecarbon.core.cpu import TDP

        lookup = TDP.__new__(TDP)  # without __init__, which probes the hardware and logs warnings again
        return lookup._get_cpu_power_from_registry(model) is not None
    except Exception as exc:
        logging.getLogger(__name__).info("codecarbon's CPU table could not be read: %s", exc)
        return False


class EnergyMeter:
    """Measures the energy of a whole run; start it once, stop it once.

    Starting codecarbon probes the hardware (≈1.6 s) the first time on a machine; later runs reuse
    that probe's plan from the lab folder (`energy_probe`) and start in milliseconds. `start` does it
    in a thread while the pilot sets up; `wait_started` is called before the first session so that
    every session is measured. `warm_up()`, called earlier, takes codecarbon's import off that path.
    """

    def __init__(self, country: str = "FRA", enabled: bool = True) -> None:
        self.country = country
        self.enabled = enabled
        self._tracker: Any = None
        self._thread: threading.Thread | None = None
        self._error: str | None = None
        self._started = 0.0
        self._kept: KeptProbe | None = None
        self._measuring = threading.Event()  # set once the tracker measures (or could not start)

    def _start(self) -> None:
        try:
            self._begin()
        finally:
            self._measuring.set()
        if self._tracker is not None:
            try:  # while the sessions run, so that `stop()` finds the tables loaded
                _load_grid_tables()
            except Exception as exc:  # codecarbon loads them at stop then, and fails there if it must
                log.info("codecarbon's tables not loaded ahead: %s: %s", type(exc).__name__, exc)

    def _begin(self) -> None:
        try:
            _quiet_codecarbon()
            from codecarbon import OfflineEmissionsTracker

            tracker = OfflineEmissionsTracker(
                country_iso_code=self.country,
                output_methods=[],  # in memory only: no emissions.csv, no API, no logger
                log_level="error",
                project_name="civiclab",
                measure_power_secs=5,
                tracking_mode="machine",
            )
            kept = preload(tracker)  # this machine's hardware as a previous run found it
            tracker.start()
            self._tracker = tracker
            self._measuring.set()  # the sessions may begin; what follows is bookkeeping
            if kept is None:
                model = str(tracker._conf.get("cpu_model") or "") or "unknown CPU"
                kept = keep(tracker, model, _in_codecarbon_table(model))
            self._kept = kept
        except Exception as exc:  # energy evidence is missing, the run goes on
            self._error = f"{type(exc).__name__}: {exc}"
            log.warning("energy tracker did not start: %s", self._error)

    def __enter__(self) -> EnergyMeter:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        """Leaving without `stop()` (an error, an interrupt) aborts the measurement."""
        self.abort()

    def start(self) -> None:
        self._started = time.perf_counter()
        if not self.enabled:
            return
        self._thread = threading.Thread(target=self._start, name="civiclab-energy", daemon=True)
        self._thread.start()

    def wait_started(self) -> None:
        """Block until the tracker measures, so that the sessions are inside the measurement."""
        if self._thread is not None:
            self._measuring.wait()

    def stop(self) -> EnergyReading:
        """Stop the tracker and return what it measured (method `unavailable` if it could not run)."""
        duration = time.perf_counter() - self._started
        if self._thread is not None:
            self._thread.join()
        if not self.enabled or self._tracker is None:
            why = (
                "energy tracking disabled in the spec"
                if not self.enabled
                else f"tracker failed: {self._error}"
            )
            return EnergyReading(
                kwh=0.0,
                kg_co2e=0.0,
                duration_s=duration,
                method="unavailable",
                source=why,
                country=self.country,
                tracker="none",
            )
        tracker, self._tracker = self._tracker, None
        kg = float(tracker.stop() or 0.0)
        data = tracker.final_emissions_data
        method, source, _ = _method_of(tracker, str(getattr(data, "cpu_model", "") or ""), self._in_table)
        return EnergyReading(
            kwh=float(getattr(data, "energy_consumed", 0.0) or 0.0),
            kg_co2e=kg,
            duration_s=float(getattr(data, "duration", duration) or duration),
            cpu_power_w=float(getattr(data, "cpu_power", 0.0) or 0.0),
            method=method,  # type: ignore[arg-type]
            source=source,
            country=self.country,
            tracker="codecarbon",
        )

    def _in_table(self, model: str) -> bool:
        """Whether codecarbon's CPU table knows `model`, as the kept probe says (else looked up, ≈0.1 s)."""
        kept = self._kept
        if kept is not None and kept.cpu_model == model:
            return kept.cpu_in_table
        return _in_codecarbon_table(model)

    def abort(self) -> None:
        """Stop measuring without a reading (the run failed or was interrupted); safe to call twice.

        Waits for a tracker still starting, so that no measuring thread outlives the run.
        """
        if self._thread is not None:
            self._thread.join()
        tracker, self._tracker = self._tracker, None
        if tracker is None:
            return
        self._error = "measurement aborted before the run finished"
        try:
            tracker.stop()
        except Exception:
            log.warning("energy tracker did not stop cleanly", exc_info=True)
