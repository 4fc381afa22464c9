"""An OpenAI-compatible chat endpoint (vLLM, Ollama, a vendor's API) as the whole assistant."""

from __future__ import annotations

import os
import time
from typing import Any

from civiclab import ReplyRefused, bound_replies, strip_url_credentials
from pilots.assistant.systems.base import (
    Question,
    Reply,
    SystemCallError,
    TransientError,
    http_failure,
)
from pilots.assistant.systems.config import OpenAISystem


class OpenAIChatSystem:
    """Sends each question as one user message (after the optional system prompt); no sources."""

    remote = True

    def __init__(self, spec: OpenAISystem) -> None:
        import openai

        self.spec = spec
        self.name = f"openai:{spec.model}"
        key = os.environ.get(spec.api_key_env, "") if spec.api_key_env else ""
        # Retries are the dispatcher's (tenacity, with the spec's backoff): the client must not add its own.
        self.client = openai.OpenAI(
            base_url=spec.base_url,
            api_key=key or "not-needed",
            timeout=spec.calls.timeout_s,
            max_retries=0,
            http_client=bound_replies(
                openai.DefaultHttpxClient(timeout=spec.calls.timeout_s),
                strip_url_credentials(spec.base_url),
                deadline_s=spec.calls.timeout_s,
            ),
        )

    def ask(self, question: Question) -> Reply:
        import openai

        messages: list[Any] = []
        if self.spec.system_prompt:
            messages.append({"role": "system", "content": self.spec.system_prompt})
        messages.append({"role": "user", "content": question.text})
        started = time.perf_counter()
        try:
            completion = self.client.chat.completions.create(
                model=self.spec.model,
                messages=messages,
                max_tokens=self.spec.max_tokens,
                temperature=self.spec.temperature,
            )
        except ReplyRefused as exc:  # the body past the byte cap, or still arriving at the timeout
            raise (TransientError(str(exc)) if exc.slow else SystemCallError(str(exc), "malformed")) from None
        except openai.APITimeoutError as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}", "timeout") from None
        except openai.APIConnectionError as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}", "connection") from None
        except openai.RateLimitError as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}", "http_4xx") from None
        except openai.APIStatusError as exc:
            cls = TransientError if exc.status_code >= 500 else SystemCallError
            where = strip_url_credentials(self.spec.base_url)
            raise cls(f"HTTP {exc.status_code} from {where}", http_failure(exc.status_code)) from None
        if not completion.choices:
            raise SystemCallError("the endpoint returned no choice", "malformed")
        text = completion.choices[0].message.content or ""
        return Reply(answer=text, latency_s=time.perf_counter() - started)

    def close(self) -> None:
        self.client.close()
