"""An assistant session as an MLflow trace: per turn the question, the retrieval with its sources, the
hand-over decision with its SHAP explanation, the answer, and how long each step took.

Built from the redacted record (what `sessions.jsonl` holds), for the built-in pipeline and for a lab's
own system alike; a step a system does not have (an endpoint's retrieval) is left out, not invented.
"""

from __future__ import annotations

from typing import Any

from civiclab import Conversation, SessionRecord, TraceSpan


def turn_span(index: int) -> str:
    return f"turn {index}"


def _retrieval(turn: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Retrieved passages in MLflow's document shape (content id, and where it came from)."""
    if "retrieved" in turn:
        return [
            {"page_content": r["passage"], "metadata": {"doc_uri": r["sheet"], "score": r["score"]}}
            for r in turn["retrieved"]
        ]
    if turn.get("sources") is not None:
        return [{"page_content": s, "metadata": {"doc_uri": s}} for s in turn["sources"]]
    return None


def _routing(turn: dict[str, Any]) -> dict[str, Any]:
    routed: dict[str, Any] = {"decision": turn.get("decision")}
    if "p_handover" in turn:
        routed.update(
            p_handover=turn["p_handover"], shap=turn.get("shap"), explanation=turn.get("explanation")
        )
    else:
        routed["read_from"] = turn.get("handover_read_from")
    return routed


def conversation_of(record: SessionRecord) -> Conversation:
    """The session's trace: one span per turn, its steps nested under it, timed from `record.timings`."""
    spans: list[TraceSpan] = []
    clock = 0.0
    turns: list[dict[str, Any]] = record.data.get("turns", [])
    for index, turn in enumerate(turns):
        times = {k.split(".", 1)[1]: v for k, v in record.timings.items() if k.startswith(f"turn{index}.")}
        total = max(float(times.get("total_ms", 0.0)), 0.0)
        name = turn_span(index)
        failed = turn.get("status") == "failed"
        spans.append(
            TraceSpan(
                name=name,
                kind="CHAIN",
                inputs={"question": turn.get("question"), "language": turn.get("language")},
                outputs={
                    "answer": turn.get("answer"),
                    "decision": turn.get("decision"),
                    "status": turn.get("status"),
                },
                attributes={
                    "question_id": turn.get("question_id"),
                    **(
                        {"failed_by": turn.get("failed_by", "endpoint"), "failure": turn.get("failure")}
                        if failed
                        else {}
                    ),
                },
                start_ms=clock,
                duration_ms=total,
                error=turn.get("error") if failed else None,
            )
        )
        step = clock
        retrieved = _retrieval(turn)
        if retrieved is not None:
            took = float(times.get("retrieval_ms", 0.0))
            spans.append(
                TraceSpan(
                    name=f"{name} retrieval",
                    kind="RETRIEVER",
                    parent=name,
                    inputs={"query": turn.get("question")},
                    outputs=retrieved,
                    start_ms=step,
                    duration_ms=took,
                )
            )
            step += took
        took = float(times.get("route_ms", 0.0))
        spans.append(
            TraceSpan(
                name=f"{name} hand-over",
                kind="TOOL",
                parent=name,
                inputs={"question": turn.get("question")},
                outputs=_routing(turn),
                start_ms=step,
                duration_ms=took,
            )
        )
        step += took
        if turn.get("decision") == "answer":
            spans.append(
                TraceSpan(
                    name=f"{name} answer",
                    kind="CHAT_MODEL",
                    parent=name,
                    inputs={"question": turn.get("question")},
                    outputs={"answer": turn.get("answer")},
                    attributes={"model": record.data.get("model")},
                    start_ms=step,
                    duration_ms=max(clock + total - step, 0.0),
                    error=turn.get("error") if failed else None,
                )
            )
        clock += total
    return Conversation(
        session_id=record.session_id,
        inputs={"questions": [t.get("question") for t in turns]},
        outputs={"outcome": record.outcome, "answers": [t.get("answer") for t in turns]},
        attributes={"persona": record.persona_id, "model": record.data.get("model"), **record.segment},
        spans=spans,
    )
