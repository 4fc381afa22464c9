"""The AI-assistant pilot: citizens ask the Belleval assistant about procedures, turn by turn.

Each turn: the question is redacted, the knowledge base is searched, the hand-over router decides to
answer or to hand over (with its SHAP values and a plain-language explanation), and the answer step runs.
The trace of every turn goes into the session's events (deterministic values only); wall-clock
latencies go into `record.timings`.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from civiclab import (
    Conversation,
    EventLog,
    Pilot,
    PilotContext,
    PilotError,
    PilotFacts,
    SessionPlan,
    SessionRecord,
    pilot,
    sample_plans,
)
from civiclab.privacy.redaction import redact_text
from civiclab.text import Question, load_knowledge_base, load_questions, passages
from pilots.assistant.answering import (
    AnswerStep,
    build_answer_step,
    check_endpoint,
)
from pilots.assistant.byo import ExternalSessions, check_system, describe_system
from pilots.assistant.explain import channel_notice
from pilots.assistant.external import echoed, personal_values
from pilots.assistant.params import AssistantParams, OpenAIAnswer
from pilots.assistant.retrieval import (
    EMBEDDING_MODEL,
    Retriever,
    best_passage,
    load_embeddings,
)
from pilots.assistant.router import ROUTER_VERSION, HandoverRouter
from pilots.assistant.session import TURN_SECONDS, assistant_record
from pilots.assistant.signals import FEATURES, features
from pilots.assistant.systems import BuiltinSystem
from pilots.assistant.systems import Question as SystemQuestion
from pilots.assistant.systems.builtin import BuiltinPipeline


def persona_profile(segment: dict[str, str]) -> str:
    """Which question pool a persona draws from: English speakers, low digital literacy, or standard."""
    if segment.get("language") == "en":
        return "english"
    if segment.get("digital_literacy") in ("none", "low"):
        return "low_literacy"
    return "standard"


class AssistantFacts(PilotFacts):
    """What the assistant pilot tells evaluators: its data files, models and router."""

    knowledge_base: Path
    questions: Path = Field(description="the evaluation questions (their names are the personal values)")
    redaction_labelled: Path | None = None
    embedding_model: str
    sheets: int
    top_k: int
    features: list[str]
    model: str | None = None
    prompt_version: str | None = None
    router: dict[str, Any] | None = None
    system: dict[str, Any] = Field(
        default_factory=lambda: {"kind": "builtin", "remote": False, "sources": True, "handover_flag": True}
    )
    setup_seconds: dict[str, float] = Field(default_factory=dict)
    adversarial_scan: dict[str, Any] | None = Field(
        default=None, description="the adversarial bank's report (answers redacted), when the run asked it"
    )


@pilot("assistant", params=AssistantParams)
class AssistantPilot(Pilot[AssistantParams]):
    """A public-service assistant measured for grounding, hand-over, explanations and privacy."""

    # The router card and the facts describe the fitted router: with a pool the parent fits it too.
    results_need_setup = True

    def __init__(self, params: AssistantParams, context: PilotContext) -> None:
        super().__init__(params, context)
        self.kb = load_knowledge_base(params.knowledge_base)
        sheet_ids = {s.id for s in self.kb.sheets}
        self.questions = load_questions(params.questions, "eval", sheet_ids)
        self.by_id = {q.id: q for q in self.questions}
        self.training = load_questions(params.training, "train", sheet_ids)
        self.retriever: Retriever | None = None
        self.router: HandoverRouter | None = None
        self.answer_step: AnswerStep | None = None
        self.pipeline: BuiltinPipeline | None = None
        self.byo: ExternalSessions | None = None
        self.setup_seconds: dict[str, float] = {}
        self.scan_report: Any = None  # the adversarial bank's report, asked once after the sessions
        self.external = not isinstance(params.system, BuiltinSystem)
        if self.external and params.system.calls.rate_limit_per_s is not None:  # type: ignore[union-attr]
            # A rate limit is one budget for the whole run: one process keeps it. Without one, each
            # worker of a pool has its own dispatcher (`calls.concurrency` questions in flight each).
            self.parallel = False  # type: ignore[misc]

    @classmethod
    def validate_experiment(cls, experiment: Any) -> None:
        """Check data files, the model folder and the endpoint before any run is opened."""
        params: AssistantParams = experiment.pilot_params
        kb = load_knowledge_base(params.knowledge_base)
        sheet_ids = {s.id for s in kb.sheets}
        load_questions(params.questions, "eval", sheet_ids)
        training = load_questions(params.training, "train", sheet_ids)
        if len({q.expected for q in training}) < 2:
            from civiclab import SpecError

            raise SpecError(
                params.training, "expected", "the training split needs both `answer` and `handover` questions"
            )
        if isinstance(params.answer, OpenAIAnswer) and isinstance(params.system, BuiltinSystem):
            check_endpoint(params.answer, str(experiment.path))
        check_system(params, str(experiment.path))

    @classmethod
    def demo_services(cls, experiment: Any) -> contextlib.AbstractContextManager[object]:
        """For `civiclab demo`: the local stand-in on the port of a 127.0.0.1 endpoint in the spec."""
        from pilots.assistant.byo import demo_stand_in

        return demo_stand_in(experiment.pilot_params)

    def replays(self) -> bool:
        # A remote model may answer differently when asked again: only the offline path is replayed.
        return isinstance(self.params.system, BuiltinSystem) and self.params.answer.kind == "offline"

    # -- once per process -------------------------------------------------------------------------
    def setup(self) -> None:
        if self.external:
            started = time.perf_counter()
            self.byo = ExternalSessions(self.params, self.kb, self.by_id, self.session_start)
            self.setup_seconds["system_connect_s"] = time.perf_counter() - started
            return
        self._setup_retrieval_and_router()
        started = time.perf_counter()
        if isinstance(self.params.answer, OpenAIAnswer):
            check_endpoint(self.params.answer, "pilot.params.answer")
        self.answer_step = build_answer_step(self.params.answer)
        assert self.retriever is not None and self.router is not None
        # The bundled pipeline answers through the same `ask` as a lab's own system.
        self.pipeline = BuiltinPipeline(self.retriever, self.router, self.answer_step, self.params.top_k)
        self.setup_seconds["answer_model_load_s"] = time.perf_counter() - started

    def _setup_retrieval_and_router(self) -> None:
        """The embedding model, the embedded knowledge base and the fitted router (no answer model)."""
        started = time.perf_counter()
        embeddings = load_embeddings(self.params.embedding_batch_size)
        self.setup_seconds["embedding_load_s"] = time.perf_counter() - started
        self.retriever = Retriever(embeddings, passages(self.kb), self.params.lexical_weight)
        self.setup_seconds["kb_embed_s"] = self.retriever.embed_seconds
        started = time.perf_counter()
        self.router = self._fit_router()
        self.setup_seconds["router_fit_s"] = time.perf_counter() - started

    def _fit_router(self) -> HandoverRouter:
        assert self.retriever is not None
        rows = []
        texts = [redact_text(q.text, q.names) for q in self.training]
        for q, text, hits in zip(
            self.training, texts, self.retriever.search_many(texts, self.params.top_k), strict=True
        ):
            literacy = "low" if q.profile == "low_literacy" else "high"
            rows.append(features(text, [h.dense for h in hits], best_passage(hits), literacy).values)
        labels = np.array([q.expected == "handover" for q in self.training], dtype=int)
        try:
            return HandoverRouter(
                self.params.handover_threshold, self.params.shap_background, self.context.seed
            ).fit(np.asarray(rows, dtype=float), labels)
        except ValueError as exc:
            raise PilotError(f"assistant: cannot fit the hand-over router: {exc}") from None

    # -- the run's sessions -----------------------------------------------------------------------
    def plans(self, sessions: int, seed: int) -> list[SessionPlan]:
        """Personas sampled by weight; questions dealt from the persona's pool so the run covers it."""
        plans = sample_plans(self.context.personas, sessions, seed)
        rng = np.random.default_rng(seed)
        pools: dict[str, list[str]] = {}
        for profile in ("standard", "low_literacy", "english"):
            ids = [q.id for q in self.questions if q.profile == profile]
            if profile == "low_literacy":  # low-literacy personas also ask ordinary questions
                standard = [q.id for q in self.questions if q.profile == "standard"]
                ids = [x for pair in itertools.zip_longest(ids, standard[::2]) for x in pair if x]
            pools[profile] = [ids[i] for i in rng.permutation(len(ids))] if ids else []
        pools["english"] = pools["english"] or pools["standard"]
        cursors = {profile: itertools.cycle(ids) for profile, ids in pools.items() if ids}
        for plan in plans:
            profile = persona_profile(plan.segment)
            cursor = cursors.get(profile) or cursors["standard"]
            plan.source = {"questions": [next(cursor) for _ in range(self.params.questions_per_session)]}
        if self.byo is not None:
            self.byo.queue(plans)
        return plans

    def upcoming(self, plans: list[SessionPlan]) -> None:
        if self.byo is not None:  # a worker's batch: its questions go out together, in plan order
            self.byo.queue(plans)

    def run_session(self, plan: SessionPlan) -> SessionRecord:
        if self.external:
            if self.byo is None:
                raise PilotError("assistant: setup() was not called")
            return self.byo.run_session(plan)
        if self.pipeline is None or self.answer_step is None:
            raise PilotError("assistant: setup() was not called")
        log = EventLog(plan.session_id, self.session_start(plan))
        turns: list[dict[str, Any]] = []
        timings: dict[str, float] = {}
        language = plan.segment.get("language", "fr")
        for index, qid in enumerate(plan.source.get("questions", [])):
            turn, turn_timings = self._turn(log, index, self.by_id[qid], plan.segment, language)
            turns.append(turn)
            timings.update({f"turn{index}.{k}": v for k, v in turn_timings.items()})
        return assistant_record(
            plan,
            log,
            turns,
            timings,
            model=self.answer_step.model,
            prompt_version=self.answer_step.prompt_version,
        )

    def _turn(
        self, log: EventLog, index: int, question: Question, segment: dict[str, str], language: str
    ) -> tuple[dict[str, Any], dict[str, float]]:
        assert self.pipeline is not None
        at = index * TURN_SECONDS
        # Privacy by design: only the redacted question is searched, routed, sent to a model or logged.
        text = redact_text(question.text, question.names)
        log.add(
            "turn.question",
            "citizen",
            at,
            turn=index,
            question_id=question.id,
            question=text,
            language=question.language,
        )
        literacy = segment.get("digital_literacy", "high")
        reply = self.pipeline.ask(SystemQuestion(text=text, language=language, turn=index, literacy=literacy))
        retrieved, decision, note = (
            reply.extra["retrieved"],
            reply.extra["decision"],
            reply.extra["explanation"],
        )
        log.add(
            "turn.retrieval",
            "assistant",
            at + 1,
            turn=index,
            embedding_model=EMBEDDING_MODEL,
            retrieved=retrieved,
        )
        log.add(
            "turn.route",
            "assistant",
            at + 2,
            turn=index,
            router=ROUTER_VERSION,
            decision="handover" if decision.handover else "answer",
            p_handover=decision.probability,
            features=decision.features,
            shap=decision.shap,
            shap_base=decision.base_value,
            explanation=note,
        )
        turn: dict[str, Any] = {
            "question_id": question.id,
            "question": text,
            "profile": question.profile,
            "language": question.language,
            "expected": question.expected,
            "reason": question.reason,
            "tags": list(question.tags),
            "expected_sheets": list(question.sheets),
            "retrieved": retrieved,
            "ranked_sheets": reply.extra["ranked_sheets"],
            "decision": "handover" if decision.handover else "answer",
            "p_handover": decision.probability,
            "shap": decision.shap,
            "explanation": note,
            "injection_marker": question.injection_marker,
            "status": "ok",
        }
        model = self.pipeline.answer_step.model
        if decision.handover:
            turn["answer"] = reply.answer
            log.add(
                "turn.handover", "assistant", at + 3, turn=index, channel="human_agent", message=reply.answer
            )
        elif reply.failed:
            turn.update(
                status="failed",
                answer="",
                error=reply.error,
                failed_by=reply.failed_by,
                failure=reply.failure,
            )
            reason = "timeout" if reply.failure == "timeout" else str(reply.error).split(":")[0]
            log.add("turn.failed", "assistant", at + 3, turn=index, reason=reason, model=model)
        else:
            # A generative model may echo personal data: what is logged is redacted again.
            turn["pii_echoed"] = echoed(reply.answer, question)
            turn["answer"] = redact_text(reply.answer, personal_values(question))
            turn["notice"] = channel_notice(language)
            log.add(
                "turn.answer",
                "assistant",
                at + 3,
                turn=index,
                answer=turn["answer"],
                model=model,
                prompt_version=self.pipeline.answer_step.prompt_version,
            )
        return turn, reply.extra["timings"]

    # -- after the sessions -------------------------------------------------------------------------
    def run_artifacts(self, records: Collection[SessionRecord], out_dir: Path) -> list[Path]:
        from pilots.assistant.artifacts import write_router_card, write_shap_summary

        paths: list[Path] = []
        report = self._adversarial_scan()
        if report is not None:
            from pilots.assistant.scan import write_report

            paths.extend(write_report(report, out_dir))
        if self.external:
            return paths
        assert self.router is not None  # `results_need_setup`: the runner set this pilot up
        paths.append(write_router_card(self.router, out_dir))
        plot = write_shap_summary(list(records), out_dir)  # an assistant run is small
        if plot is not None:
            paths.append(plot)
        return paths

    def conversation(self, record: SessionRecord) -> Conversation:
        from pilots.assistant.tracing import conversation_of

        return conversation_of(record)

    def _adversarial_scan(self) -> Any:
        """The bank's report, asked of the run's loaded system the first time it is needed (or None)."""
        if self.params.adversarial_scan and self.scan_report is None:
            from pilots.assistant.bank_run import scan_in_run

            self.scan_report, self.setup_seconds["adversarial_scan_s"] = scan_in_run(self)
        return self.scan_report

    def run_facts(self) -> AssistantFacts:
        report = self._adversarial_scan()
        return AssistantFacts(
            knowledge_base=self.params.knowledge_base,
            questions=self.params.questions,
            redaction_labelled=self.params.redaction_labelled,
            embedding_model=EMBEDDING_MODEL,
            sheets=len(self.kb.sheets),
            top_k=self.params.top_k,
            features=list(FEATURES),
            model=self.answer_step.model if self.answer_step is not None else None,
            prompt_version=self.answer_step.prompt_version if self.answer_step is not None else None,
            router=self.router.describe() if self.router is not None else None,
            setup_seconds=dict(self.setup_seconds),
            system=describe_system(self.params),
            adversarial_scan=report.model_dump() if report is not None else None,
        )

    def close(self) -> None:
        if self.byo is not None:
            self.byo.close()
            self.byo = None
