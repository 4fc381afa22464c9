"""The bundled pipeline as an `AssistantSystem`: retrieval, the SHAP-explained hand-over router, the answer step.

It answers one (already redacted) question like any external system, and gives in `Reply.extra` what
only it can show: the passages it retrieved, its routing decision with the features, SHAP values and
the citizen-facing explanation, and the time each step took. The pilot records the turn from the reply.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from civiclab import HarnessFault
from pilots.assistant.systems.base import Question, Reply, failure_of

if TYPE_CHECKING:
    from pilots.assistant.answering import AnswerStep
    from pilots.assistant.retrieval import Retriever
    from pilots.assistant.router import HandoverRouter


class BuiltinPipeline:
    """Today's pipeline behind the same `ask` as an endpoint; hand-over is its router's flag."""

    remote = False

    def __init__(
        self, retriever: Retriever, router: HandoverRouter, answer_step: AnswerStep, top_k: int
    ) -> None:
        self.retriever, self.router, self.answer_step, self.top_k = retriever, router, answer_step, top_k
        self.name = answer_step.model

    def ask(self, question: Question) -> Reply:
        """Retrieve, route, and answer unless the router hands over; a model's failure is a failed reply."""
        from pilots.assistant.answering import AnswerTimeout, invoke_with_timeout
        from pilots.assistant.explain import explanation, handover_message
        from pilots.assistant.retrieval import best_passage, ranked_sheets
        from pilots.assistant.signals import features

        t0 = time.perf_counter()
        hits = self.retriever.search(question.text, self.top_k)
        t1 = time.perf_counter()
        decision = self.router.decide(
            features(question.text, [h.dense for h in hits], best_passage(hits), question.literacy).values
        )
        t2 = time.perf_counter()
        extra: dict[str, Any] = {
            "retrieved": [
                {
                    "sheet": h.passage.sheet,
                    "passage": h.passage.id,
                    "score": h.score,
                    "dense": h.dense,
                    "lexical": h.lexical,
                }
                for h in hits
            ],
            "ranked_sheets": ranked_sheets(hits),
            "decision": decision,
            "explanation": explanation(decision, question.language),
        }
        answer, error, failure = "", None, None
        if decision.handover:
            answer = handover_message(question.language)
        else:
            try:
                answer = invoke_with_timeout(
                    self.answer_step, {"question": question.text, "language": question.language, "hits": hits}
                )
            except AnswerTimeout as exc:
                error, failure = f"timeout: {exc}", "timeout"
            except Exception as exc:
                side, failure = failure_of(exc)
                if side == "civiclab":
                    raise HarnessFault(
                        f"assistant: civiclab failed ({failure}) in the answer step, not the model: "
                        f"{type(exc).__name__}: {exc}"[:400]
                    ) from None
                error = f"{type(exc).__name__}: {exc}"[:300]
        t3 = time.perf_counter()
        extra["timings"] = {
            "retrieval_ms": (t1 - t0) * 1000,
            "route_ms": (t2 - t1) * 1000,
            "answer_ms": (t3 - t2) * 1000,
            "total_ms": (t3 - t0) * 1000,
        }
        return Reply(
            answer=answer,
            sources=list(extra["ranked_sheets"]),
            handed_over=decision.handover,
            latency_s=t3 - t0,
            error=error,
            extra=extra,
            failed_by="endpoint" if error is not None else None,
            failure=failure,
        )

    def close(self) -> None:
        """The models belong to the pilot's process: nothing to release."""
