"""Any JSON HTTP API as the assistant: a request template in, JMESPath paths out."""

from __future__ import annotations

import json
import os
import re
import time
from typing import Any

from civiclab import ReplyRefused, bound_replies, strip_url_credentials
from pilots.assistant.systems.base import (
    Question,
    Reply,
    SystemCallError,
    TransientError,
    http_failure,
    read_flag,
    read_sources,
)
from pilots.assistant.systems.config import HttpSystem


def fill(template: Any, values: dict[str, str]) -> Any:
    """The request template with `{name}` placeholders replaced in every string (keys left alone).

    Each string is filled in one pass over the template: a `{session}` or a brace written in the question
    stays as the citizen wrote it (what is put in is never filled again).
    """
    if isinstance(template, str):
        names = "|".join(re.escape(name) for name in values)
        return re.sub(r"\{(" + names + r")\}", lambda found: values[found.group(1)], template)
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    return template


class HttpJsonSystem:
    """POST (or PUT/GET) the filled template; read answer, sources and hand-over flag by JMESPath."""

    remote = True

    def __init__(self, spec: HttpSystem) -> None:
        import httpx
        import jmespath

        self.spec = spec
        self.name = f"http:{strip_url_credentials(spec.url)}"
        headers = {"Accept": "application/json"}
        for header, env in spec.headers_env.items():
            headers[header] = os.environ.get(env, "")
        limits = httpx.Limits(max_connections=spec.calls.concurrency * 2)
        # Each reply is read up to the byte cap, and no longer than the call's timeout: a download
        # the dispatcher gave up on stops instead of filling memory in an abandoned thread.
        self.client = bound_replies(
            httpx.Client(headers=headers, timeout=spec.calls.timeout_s, limits=limits),
            strip_url_credentials(spec.url),
            deadline_s=spec.calls.timeout_s,
        )
        self.paths = {
            name: jmespath.compile(path)
            for name, path in spec.response.model_dump().items()
            if path is not None
        }

    def ask(self, question: Question) -> Reply:
        import httpx

        body = fill(
            self.spec.request,
            {
                "question": question.text,
                "language": question.language,
                "session": question.session,
                "turn": str(question.turn),
            },
        )
        started = time.perf_counter()
        try:
            if self.spec.method == "GET":
                params = body if isinstance(body, dict) else {"q": json.dumps(body)}
                response = self.client.get(self.spec.url, params=params)
            else:
                response = self.client.request(self.spec.method, self.spec.url, json=body)
        except ReplyRefused as exc:
            raise (TransientError(str(exc)) if exc.slow else SystemCallError(str(exc), "malformed")) from None
        except httpx.TimeoutException as exc:
            raise TransientError(f"timeout: {type(exc).__name__}", "timeout") from None
        except httpx.TransportError as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}", "connection") from None
        latency = time.perf_counter() - started
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"HTTP {response.status_code}", http_failure(response.status_code))
        if response.status_code >= 400:
            raise SystemCallError(f"HTTP {response.status_code}", "http_4xx")
        try:
            data = response.json()
        except ValueError:
            raise SystemCallError("the reply is not JSON") from None
        answer = self.paths["answer"].search(data)
        if not isinstance(answer, str):
            raise SystemCallError(
                f"response.answer {self.spec.response.answer!r} is not a string in the reply"
            )
        sources = read_sources(self.paths["sources"].search(data)) if "sources" in self.paths else None
        if "sources" in self.paths and sources is None:
            sources = []  # the system returns sources, but none for this answer
        flag = read_flag(self.paths["handed_over"].search(data)) if "handed_over" in self.paths else None
        return Reply(answer=answer, sources=sources, handed_over=flag, latency_s=latency)

    def close(self) -> None:
        self.client.close()
