"""The generative answer paths: a tiny local transformers model, and a real OpenAI-compatible HTTP endpoint."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from civiclab.errors import PilotError, SpecError
from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import build_pilot
from pilots.assistant.pilot import AssistantPilot
from tests.pilots.assistant_support import find_question, plan_for, write_spec


def build_tiny_gpt2(folder: Path) -> Path:
    """A 1-layer GPT-2 with random weights and a word-level tokenizer, built offline and saved."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = [
        "[UNK]",
        "[PAD]",
        "[EOS]",
        "la",
        "le",
        "les",
        "de",
        "des",
        "fiche",
        "mairie",
        "carte",
        "passeport",
        "réponse",
        "agent",
        "vous",
        ":",
        ".",
        ",",
    ]
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]"
    )
    config = GPT2Config(
        vocab_size=len(words),
        n_positions=2048,
        n_layer=1,
        n_head=2,
        n_embd=32,
        bos_token_id=2,
        eos_token_id=2,
        pad_token_id=1,
    )
    GPT2LMHeadModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def test_a_local_transformers_model_answers_through_huggingface_pipeline(tmp_path: Path) -> None:
    model_dir = build_tiny_gpt2(tmp_path / "tiny-gpt2")
    experiment = load_experiment(
        write_spec(tmp_path, answer={"kind": "local", "model_dir": str(model_dir), "max_new_tokens": 6})
    )
    pilot = build_pilot(experiment)
    assert isinstance(pilot, AssistantPilot)
    assert pilot.replays() is False  # a generative path is not replayed by the runner
    pilot.setup()
    assert pilot.answer_step is not None
    chain = pilot.answer_step.runnable
    assert "HuggingFacePipeline" in repr(chain)  # the model is loaded once, in setup
    question = find_question(lambda q: q["text"].startswith("Quels sont les horaires de la déchetterie"))
    first = pilot.run_session(plan_for([question["id"], "q001"]))
    turns = first.data["turns"]
    assert [t["status"] for t in turns] == ["ok", "ok"]
    assert all(isinstance(t["answer"], str) for t in turns)
    assert first.data["model"] == "local:tiny-gpt2"
    answer_events = [e for e in first.events if e.kind == "turn.answer"]
    assert answer_events and answer_events[0].payload["prompt_version"].startswith(
        "belleval-answer-prompt/1#"
    )
    assert pilot.answer_step.runnable is chain  # the same loaded model serves every session


def test_a_missing_model_folder_is_a_one_line_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"pilot\.params\.answer\.local\.model_dir: file not found"):
        load_experiment(write_spec(tmp_path, answer={"kind": "local", "model_dir": str(tmp_path / "nope")}))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpecError, match="not a transformers model folder") as info:
        load_experiment(write_spec(tmp_path, answer={"kind": "local", "model_dir": str(tmp_path / "empty")}))
    assert "\n" not in str(info.value)


class ChatServer:
    """A minimal OpenAI-compatible endpoint on 127.0.0.1: POST /v1/chat/completions."""

    def __init__(self, slow_word: str = "", delay_s: float = 0.0) -> None:
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                system = next(m["content"] for m in body["messages"] if m["role"] == "system")
                user = next(m["content"] for m in body["messages"] if m["role"] == "user")
                if slow_word and slow_word in user:
                    time.sleep(delay_s)
                cited = system.split("Fiches :", 1)[1].split("]", 1)[0].strip() + "]"
                reply = {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": f"Voir la fiche {cited}."},
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                }
                data = json.dumps(reply).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    with ChatServer(slow_word="passeport", delay_s=3.0) as server:
        yield server


def test_an_openai_compatible_endpoint_gets_redacted_questions_and_the_passages(
    tmp_path: Path, chat_server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BELLEVAL_LLM_KEY", "sk-test-123")
    answer = {
        "kind": "openai",
        "base_url": chat_server.url,
        "model": "belleval-test",
        "api_key_env": "BELLEVAL_LLM_KEY",
        "timeout_s": 1.0,
    }
    pilot = build_pilot(load_experiment(write_spec(tmp_path, answer=answer)))
    pilot.setup()
    with_email = find_question(
        lambda q: (
            "EMAIL" in {p["kind"] for p in q["personal_data"]}
            and q["expected"] == "answer"
            and "passeport" not in q["text"]
        )
    )
    record = pilot.run_session(plan_for([with_email["id"]]))
    turn = record.data["turns"][0]
    if turn["decision"] == "handover":
        pytest.fail(f"the router handed over an ordinary question: {turn['question']}")
    assert turn["status"] == "ok"
    request = chat_server.requests[-1]
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == "Bearer sk-test-123"
    assert request["body"]["model"] == "belleval-test"
    sent = json.dumps(request["body"], ensure_ascii=False)
    for item in with_email["personal_data"]:  # no personal data leaves for a third-party model
        assert item["value"] not in sent
    assert "[EMAIL]" in sent
    cited = turn["retrieved"][0]["sheet"]
    assert turn["answer"] == f"Voir la fiche [{cited}]."
    assert record.data["model"] == "openai:belleval-test"


def test_a_model_that_times_out_fails_that_turn_and_the_session_goes_on(
    tmp_path: Path, chat_server: ChatServer
) -> None:
    answer = {"kind": "openai", "base_url": chat_server.url, "model": "slow", "timeout_s": 1.0}
    pilot = build_pilot(load_experiment(write_spec(tmp_path, answer=answer)))
    pilot.setup()
    slow = find_question(lambda q: q["text"].startswith("Combien coûte le timbre fiscal pour un passeport"))
    fast = find_question(lambda q: q["text"].startswith("Quels sont les horaires de la déchetterie"))
    started = time.perf_counter()
    record = pilot.run_session(plan_for([slow["id"], fast["id"]]))
    assert time.perf_counter() - started < 3.0  # did not wait for the slow answer
    first, second = record.data["turns"]
    # civiclab's watchdog or, on a loaded machine, the OpenAI client's own timeout fires first
    assert first["status"] == "failed" and first["error"].startswith(
        ("timeout", "APITimeoutError", "OpenAITimeoutError")
    )
    assert second["status"] == "ok" and second["answer"].startswith("Voir la fiche [S")
    assert record.outcome == "completed"
    assert [e.kind for e in record.events].count("turn.failed") == 1


def test_an_unreachable_endpoint_stops_before_the_run_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    answer = {"kind": "openai", "base_url": f"http://127.0.0.1:{port}/v1", "model": "m", "timeout_s": 1.0}
    with pytest.raises(
        PilotError, match=rf"model endpoint http://127.0.0.1:{port}/v1 is unreachable"
    ) as info:
        load_experiment(write_spec(tmp_path, answer=answer))
    assert "\n" not in str(info.value)


def test_an_unset_api_key_variable_is_named(
    tmp_path: Path, chat_server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    answer = {"kind": "openai", "base_url": chat_server.url, "model": "m", "api_key_env": "NO_SUCH_KEY_VAR"}
    with pytest.raises(
        SpecError, match="answer.api_key_env: environment variable NO_SUCH_KEY_VAR is not set"
    ):
        load_experiment(write_spec(tmp_path, answer=answer))
