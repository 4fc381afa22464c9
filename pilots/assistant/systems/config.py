"""The `pilot.params.system` block: which assistant is evaluated, and how it is called.

A discriminated union on `kind`; every model forbids unknown fields, so a typo is one line naming it.
Secrets are never in the spec: only the NAME of the environment variable that holds them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Calls(_Strict):
    """How questions reach an external system: bounded concurrency, timeouts, retries, a rate limit."""

    concurrency: int = Field(default=8, ge=1, le=256, description="questions in flight at once")
    timeout_s: float = Field(default=30.0, gt=0, le=600, description="per attempt")
    retries: int = Field(default=2, ge=0, le=10, description="attempts after the first one")
    backoff_s: float = Field(default=0.5, ge=0, le=60, description="first wait; doubles each retry")
    rate_limit_per_s: float | None = Field(default=None, gt=0, description="requests started per second")


class BuiltinSystem(_Strict):
    """Today's pipeline: retrieval, SHAP-explained hand-over router, the `answer` step."""

    kind: Literal["builtin"] = "builtin"


class OpenAISystem(_Strict):
    """Any OpenAI-compatible chat endpoint used as the whole assistant."""

    kind: Literal["openai"]
    base_url: str = Field(pattern=r"^https?://", description="e.g. http://127.0.0.1:8000/v1")
    model: str = Field(min_length=1)
    api_key_env: str | None = Field(default=None, description="environment variable holding the key")
    system_prompt: str | None = Field(default=None, description="sent before each question, if given")
    max_tokens: int = Field(default=400, ge=1, le=8192)
    temperature: float = Field(default=0.0, ge=0, le=2)
    calls: Calls = Field(default_factory=Calls)


class HttpResponse(_Strict):
    """JMESPath expressions into the system's JSON reply."""

    answer: str = Field(min_length=1)
    sources: str | None = None
    handed_over: str | None = None

    @field_validator("answer", "sources", "handed_over")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            import jmespath
            from jmespath.exceptions import JMESPathError

            try:
                jmespath.compile(value)
            except JMESPathError as exc:
                raise ValueError(f"not a JMESPath expression: {exc}") from None
        return value


class HttpSystem(_Strict):
    """Any JSON HTTP API: a request template filled per question, paths read from the reply."""

    kind: Literal["http"]
    url: str = Field(pattern=r"^https?://")
    method: Literal["POST", "PUT", "GET"] = "POST"
    headers_env: dict[str, str] = Field(
        default_factory=dict, description="header name -> environment variable holding its value"
    )
    request: Any = Field(
        default_factory=lambda: {"question": "{question}"},
        description="JSON template; the strings {question}, {language}, {session} and {turn} are filled in",
    )
    response: HttpResponse
    calls: Calls = Field(default_factory=Calls)


class PythonSystem(_Strict):
    """A Python object: a LangChain Runnable (`.invoke`) or a plain callable, given the question."""

    kind: Literal["python"]
    object: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$", description="package.module:callable")
    calls: Calls = Field(default_factory=Calls)


SystemSpec = Annotated[BuiltinSystem | OpenAISystem | HttpSystem | PythonSystem, Field(discriminator="kind")]
ExternalSpec = OpenAISystem | HttpSystem | PythonSystem
