"""What an assistant system is, for civiclab: something that answers one citizen question.

The built-in pipeline is one system among others; an OpenAI-compatible endpoint, a JSON HTTP API or a
Python object (a LangChain Runnable or a plain callable) are the others. The pilot only sees `Reply`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Side = Literal["endpoint", "civiclab"]
"""Who failed a turn: the system under test, or civiclab around it."""


@dataclass(frozen=True)
class Reply:
    """What a system returned for one question.

    `sources` is None when the system does not return sources at all (citations cannot be measured);
    `handed_over` is None when it has no hand-over flag (hand-over is then read from its words).
    """

    answer: str
    sources: list[str] | None = None
    handed_over: bool | None = None
    latency_s: float = 0.0
    error: str | None = None
    attempts: int = 1
    extra: dict[str, Any] = field(default_factory=dict)
    failed_by: Side | None = None
    failure: str | None = None  # timeout, connection, http_4xx, http_5xx, malformed, error | import, ...

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class Question:
    """One (already redacted) question and what the system may know of its context."""

    text: str
    language: str = "fr"
    session: str = ""
    turn: int = 0
    literacy: str = "high"  # the citizen's digital literacy (the built-in router reads it; others need not)


@runtime_checkable
class AssistantSystem(Protocol):
    """Anything that answers a question; it may raise, the dispatcher turns that into a failed reply."""

    name: str
    remote: bool

    def ask(self, question: Question) -> Reply:
        """Answer one question (sources and hand-over flag when the system has them)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class SystemCallError(Exception):
    """A system's reply could not be read (bad status, not JSON, a path that is not there).

    `failure` names the endpoint's failure: timeout, connection, http_4xx, http_5xx, malformed.
    """

    def __init__(self, message: str, failure: str = "malformed") -> None:
        super().__init__(message)
        self.failure = failure


class TransientError(SystemCallError):
    """A failure worth another attempt: timeout, connection refused, HTTP 429 or 5xx."""

    def __init__(self, message: str, failure: str = "timeout") -> None:
        super().__init__(message, failure)


def http_failure(status: int) -> str:
    return "http_5xx" if status >= 500 else "http_4xx"


def failure_of(exc: BaseException) -> tuple[Side, str]:
    """Which side a call's exception belongs to, and what kind of failure it is.

    civiclab's side: a module that is missing or still half-imported in this process (imports racing
    between threads), an error civiclab raises about itself. Everything else came from the system: its
    transport, its status, its reply, or (a Python object) whatever the lab's own code raised.
    """
    from civiclab import HarnessFault

    if isinstance(exc, SystemCallError):
        return "endpoint", exc.failure
    if isinstance(exc, ImportError) or (
        isinstance(exc, AttributeError) and "partially initialized module" in str(exc)
    ):
        return "civiclab", "import"
    if isinstance(exc, HarnessFault):
        return "civiclab", "harness"
    return "endpoint", "error"


def read_sources(value: Any) -> list[str] | None:
    """Sources as a list of strings: ids, URLs or titles; objects give their `id`, `url` or `title`."""
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, dict):
            item = next((item[k] for k in ("id", "sheet", "url", "title", "source") if k in item), None)
        if item is not None and str(item).strip():
            out.append(str(item).strip())
    return out


def read_flag(value: Any) -> bool | None:
    """A hand-over flag read leniently: booleans, 0/1, and the strings true/false/yes/no."""
    if value is None:
        return None
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "1", "oui", "human", "handover"):
            return True
        if lowered in ("false", "no", "0", "non", ""):
            return False
        raise SystemCallError(f"hand-over flag is not a boolean: {value[:40]!r}")
    return bool(value)
