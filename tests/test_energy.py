"""One real codecarbon meter per run: kWh measured in memory, method recorded, no CSV left behind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from civiclab.run.energy import EnergyMeter


def test_meter_measures_in_memory_and_says_how(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    meter = EnergyMeter("FRA")
    meter.start()
    meter.wait_started()
    deadline = time.perf_counter() + 1.0
    while time.perf_counter() < deadline:  # some CPU work to measure
        sum(i * i for i in range(10_000))
    reading = meter.stop()
    assert reading.tracker == "codecarbon"
    assert reading.kwh > 0 and reading.kg_co2e > 0
    assert reading.duration_s >= 0.9
    assert reading.method in ("measured", "estimated")
    assert ("RAPL counters of" in reading.source) == (reading.method == "measured")
    assert reading.country == "FRA"
    assert list(tmp_path.iterdir()) == []  # no emissions.csv litter


def test_disabled_meter_is_unavailable_not_zero() -> None:
    meter = EnergyMeter(enabled=False)
    meter.start()
    reading = meter.stop()
    assert reading.method == "unavailable"
    assert "disabled" in reading.source


def test_aborted_meter_stops_its_tracker_and_leaves_no_measuring_thread() -> None:
    import threading

    before = {t.ident for t in threading.enumerate()}
    with pytest.raises(RuntimeError, match="pilot crashed"), EnergyMeter("FRA") as meter:
        raise RuntimeError("pilot crashed")  # leaving the block without stop() aborts
    time.sleep(0.2)
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert left == [], [t.name for t in left]
    meter.abort()  # twice is harmless
    reading = meter.stop()  # and a stop after an abort reports no energy instead of a made-up one
    assert reading.method == "unavailable" and reading.kwh == 0.0
    assert "aborted" in reading.source


def test_meter_source_names_the_cpu_codecarbon_reports() -> None:
    meter = EnergyMeter("FRA")
    meter.start()
    reading = meter.stop()
    assert reading.tracker == "codecarbon"
    assert "unknown CPU" not in reading.source


def test_fallback_is_labelled_as_an_assumption_not_a_chip_tdp() -> None:
    from civiclab.run.energy import estimate_label

    fallback = estimate_label(
        mode="cpu_load", model="AMD EPYC 7B13", tdp=8, generic=False, threads=2, known_model=False
    )
    assert fallback.startswith("generic fallback, 4 W per thread × 2 threads = 8 W")
    assert "no real measurement" in fallback and "TDP 8 W of" not in fallback
    known = estimate_label(
        mode="cpu_load", model="AMD EPYC 7B13", tdp=240, generic=False, threads=2, known_model=True
    )
    assert "TDP 240 W of AMD EPYC 7B13" in known and "fallback" not in known
    unknown = estimate_label(mode="constant", model="?", tdp=85, generic=True, threads=2, known_model=False)
    assert unknown.startswith("generic fallback, 85 W assumed, held constant")


def test_this_machine_says_what_codecarbon_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On this machine: RAPL if readable, else codecarbon's fallback named as such."""
    monkeypatch.chdir(tmp_path)
    meter = EnergyMeter("FRA")
    meter.start()
    meter.wait_started()
    reading = meter.stop()
    rapl = Path("/sys/class/powercap/intel-rapl").exists()
    if reading.method == "measured":
        assert rapl and "RAPL" in reading.source
    else:
        assert "no real measurement" in reading.source or "codecarbon's CPU table)" in reading.source
        if "fallback" in reading.source:
            assert " TDP " not in reading.source  # an assumption is never called the chip's TDP
