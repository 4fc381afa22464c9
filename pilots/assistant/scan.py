"""`civiclab assistant scan EXPERIMENT`: the adversarial bank alone, against the experiment's system.

Each probe is redacted as a run's questions are, asked once, and judged by its objective check
(`bank/checks.py`); results are counted per category as a census over the bank: every probe (every group,
for discrimination) of that category was asked, so the share is a measurement of the bank, with no
sampling interval. A probe the system failed to answer is counted apart, never as passed.
The report is written as JSON (`scan.json`) and markdown (`scan.md`); answers in it are redacted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from civiclab import EventLog, PilotContext, census, load_experiment
from civiclab.privacy.redaction import redact_text
from pilots.assistant.bank import CATEGORIES, Bank, Probe, load_bank
from pilots.assistant.bank.checks import PROBE_CHECKS, Answer, Outcome, same_substance

Ask = Callable[[Probe], Answer]


class ProbeResult(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    category: str
    language: str
    check: str
    passed: bool | None  # None: the system failed to answer
    why: str
    answer: str  # redacted
    handed_over: bool


class CategoryResult(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: str
    units: int  # probes, or groups of probes for discrimination
    passed: int
    failed: int
    errors: int
    share_passed: float | None
    kind: str  # "census"
    population: str


class ScanReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    experiment: str
    system: str
    bank_version: int
    started: str
    categories: list[CategoryResult]
    probes: list[ProbeResult]

    @property
    def all_passed(self) -> bool:
        return all(p.passed for p in self.probes)


def scan(ask: Ask, bank: Bank, embed: Callable[[list[str]], list[list[float]]], **about: Any) -> ScanReport:
    """Ask every probe, judge each, and count per category."""
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    answers = {p.id: ask(p) for p in bank.probes}
    results: list[ProbeResult] = []
    group_outcomes: dict[str, Outcome | None] = {}
    for group in sorted({p.group for p in bank.probes if p.check == "same" and p.group}):
        members = [p for p in bank.probes if p.group == group]
        got = [answers[p.id] for p in members]
        group_outcomes[group] = (
            None
            if any(a.error for a in got)
            else same_substance(got, min(p.min_similarity for p in members), embed)
        )
    for probe in bank.probes:
        answer = answers[probe.id]
        outcome: Outcome | None
        if answer.error:
            outcome = None
        elif probe.check == "same":
            outcome = group_outcomes[str(probe.group)]
        else:
            outcome = PROBE_CHECKS[probe.check](probe, answer)
        results.append(
            ProbeResult(
                id=probe.id,
                category=probe.category,
                language=probe.language,
                check=probe.check,
                passed=None if outcome is None else outcome.passed,
                why=f"no answer: {answer.error}" if outcome is None else outcome.why,
                answer=redact_text(answer.text)[:500],
                handed_over=answer.handed_over,
            )
        )
    categories = [
        _category(c, results, bank) for c in CATEGORIES if any(p.category == c for p in bank.probes)
    ]
    return ScanReport(
        bank_version=bank.version, started=started, categories=categories, probes=results, **about
    )


def _category(category: str, results: list[ProbeResult], bank: Bank) -> CategoryResult:
    mine = [r for r in results if r.category == category]
    if category == "discrimination":
        # One unit per group: the group passes when every variant got an answer of the same substance.
        groups: dict[str, list[ProbeResult]] = {}
        for r, p in zip(results, bank.probes, strict=True):
            if r.category == category:
                groups.setdefault(str(p.group), []).append(r)
        verdicts = [g[0].passed for g in groups.values()]
        unit = "groups of the same question asked by different people"
    else:
        verdicts = [r.passed for r in mine]
        unit = "probes"
    measured = [v for v in verdicts if v is not None]
    estimate = census(
        measured,
        population=f"the {len(verdicts)} {unit} of bank v{bank.version} in {category}"
        f"{'' if len(measured) == len(verdicts) else f' ({len(verdicts) - len(measured)} unanswered, left out)'}",
    )
    return CategoryResult(
        category=category,
        units=len(verdicts),
        passed=sum(v is True for v in verdicts),
        failed=sum(v is False for v in verdicts),
        errors=sum(v is None for v in verdicts),
        share_passed=estimate.value,
        kind=str(estimate.method),
        population=str(estimate.population),
    )


def as_markdown(report: ScanReport) -> str:
    """The report for a reader: one line per category, then each probe that did not pass."""
    lines = [
        f"# Adversarial scan: {report.experiment}",
        "",
        f"System: {report.system}. Bank version {report.bank_version}, {len(report.probes)} probes, "
        f"started {report.started}. Each share is a census over the bank (every probe asked), not a sample.",
        "",
        "| category | passed | failed | no answer | share passed |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in report.categories:
        share = "–" if c.share_passed is None else f"{c.share_passed:.2f}"
        lines.append(f"| {c.category} | {c.passed} | {c.failed} | {c.errors} | {share} of {c.units} |")
    failed = [p for p in report.probes if not p.passed]
    if failed:
        lines += ["", "## Probes not passed", ""]
        lines += [f"- `{p.id}` ({p.category}): {p.why}. Answer: {p.answer[:160]!r}" for p in failed]
    return "\n".join(lines) + "\n"


def write_report(report: ScanReport, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    as_json, as_md = out_dir / "scan.json", out_dir / "scan.md"
    as_json.write_text(json.dumps(report.model_dump(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    as_md.write_text(as_markdown(report), encoding="utf-8")
    return as_json, as_md


def asker_for(experiment_path: Path) -> tuple[Ask, str, Callable[[], None]]:
    """How to ask the experiment's configured system a probe, its name, and how to close it."""
    from pilots.assistant.byo import describe_system
    from pilots.assistant.external import hands_over_in_words
    from pilots.assistant.systems import BuiltinSystem, build_system
    from pilots.assistant.systems import Question as SystemQuestion

    experiment = load_experiment(experiment_path)
    params: Any = experiment.pilot_params
    name = str(describe_system(params).get("name") or describe_system(params).get("kind") or "builtin")
    if not isinstance(params.system, BuiltinSystem):
        system = build_system(params.system)

        def ask_external(probe: Probe) -> Answer:
            reply = system.ask(SystemQuestion(redact_text(probe.text), probe.language, session=probe.id))
            handed = reply.handed_over if reply.handed_over is not None else hands_over_in_words(reply.answer)
            return Answer(reply.answer, handed, reply.error)

        return ask_external, name, system.close
    pilot = _builtin_pilot(experiment)
    return ask_builtin(pilot), name, pilot.close


def _builtin_pilot(experiment: Any) -> Any:
    spec = experiment.spec
    context = PilotContext(
        experiment=spec.name,
        base_dir=experiment.base_dir,
        seed=spec.population.seed,
        start=spec.population.start,
        personas=experiment.personas,
        k_anonymity=spec.privacy.k_anonymity,
    )
    pilot = experiment.pilot.factory(experiment.pilot_params, context)
    pilot.setup()
    return pilot


def ask_builtin(pilot: Any) -> Ask:
    from civiclab.text import Question

    def ask(probe: Probe) -> Answer:
        question = Question(
            id=probe.id,
            split="eval",
            text=probe.text,
            language=probe.language,
            profile="english" if probe.language == "en" else "standard",
            expected="handover" if probe.category == "handover_required" else "answer",
            reason="answer",
        )
        segment = {"digital_literacy": "high", "language": probe.language}
        log = EventLog(probe.id, pilot.context.start)
        turn, _ = pilot._turn(log, 0, question, segment, probe.language)
        return Answer(str(turn.get("answer", "")), turn.get("decision") == "handover", turn.get("error"))

    return ask


def embedder() -> Callable[[list[str]], list[list[float]]]:
    """The packaged MiniLM model's normalised vectors (the model the pilot retrieves with)."""
    from pilots.assistant.retrieval import load_embeddings

    model = load_embeddings()
    return lambda texts: [list(v) for v in model.embed_documents(texts)]


def run_scan(experiment_path: Path, out_dir: Path, bank_path: Path | None = None) -> ScanReport:
    """Scan the experiment's system with the bank and write the report; returns it."""
    bank = load_bank(bank_path) if bank_path else load_bank()
    ask, name, close = asker_for(experiment_path)
    try:
        report = scan(ask, bank, embedder(), experiment=str(experiment_path), system=name)
    finally:
        close()
    write_report(report, out_dir)
    return report
