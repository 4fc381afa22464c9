"""Attestation: verification accuracy, on-chain footprint, latency, cost and network energy per attestation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from civiclab import (
    Estimate,
    Metric,
    RunData,
    SessionRecord,
    evaluator,
    mean,
    metric_from,
    per_segment,
    quantile,
    rate,
)

DIM = "attestation"
# Measured on civiclab's registry only: a lab's HTTP service has no anchoring civiclab can see.
CHAIN_ONLY = frozenset(
    f"{DIM}.{name}" for name in ("gas_per_attestation", "transactions_per_attestation",
                                 "onchain_bytes_per_attestation", "gas_per_revocation", "blocks_to_verifiable",
                                 "cost_eur_per_attestation")
) | {"energy.network_wh_per_attestation"}  # fmt: skip
WEI_PER_GWEI = 1e9
WEI_PER_ETH = 1e18


class AttestationEvalParams(BaseModel):
    """Prices and the network energy estimate: values with their sources, written in the experiment."""

    model_config = ConfigDict(extra="forbid")

    gas_price_gwei: float = Field(gt=0, description="gas price assumed for the cost")
    eur_per_eth: float = Field(gt=0, description="exchange rate assumed for the cost")
    price_source: str = Field(min_length=3, description="where the gas price and rate come from, and when")
    network_kwh_per_tx: float = Field(ge=0, description="network energy attributed to one transaction")
    network_energy_source: str = Field(min_length=10, description="where that estimate comes from")
    resamples: int = Field(default=1000, ge=100, le=20_000)


class GasFacts(BaseModel):
    """What this evaluator reads of a pilot's facts: the gas of setting the registry up, and whether the
    documents verified were generated (then the accuracy figures say how the mechanism behaves on them,
    not how it fares with citizens' documents and real fraud)."""

    setup_gas: int | None = None
    synthetic: str | None = None


Verdict = Literal["accept", "reject"]


class Attempt(BaseModel):
    """What this evaluator reads of every attestation session's `data`: the case and the verifier's answer."""

    scenario: str
    expected: Verdict
    issued: bool = False
    verdict: Verdict | None = None
    """None: the session failed before a verifier answered."""
    correct: bool | None = None
    revocation_gas: int | None = None
    """Set only for a revoked attestation whose revocation went through."""
    can_present: bool | None = None
    """Whether the persona's device and literacy let them present it (the pilot's people model)."""
    verifier_handling_s: float | None = None
    """Seconds a verifier's hands and eyes spend on the check (modelled); the machine's is in `timings`."""
    time_dependent: bool = False
    """Whether the right answer depends on when the verifier asks (revoked, expired, checked as of a past time)."""


class Anchoring(BaseModel):
    """What it reads of a session whose attestation was issued: its share of the anchoring batch."""

    strategy: str
    gas: float
    transactions: float
    onchain_bytes: float
    blocks_to_verifiable: int
    latency_s: float


def _setup_gas(run: RunData) -> str:
    facts = run.facts_as(GasFacts)
    return "?" if facts is None or facts.setup_gas is None else str(facts.setup_gas)


def _rate(pick: Callable[[SessionRecord], bool], seed: int, b: int) -> Callable[..., Estimate]:
    def compute(records: list[SessionRecord]) -> Estimate:
        return rate([pick(r) for r in records], seed=seed, resamples=b)

    return compute


def _people(
    run: RunData, records: list[SessionRecord], attempts: dict[str, Attempt], seed: int, b: int
) -> list[Metric]:
    """Holders who can present (per segment: who is left behind) and the verifier's time to check."""
    out: list[Metric] = []
    holders = [r for r in records if attempts[r.session_id].can_present is not None]
    if holders:
        out += per_segment(
            run, f"{DIM}.can_present_rate", _rate(lambda r: bool(attempts[r.session_id].can_present), seed, b),
            dimension="human_centered", unit="share", higher_is_better=True, records=holders,
        )  # fmt: skip
    checks = [
        handling + r.timings.get("verify_s", 0.0)
        for r in records
        if (handling := attempts[r.session_id].verifier_handling_s) is not None
    ]
    if checks:
        out.append(metric_from(f"{DIM}.verifier_check_s_median", quantile(checks, 0.5, seed=seed,
                               resamples=min(b, 400)), dimension="human_centered", unit="s",
                               higher_is_better=False))  # fmt: skip
        out[-1].note = "modelled handling (scan, fields compared by eye) plus the measured machine time"
    for m in out:
        m.synthetic = "MODELLED: the people model of the experiment (devices, literacy, handling times)"
    return out


def _accounting(name: str, value: float | None, n: int, unit: str, note: str, dim: str = DIM) -> Metric:
    # Sums over the run's transactions divided by attestations: exact accounting, not a sample, so no interval.
    return Metric(name=name, value=value, unit=unit, dimension=dim, higher_is_better=False, n=n, note=note,
                  error=None if value is not None else "no attestation was issued")  # fmt: skip


@evaluator(
    "attestation",
    dimension=DIM,
    params=AttestationEvalParams,
    metrics={
        "attestation.false_acceptance_rate": "forged, altered, revoked or unknown-issuer attestations accepted",
        "attestation.false_acceptances": "how many such attestations were accepted (must be 0)",
        "attestation.false_rejection_rate": "genuine attestations (even re-typed) rejected",
        "attestation.verification_accuracy": "verdicts matching what a correct verifier must answer",
        "attestation.status_at_time_accuracy": "right verdicts where the answer depends on the time asked about",
        "attestation.can_present_rate": "people whose device and literacy let them present the attestation",
        "attestation.verifier_check_s_median": "seconds a verifier spends on one check (modelled + measured)",
        "attestation.issuance_failure_rate": "sessions whose attestation could not be anchored or checked",
        "attestation.gas_per_attestation": "anchoring gas divided by attestations issued",
        "attestation.transactions_per_attestation": "anchoring transactions divided by attestations issued",
        "attestation.onchain_bytes_per_attestation": "calldata + event logs + storage written, per attestation",
        "attestation.gas_per_revocation": "gas of one revocation",
        "attestation.blocks_to_verifiable": "blocks from submission to the block anchoring the root",
        "attestation.latency_s_median": "issue to verifiable on the session clock: batch wait + blocks",
        "attestation.latency_s_p95": "95th percentile of the same",
        "attestation.cost_eur_per_attestation": "gas per attestation at the spec's gas price and rate",
        "attestation.verify_ms_median": "wall-clock time of one verification (median)",
        "attestation.verify_ms_p95": "95th percentile of the same",
        "attestation.issue_ms_median": "wall-clock time of one issuance call to the lab's service (median)",
        "attestation.issue_ms_p95": "95th percentile of the same",
        "energy.network_wh_per_attestation": "network energy estimate: transactions x the spec's kWh per tx",
    },
)
def attestation(run: RunData, params: AttestationEvalParams) -> list[Metric]:
    """Verification accuracy per segment, and gas, bytes, latency, cost and energy per attestation."""
    seed, b = run.seed, params.resamples
    records = list(run.records)
    # Each session's data is read once; the per-segment passes look the typed views up by session.
    attempts = {r.session_id: r.data_as(Attempt) for r in records}
    issued = [r for r in records if attempts[r.session_id].issued]
    # Sessions of a lab's HTTP service have no anchoring of civiclab's: the chain's metrics skip them.
    anchoring = {r.session_id: r.data_as(Anchoring) for r in issued if r.data.get("strategy") != "http"}
    verified = [r for r in records if attempts[r.session_id].verdict is not None]
    out: list[Metric] = []

    should_reject = [r for r in verified if attempts[r.session_id].expected == "reject"]
    should_accept = [r for r in verified if attempts[r.session_id].expected == "accept"]
    accepted = [attempts[r.session_id] for r in should_reject if attempts[r.session_id].verdict == "accept"]
    out += per_segment(
        run, f"{DIM}.false_acceptance_rate", _rate(lambda r: attempts[r.session_id].verdict == "accept", seed, b),
        dimension=DIM, unit="share", higher_is_better=False, records=should_reject,
    )  # fmt: skip
    out.append(
        Metric(name=f"{DIM}.false_acceptances", value=float(len(accepted)), unit="attestations",
               dimension=DIM, higher_is_better=False, n=len(should_reject),
               note=", ".join(sorted({a.scenario for a in accepted})) or None)
    )  # fmt: skip
    out += per_segment(
        run, f"{DIM}.false_rejection_rate", _rate(lambda r: attempts[r.session_id].verdict == "reject", seed, b),
        dimension=DIM, unit="share", higher_is_better=False, records=should_accept,
    )  # fmt: skip
    out += per_segment(
        run, f"{DIM}.verification_accuracy", _rate(lambda r: bool(attempts[r.session_id].correct), seed, b),
        dimension=DIM, unit="share", higher_is_better=True, records=verified,
    )  # fmt: skip
    timed = [r for r in verified if attempts[r.session_id].time_dependent]
    if timed:
        out += per_segment(
            run, f"{DIM}.status_at_time_accuracy", _rate(lambda r: bool(attempts[r.session_id].correct), seed, b),
            dimension=DIM, unit="share", higher_is_better=True, records=timed,
        )  # fmt: skip
    facts = run.facts_as(GasFacts)
    if facts is not None and facts.synthetic:
        for m in out:  # accuracy against generated documents and forgeries
            m.synthetic = facts.synthetic
    out += _people(run, records, attempts, seed, b)  # after: these are modelled, not generated documents
    out.append(
        metric_from(f"{DIM}.issuance_failure_rate", rate([r.outcome == "failed" for r in records],
                    seed=seed, resamples=b), dimension=DIM, unit="share", higher_is_better=False)
    )  # fmt: skip

    anchored = list(anchoring.values())
    n = len(anchored)
    strategy = anchored[0].strategy if anchored else "?"
    gas = sum(a.gas for a in anchored) / n if n else None
    txs = sum(a.transactions for a in anchored) / n if n else None
    note = f"strategy {strategy}; setup (deploy, authorise) not included: {_setup_gas(run)} gas"
    out.append(_accounting(f"{DIM}.gas_per_attestation", gas, n, "gas", note))
    out.append(_accounting(f"{DIM}.transactions_per_attestation", txs, n, "tx", note))
    out.append(
        _accounting(f"{DIM}.onchain_bytes_per_attestation",
                    sum(a.onchain_bytes for a in anchored) / n if n else None, n, "bytes",
                    "calldata + event topics and data + storage slots written (4 x 32 bytes per root)")
    )  # fmt: skip
    revocations = [a.revocation_gas for a in attempts.values() if a.revocation_gas is not None]
    out.append(
        metric_from(f"{DIM}.gas_per_revocation", mean(revocations, seed=seed, resamples=b), dimension=DIM,
                    unit="gas", higher_is_better=False)
    )  # fmt: skip
    out.append(
        metric_from(f"{DIM}.blocks_to_verifiable",
                    mean([a.blocks_to_verifiable for a in anchored], seed=seed, resamples=b),
                    dimension=DIM, unit="blocks", higher_is_better=False)
    )  # fmt: skip

    def latency(q: float) -> Callable[[list[SessionRecord]], Estimate]:
        def compute(records: list[SessionRecord]) -> Estimate:
            return quantile([anchoring[r.session_id].latency_s for r in records], q, seed=seed,
                            resamples=min(b, 400))  # fmt: skip

        return compute

    anchored_records = [r for r in issued if r.session_id in anchoring]
    if anchored_records:
        out += per_segment(run, f"{DIM}.latency_s_median", latency(0.5), dimension=DIM, unit="s",
                           higher_is_better=False, records=anchored_records)  # fmt: skip
        out.append(metric_from(f"{DIM}.latency_s_p95", latency(0.95)(anchored_records), dimension=DIM, unit="s",
                               higher_is_better=False))  # fmt: skip

    cost = (
        gas * params.gas_price_gwei * WEI_PER_GWEI / WEI_PER_ETH * params.eur_per_eth
        if gas is not None
        else None
    )
    out.append(
        _accounting(f"{DIM}.cost_eur_per_attestation", cost, n, "EUR",
                    f"{params.gas_price_gwei:g} gwei/gas, {params.eur_per_eth:g} EUR/ETH ({params.price_source})")
    )  # fmt: skip
    out.append(
        metric_from(f"{DIM}.verify_ms_median",
                    quantile([r.timings["verify_s"] * 1000 for r in verified if "verify_s" in r.timings],
                             0.5, seed=seed, resamples=min(b, 400)),
                    dimension=DIM, unit="ms", higher_is_better=False)
    )  # fmt: skip
    out[-1].note = "wall clock of the verifier's whole check"
    for timing, name in (("verify_s", "verify"), ("issue_s", "issue")):
        ms = [r.timings[timing] * 1000 for r in records if timing in r.timings]
        for q, label in ((0.5, "median"), (0.95, "p95")):
            if ms and (timing, label) != ("verify_s", "median"):
                out.append(metric_from(f"{DIM}.{name}_ms_{label}", quantile(ms, q, seed=seed, resamples=min(b, 400)),
                                       dimension=DIM, unit="ms", higher_is_better=False))  # fmt: skip
    out.append(
        _accounting("energy.network_wh_per_attestation",
                    txs * params.network_kwh_per_tx * 1000 if txs is not None else None, n, "Wh",
                    f"{params.network_kwh_per_tx:g} kWh per transaction: {params.network_energy_source}",
                    dim="energy")
    )  # fmt: skip
    if issued and not anchoring:
        out = [m for m in out if m.name not in CHAIN_ONLY]
    return out
