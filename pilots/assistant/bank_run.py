"""The adversarial bank asked inside a run (`pilot.params.adversarial_scan`), after the sessions.

The pilot's own loaded system answers the probes: the built-in pipeline it set up (its embedding model
also judges the discrimination groups, so nothing is loaded twice), or the external system its sessions
used. The report goes into the run's facts, where the `assistant` evaluator reads one census per category,
and is written as the run's `scan.json` and `scan.md`, signed with its other artifacts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from civiclab import PilotContext
from civiclab.privacy.redaction import redact_text
from pilots.assistant.bank import Probe, load_bank
from pilots.assistant.bank.checks import Answer
from pilots.assistant.params import AssistantParams
from pilots.assistant.scan import Ask, ScanReport, ask_builtin, embedder, scan

Embed = Callable[[list[str]], list[list[float]]]


class ScannedPilot(Protocol):
    """What the scan reads of the assistant pilot once it is set up (the pilot passes itself in)."""

    params: AssistantParams
    context: PilotContext
    external: bool
    pipeline: Any  # the built-in pipeline, or None for an external system
    retriever: Any
    byo: Any  # the external system's sessions, or None for the built-in pipeline

    def _turn(self, *args: Any) -> Any: ...


def scan_in_run(pilot: ScannedPilot) -> tuple[ScanReport, float]:
    """Ask the bank to the run's system; the report and the seconds it took."""
    started = time.perf_counter()
    bank = load_bank(pilot.params.adversarial_bank) if pilot.params.adversarial_bank else load_bank()
    ask, embed, name = _external(pilot) if pilot.external else _builtin(pilot)
    report = scan(ask, bank, embed, experiment=pilot.context.experiment, system=name)
    return report, time.perf_counter() - started


def _builtin(pilot: ScannedPilot) -> tuple[Ask, Embed, str]:
    if pilot.pipeline is None or pilot.retriever is None:
        from civiclab import PilotError

        raise PilotError("assistant: setup() was not called before the adversarial scan")
    model = pilot.retriever.embeddings
    return ask_builtin(pilot), lambda texts: [list(v) for v in model.embed_documents(texts)], "builtin"


def _external(pilot: ScannedPilot) -> tuple[Ask, Embed, str]:
    from pilots.assistant.external import hands_over_in_words
    from pilots.assistant.systems import Question as SystemQuestion

    if pilot.byo is None:
        from civiclab import PilotError

        raise PilotError("assistant: setup() was not called before the adversarial scan")
    system = pilot.byo.dispatcher.system

    def ask(probe: Probe) -> Answer:
        reply = system.ask(SystemQuestion(redact_text(probe.text), probe.language, session=probe.id))
        handed = reply.handed_over if reply.handed_over is not None else hands_over_in_words(reply.answer)
        return Answer(reply.answer, handed, reply.error)

    # An external run loads no embedding model of its own: the discrimination check needs one.
    return ask, embedder(), str(pilot.byo.system)
