"""The dispatcher (concurrency bound, retries, timeouts, rate limit) and the Python-object system."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civiclab.plugins.experiment import load_experiment
from civiclab.run.sessions import build_pilot
from pilots.assistant.systems import Calls, PythonSystem, Question, Reply
from pilots.assistant.systems.base import SystemCallError, TransientError, read_sources
from pilots.assistant.systems.dispatch import Dispatcher
from pilots.assistant.systems.http import fill
from tests.pilots.assistant_support import find_question, plan_for
from tests.pilots.byo_support import byo_spec


class Scripted:
    """A system whose behaviour a test scripts: it counts calls and how many run at once."""

    name = "scripted"
    remote = False

    def __init__(self, delay: float = 0.0, failures: list[Exception] | None = None) -> None:
        self.delay = delay
        self.failures = list(failures or [])
        self.lock = threading.Lock()
        self.in_flight = self.most_in_flight = self.calls = 0

    def ask(self, question: Question) -> Reply:
        with self.lock:
            self.calls += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            failure = self.failures.pop(0) if self.failures else None
        try:
            time.sleep(self.delay)
            if failure is not None:
                raise failure
            return Reply(answer=f"réponse à {question.text}")
        finally:
            with self.lock:
                self.in_flight -= 1

    def close(self) -> None:
        pass


def test_no_more_questions_are_in_flight_than_the_concurrency_and_replies_keep_their_keys() -> None:
    system = Scripted(delay=0.03)
    dispatcher = Dispatcher(system, Calls(concurrency=4))
    questions = {f"s{i}/0": Question(text=f"q{i}") for i in range(40)}
    dispatcher.submit_many(questions.items())
    replies = {key: dispatcher.result(key, q) for key, q in questions.items()}
    dispatcher.close()
    assert system.most_in_flight == 4
    assert all(replies[f"s{i}/0"].answer == f"réponse à q{i}" for i in range(40))


def test_transient_failures_are_retried_and_others_are_not() -> None:
    system = Scripted(failures=[TransientError("HTTP 503"), TransientError("HTTP 503")])
    dispatcher = Dispatcher(system, Calls(retries=2, backoff_s=0.01))
    reply = dispatcher.ask(Question(text="q"))
    assert reply.error is None and reply.attempts == 3 and reply.answer == "réponse à q"
    system.failures = [SystemCallError("HTTP 400")]
    reply = dispatcher.ask(Question(text="q"))
    assert reply.failed and reply.attempts == 1 and "HTTP 400" in (reply.error or "")
    system.failures = [TransientError("HTTP 503")] * 3
    reply = dispatcher.ask(Question(text="q"))
    assert reply.failed and reply.attempts == 3 and "503" in (reply.error or "")
    dispatcher.close()


def test_a_stuck_system_is_a_failed_reply_after_its_timeout() -> None:
    dispatcher = Dispatcher(Scripted(delay=5.0), Calls(timeout_s=0.2, retries=0))
    started = time.perf_counter()
    reply = dispatcher.ask(Question(text="q"))
    assert reply.failed and "no answer within 0.2 s" in (reply.error or "")
    assert time.perf_counter() - started < 2.0


def test_the_rate_limit_spaces_the_calls() -> None:
    dispatcher = Dispatcher(Scripted(), Calls(concurrency=8, rate_limit_per_s=20))
    started = time.perf_counter()
    dispatcher.submit_many((str(i), Question(text="q")) for i in range(11))
    for i in range(11):
        dispatcher.result(str(i), Question(text="q"))
    dispatcher.close()
    assert time.perf_counter() - started >= 0.5  # 11 starts, 50 ms apart


def test_a_request_template_is_filled_without_formatting_the_question_again() -> None:
    body = fill(
        {"input": {"text": "{question}", "lang": "{language}"}, "n": 1},
        {"question": "a {b} c", "language": "fr"},
    )
    assert body == {"input": {"text": "a {b} c", "lang": "fr"}, "n": 1}


# Guards issue 20: `{session}` and `{turn}` written inside the question were filled in too.
def test_placeholders_written_in_the_question_are_sent_as_written() -> None:
    question = "Mon dossier {session} au tour {turn}, langue {language} : {question}?"
    body = fill(
        {"q": "{question}", "meta": "{session}/{turn} {language}", "keep": ["{other}", "{session"]},
        {"question": question, "language": "fr", "session": "s-42", "turn": "3"},
    )
    assert body == {"q": question, "meta": "s-42/3 fr", "keep": ["{other}", "{session"]}


# --- Python objects -------------------------------------------------------------------------------------
def plain_assistant(inputs: dict[str, Any]) -> dict[str, Any]:
    """A plain callable returning the full reply shape."""
    handed = "agent" in inputs["question"].lower()
    return {"answer": "Voir la fiche [S01].", "sources": [{"id": "S01"}], "handed_over": handed}


def _runnable() -> Any:
    from langchain_core.runnables import RunnableLambda

    return RunnableLambda(lambda inputs: f"Je vous mets en relation avec un agent ({inputs['language']}).")


runnable_assistant = _runnable()


@pytest.mark.parametrize(
    ("target", "sources", "read_from"),
    [("plain_assistant", ["S01"], "flag"), ("runnable_assistant", None, "words")],
)
def test_a_python_object_is_evaluated_as_the_whole_assistant(
    tmp_path: Path, target: str, sources: list[str] | None, read_from: str
) -> None:
    system = {"kind": "python", "object": f"tests.pilots.test_assistant_systems:{target}"}
    pilot = build_pilot(load_experiment(byo_spec(tmp_path, system)))
    pilot.ensure_setup()
    try:
        qid = find_question(lambda q: q["expected"] == "answer" and q["language"] == "fr")["id"]
        record = pilot.run_session(plan_for([qid]))
    finally:
        pilot.close()
    turn = record.data["turns"][0]
    assert turn["status"] == "ok" and turn["ranked_sheets"] == sources
    assert turn["handover_read_from"] == read_from
    assert turn["decision"] == ("handover" if target == "runnable_assistant" else "answer")


reexported_system = os.system  # the standard library's object under a module of the lab's


# Guards issue 20: `system: {kind: python, object: "os:system"}` was accepted.
@pytest.mark.parametrize(
    ("reference", "module"),
    [
        ("os:system", "os"),
        ("subprocess:run", "subprocess"),
        ("shutil:rmtree", "shutil"),
        ("builtins:eval", "builtins"),
        ("builtins:exec", "builtins"),
        ("io:open", "io"),
        ("pathlib:Path.unlink", "pathlib"),
        ("socket:create_connection", "socket"),
        ("sys:exit", "sys"),
        ("tests.pilots.test_assistant_systems:reexported_system", "posix"),
    ],
)
def test_an_object_of_the_standard_librarys_process_and_file_modules_is_refused(
    tmp_path: Path, reference: str, module: str
) -> None:
    from civiclab.errors import SpecError

    system = PythonSystem(kind="python", object=reference).model_dump()
    with pytest.raises(SpecError) as refused:
        load_experiment(byo_spec(tmp_path, system))
    assert str(refused.value).endswith(
        f"pilot.params.system.object: {reference!r} is from the standard library's {module!r} module, "
        "which runs processes, opens files or sockets, or evaluates code: name the lab's own assistant "
        "object instead"
    )


def test_an_object_that_does_not_import_is_a_spec_error(tmp_path: Path) -> None:
    from civiclab.errors import SpecError

    system = PythonSystem(kind="python", object="tests.pilots.nowhere:assistant").model_dump()
    with pytest.raises(SpecError, match="pilot.params.system.object: cannot import"):
        load_experiment(byo_spec(tmp_path, system))


# --- properties of what reads a system's replies ---------------------------------------------------------
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(question=st.text(max_size=200), template=_json)
def test_filling_a_template_puts_the_question_verbatim_and_keeps_its_shape(
    question: str, template: object
) -> None:
    filled = fill({"q": "{question}", "rest": template}, {"question": question, "language": "fr"})
    assert filled["q"] == question

    def shape(value: object) -> object:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shape(v) for v in value]
        return type(value).__name__

    assert shape(filled["rest"]) == shape(template)


@given(value=_json)
def test_sources_are_always_a_list_of_non_empty_strings_or_none(value: object) -> None:
    sources = read_sources(value)
    assert (
        sources is None
        if value is None
        else all(isinstance(s, str) and s.strip() == s and s for s in sources)
    )
