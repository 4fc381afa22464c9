"""Sessions of an external assistant ("bring your own"): questions out through the dispatcher, in plan
order, replies recorded as turns. The pilot delegates to `ExternalSessions` when `system` is not builtin.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from civiclab import EventLog, HarnessFault, SessionPlan, SessionRecord, SpecError, strip_url_credentials
from civiclab.privacy.redaction import redact_text
from civiclab.text import KnowledgeBase, Question
from pilots.assistant.external import external_turn
from pilots.assistant.params import AssistantParams
from pilots.assistant.session import TURN_SECONDS, assistant_record, harness_step
from pilots.assistant.systems import HttpSystem, OpenAISystem, PythonSystem, build_system
from pilots.assistant.systems import Question as SystemQuestion
from pilots.assistant.systems.dispatch import Dispatcher
from pilots.assistant.warmup import warm_up

logger = logging.getLogger(__name__)


class ExternalSessions:
    """Runs sessions against one external system; built in `setup`, closed in `close`."""

    def __init__(
        self, params: AssistantParams, kb: KnowledgeBase, by_id: dict[str, Question], start: Any
    ) -> None:
        assert isinstance(params.system, OpenAISystem | HttpSystem | PythonSystem)
        self.params = params
        self.kb = kb
        self.by_id = by_id
        self.session_start = start
        system = build_system(params.system)
        # Before any question goes out: the redaction model and the clients' lazy modules, on this thread.
        self.warm_up_seconds = warm_up()
        self.dispatcher = Dispatcher(system, params.system.calls)
        self.system = describe_system(params)["name"]
        self.queued: list[SessionPlan] = []

    def queue(self, plans: list[SessionPlan]) -> None:
        """Remember the run's plans: the first session sends all their questions, in this order."""
        self.queued = list(plans)

    def close(self) -> None:
        self.dispatcher.close()

    def _sent(self, question: Question) -> str:
        return question.text if self.params.send_personal_data else redact_text(question.text, question.names)

    def _ask_key(self, plan: SessionPlan, index: int) -> str:
        return f"{plan.session_id}/{index}"

    def run_session(self, plan: SessionPlan) -> SessionRecord:
        """One session against the external system; its questions were queued in plan order."""
        if self.queued:
            # First session: every planned question goes out now, `concurrency` at a time, in plan order.
            self.dispatcher.submit_many(
                (self._ask_key(p, i), self._system_question(p, i, qid))
                for p in self.queued
                for i, qid in enumerate(p.source.get("questions", []))
            )
            self.queued = []
        log = EventLog(plan.session_id, self.session_start(plan))
        turns: list[dict[str, Any]] = []
        timings: dict[str, float] = {}
        for index, qid in enumerate(plan.source.get("questions", [])):
            question = self.by_id[qid]
            sent = self._system_question(plan, index, qid)
            at = index * TURN_SECONDS
            asked = harness_step("redaction", functools.partial(redact_text, sent.text, question.names))
            log.add("turn.question", "citizen", at, turn=index, question_id=qid, question=asked)
            reply = self.dispatcher.result(self._ask_key(plan, index), sent)
            if reply.failed_by == "civiclab":
                raise HarnessFault(
                    f"assistant: civiclab failed ({reply.failure}) asking question {index} of session "
                    f"{plan.session_id} after {reply.attempts} attempts, not the system: {reply.error}"
                )
            turn = harness_step(
                "redaction",
                functools.partial(
                    external_turn, log, index, at, question, asked, reply, self.system, self.kb
                ),
            )
            turns.append(turn)
            timings[f"turn{index}.total_ms"] = reply.latency_s * 1000
        return harness_step(
            "serialisation",
            lambda: assistant_record(plan, log, turns, timings, model=self.system, prompt_version=None),
        )

    def _system_question(self, plan: SessionPlan, index: int, qid: str) -> SystemQuestion:
        question = self.by_id[qid]
        return SystemQuestion(
            text=self._sent(question), language=question.language, session=plan.session_id, turn=index
        )


def describe_system(params: AssistantParams) -> dict[str, Any]:
    """What the facts (and so the evaluators) know of the system: never a key, never a header value."""
    spec = params.system
    if isinstance(spec, OpenAISystem):
        return {
            "kind": "openai",
            "name": f"openai:{spec.model}",
            "remote": True,
            "sources": False,
            "handover_flag": False,
            "base_url": strip_url_credentials(spec.base_url),
            "calls": spec.calls.model_dump(),
        }
    if isinstance(spec, HttpSystem):
        return {
            "kind": "http",
            "name": f"http:{strip_url_credentials(spec.url)}",
            "remote": True,
            "sources": spec.response.sources is not None,
            "handover_flag": spec.response.handed_over is not None,
            "calls": spec.calls.model_dump(),
        }
    if isinstance(spec, PythonSystem):
        # Whether it returns sources or a flag is only known from its replies: the evaluators read them.
        return {
            "kind": "python",
            "name": f"python:{spec.object}",
            "remote": False,
            "sources": None,
            "handover_flag": None,
            "calls": spec.calls.model_dump(),
        }
    return {"kind": "builtin", "name": "builtin", "remote": False, "sources": True, "handover_flag": True}


def check_system(params: AssistantParams, file: str) -> None:
    """Secrets named in the spec must be set, and a Python object must import, before any run opens."""
    spec = params.system
    envs: list[tuple[str, str]] = []
    if isinstance(spec, OpenAISystem) and spec.api_key_env:
        envs.append(("pilot.params.system.api_key_env", spec.api_key_env))
    if isinstance(spec, HttpSystem):
        envs += [(f"pilot.params.system.headers_env.{h}", env) for h, env in spec.headers_env.items()]
    for field, env in envs:
        if not os.environ.get(env):
            raise SpecError(file, field, f"environment variable {env} is not set")
    if isinstance(spec, PythonSystem):
        from pilots.assistant.systems.python import import_object

        try:
            import_object(spec.object)
        except ValueError as exc:
            raise SpecError(file, "pilot.params.system.object", str(exc)) from None


@contextlib.contextmanager
def demo_stand_in(params: AssistantParams) -> Iterator[object]:
    """Serve the local stand-in where the spec's endpoint is, when that is a free port on this machine.

    A port already in use is left alone: it may be the lab's real assistant running locally.
    """
    spec = params.system
    url = (
        spec.url if isinstance(spec, HttpSystem) else spec.base_url if isinstance(spec, OpenAISystem) else ""
    )
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost") or parsed.port is None:
        yield None
        return
    with socket.socket() as probe:
        busy = probe.connect_ex(("127.0.0.1", parsed.port)) == 0
    if busy:
        logger.info("port %d already answers: the demo uses what runs there", parsed.port)
        yield None
        return
    from pilots.assistant.standin import serve

    with serve(params.knowledge_base, port=parsed.port) as base:
        print(f"local stand-in for the lab's assistant on {base} (stopped after this run)", flush=True)
        yield base
