"""One real codecarbon meter per run: kWh measured in memory, method recorded, no CSV left behind."""

from __future__ import annotations

import re
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


def _assumed_cpu_watts(source: str) -> float | None:
    """The CPU power an estimate rests on, as its label states it (None when the label states none)."""
    found = re.search(r"TDP ([\d.]+) W of|= ([\d.]+) W|([\d.]+) W assumed", source)
    return float(next(g for g in found.groups() if g)) if found else None


def test_this_machine_says_what_codecarbon_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On every machine: a positive energy whose carbon, duration and power agree, and an honest method:
    RAPL counters when readable, else codecarbon's CPU-model estimate or fallback, named as such."""
    from codecarbon.input import DataSource

    monkeypatch.chdir(tmp_path)
    meter = EnergyMeter("FRA")
    before = time.perf_counter()
    meter.start()
    meter.wait_started()
    deadline = time.perf_counter() + 1.0
    while time.perf_counter() < deadline:  # some CPU work to measure
        sum(i * i for i in range(10_000))
    reading = meter.stop()
    wall_s = time.perf_counter() - before

    assert reading.method in ("measured", "estimated"), reading.source  # "unavailable": the tracker failed
    assert reading.kwh > 0 and reading.cpu_power_w is not None and reading.cpu_power_w > 0
    grams_per_kwh = DataSource().get_global_energy_mix_data()["FRA"]["carbon_intensity"]
    assert reading.kg_co2e == pytest.approx(reading.kwh * grams_per_kwh / 1000, rel=1e-6)
    assert 1.0 <= reading.duration_s <= wall_s
    # Energy over the duration is a machine's average power: from 1 W to 2 kW, so never a Wh or a joule
    # taken for a kWh.
    average_w = reading.kwh * 3.6e6 / reading.duration_s
    assert 1 <= average_w <= 2000, average_w

    rapl = Path("/sys/class/powercap/intel-rapl").exists()
    if reading.method == "measured":  # RAPL on Linux (Apple's and Intel's power tools elsewhere)
        assert reading.source.startswith("RAPL counters of ") == rapl, reading.source
        return
    assert "RAPL not readable" in reading.source or "no real measurement" in reading.source
    assumed = _assumed_cpu_watts(reading.source)
    if "fallback" in reading.source:
        # codecarbon does not know this CPU: the watts are its assumption, never called the chip's TDP.
        assert "no real measurement" in reading.source and " TDP " not in reading.source
    else:
        assert "codecarbon's CPU table" in reading.source and assumed is not None
    if assumed is not None:
        # The reported CPU power is the assumed one, scaled down by the CPU load or held at it.
        assert reading.cpu_power_w <= assumed * (1 + 1e-9), (reading.cpu_power_w, reading.source)
        if "held constant" in reading.source:
            assert reading.cpu_power_w == pytest.approx(assumed)


_METER_IN_A_FRESH_PROCESS = """
import json
import codecarbon.core.cpu
probes = []
probe = codecarbon.core.cpu.detect_cpu_model  # what codecarbon's TDP probe calls (py-cpuinfo)
def counted():
    probes.append(1)
    return probe()
codecarbon.core.cpu.detect_cpu_model = counted
from civiclab.run.energy import EnergyMeter
meter = EnergyMeter("FRA")
meter.start()
meter.wait_started()
reading = meter.stop()
print(json.dumps({"probes": len(probes), "label": [reading.method, reading.source, reading.tracker]}))
"""


def _meter_in_fresh_process(home: Path) -> tuple[int, list[str]]:
    """(how many times codecarbon probed the CPU, the reading's method, source and tracker)."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "CIVICLAB_HOME": str(home), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", _METER_IN_A_FRESH_PROCESS], env=env, capture_output=True, text=True, check=True
    )
    got = json.loads(done.stdout.strip().splitlines()[-1])
    return int(got["probes"]), list(got["label"])


def test_the_next_run_on_this_machine_reuses_the_hardware_probe_and_says_the_same(tmp_path: Path) -> None:
    """The first run stores codecarbon's hardware plan in the lab folder; the next one starts from it
    without probing the CPU and labels its reading exactly as the probing run did."""
    from civiclab.run.energy_probe import probe_file

    probes, first = _meter_in_fresh_process(tmp_path)
    assert probes == 1 and first[2] == "codecarbon" and first[0] in ("measured", "estimated"), first
    kept = list((tmp_path / "cache" / "energy").glob("codecarbon-*.json"))
    assert [k.name for k in kept] == [probe_file().name]
    assert _meter_in_fresh_process(tmp_path) == (0, first)

    # A plan found on another machine (another key) is not used: the meter probes again, says the same.
    kept[0].write_text(kept[0].read_text().replace('"key": "', '"key": "0'))
    assert _meter_in_fresh_process(tmp_path) == (1, first)
    assert _meter_in_fresh_process(tmp_path) == (0, first)


def _busy(seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        sum(i * i for i in range(10_000))


def test_warmed_up_meter_reads_what_a_plain_codecarbon_tracker_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The meter, started after `warm_up()`, and codecarbon's own tracker with the same settings, on the
    same machine over the same work: the same method, source and CPU model, and the same average power
    within codecarbon's sampling precision (both integrate the machine's load over 1 s samples; their
    windows differ by the meter's start and stop, milliseconds)."""
    from codecarbon import OfflineEmissionsTracker

    from civiclab.run.energy import _method_of, warm_up

    monkeypatch.chdir(tmp_path)
    warm_up()
    reference = OfflineEmissionsTracker(
        country_iso_code="FRA",
        output_methods=[],
        log_level="error",
        measure_power_secs=5,
        tracking_mode="machine",
    )
    reference.start()
    meter = EnergyMeter("FRA")
    meter.start()
    meter.wait_started()
    _busy(3.0)
    reading = meter.stop()
    reference.stop()
    expected = reference.final_emissions_data
    method, source, _ = _method_of(reference, str(expected.cpu_model))

    assert (reading.method, reading.source) == (method, source)
    assert str(expected.cpu_model) in reading.source
    own_w = reading.kwh * 3.6e6 / reading.duration_s
    reference_w = expected.energy_consumed * 3.6e6 / expected.duration
    assert own_w == pytest.approx(reference_w, rel=0.05), (own_w, reference_w)  # seen: within 1 %
    assert reading.kg_co2e / reading.kwh == pytest.approx(expected.emissions / expected.energy_consumed)


def test_warm_up_measures_nothing_and_leaves_no_thread() -> None:
    """Loading codecarbon ahead starts no tracker: once it is done, no thread of it is left running."""
    import threading

    from civiclab.run import energy

    before = {t.ident for t in threading.enumerate()}
    energy.warm_up()
    energy.warm_up()  # once a process
    warming = energy._warming
    assert warming is not None
    warming.join(timeout=60)
    time.sleep(1.5)  # a measuring tracker would have sampled (each second) by now
    left = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not warming.is_alive() and left == [], left
