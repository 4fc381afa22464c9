"""Python objects a lab could name as its assistant (`system: {kind: python, object: ...}`) in tests.

`langchain_bot` is a LangChain chain around `langchain_openai.ChatOpenAI`, pointed at the
OpenAI-compatible stand-in whose address is in LAB_BOT_URL (the set-up of the reported import race).
The others raise what a half-imported module raises, always or once per thread.
"""

from __future__ import annotations

import os
import threading
from typing import Any

HALF_IMPORTED = (
    "partially initialized module 'httpx' has no attribute 'Timeout' (most likely due to a circular import)"
)
_seen: set[str] = set()
_lock = threading.Lock()


def always_half_imported(inputs: dict[str, Any]) -> str:
    raise AttributeError(HALF_IMPORTED)


def half_imported_once(inputs: dict[str, Any]) -> str:
    """Fails the first call made from each dispatcher slot (thread name) as the race did, then answers."""
    with _lock:
        first = threading.current_thread().name not in _seen
        _seen.add(threading.current_thread().name)
    if first:
        raise AttributeError(HALF_IMPORTED)
    return "D'après la fiche « Carte d'identité » [S01] : la demande se fait en mairie."


def langchain_bot() -> Any:
    from langchain_core.runnables import RunnableLambda
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(
        base_url=os.environ["LAB_BOT_URL"],
        api_key="not-needed",
        model="lab-bot",
        max_retries=0,  # type: ignore[arg-type]
    )
    return RunnableLambda(lambda inputs: inputs["question"]) | model


chain = langchain_bot() if os.environ.get("LAB_BOT_URL") else None
