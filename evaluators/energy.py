"""Energy: what the run's single codecarbon meter measured, per run and per session."""

from __future__ import annotations

from civiclab import Metric, RunData, evaluator

DIM = "energy"


@evaluator(
    "energy",
    dimension=DIM,
    metrics={
        "energy.kwh": "energy of the whole run (kWh)",
        "energy.wh_per_session": "energy per session (Wh)",
        "energy.gco2e": "emissions of the run at the country's grid intensity (g CO2e)",
        "energy.measured": "1 when read from RAPL counters, 0 when estimated by codecarbon's CPU model",
    },
)
def energy(run: RunData, params: object) -> list[Metric]:
    """kWh, Wh per session and g CO2e of the run, with how they were obtained."""
    reading = run.energy
    if reading is None or reading.method == "unavailable":
        why = reading.source if reading is not None else "no energy reading"
        return [
            Metric(name=f"{DIM}.{m}", value=None, dimension=DIM, error=why)
            for m in ("kwh", "wh_per_session", "gco2e")
        ]
    total = len(run.records)
    n = total if reading.sessions is None else reading.sessions
    note = f"{reading.method}: {reading.source}; {reading.duration_s:.1f} s; country {reading.country}"
    if n != total:
        # A resumed run: the killed process's energy was never recorded, so the run's kWh covers
        # only the sessions run after the resume, and the energy per session is taken over those.
        note += f"; measured over the {n} sessions run after the resume, not the run's {total}"
    return [
        Metric(
            name=f"{DIM}.kwh",
            value=reading.kwh,
            unit="kWh",
            dimension=DIM,
            higher_is_better=False,
            n=n,
            note=note,
        ),
        Metric(
            name=f"{DIM}.wh_per_session",
            value=reading.kwh * 1000 / n if n else None,
            unit="Wh",
            dimension=DIM,
            higher_is_better=False,
            n=n,
            note=note,
        ),
        Metric(
            name=f"{DIM}.gco2e",
            value=reading.kg_co2e * 1000,
            unit="g CO2e",
            dimension=DIM,
            higher_is_better=False,
            n=n,
            note=note,
        ),
        Metric(
            name=f"{DIM}.measured",
            value=1.0 if reading.method == "measured" else 0.0,
            unit="bool",
            dimension=DIM,
            note=note,
        ),
    ]
