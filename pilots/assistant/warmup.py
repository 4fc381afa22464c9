"""What a run loads on its own thread before the first question goes out.

Python imports a module once per process, under a lock per module; two threads importing modules that
import each other can each see the other's module half-built (`partially initialized module 'httpx' has
no attribute 'Timeout'`). A run used to load the name-redaction model on its main thread while the
dispatcher's threads made their first calls, and the clients imported their lazy parts right then. Here
every such module is imported, and the redaction model loaded, before any dispatch starts: dispatcher
threads then only use what is already whole.
"""

from __future__ import annotations

import importlib
import logging
import sys
import time

logger = logging.getLogger(__name__)

# The parts a client imports on its first call (found by recording the imports made on dispatcher
# threads), keyed by the package whose presence means the client is in use.
LAZY_PARTS: dict[str, tuple[str, ...]] = {
    "openai": (
        "jiter",
        "openai.pagination",
        "openai.resources.chat.completions.completions",
        "openai.lib.streaming.chat",
        "openai.lib._parsing",
    ),
    "langchain_core": (
        "langchain_core.env",
        "langchain_core.tracers.context",
        "langchain_core.tracers.langchain",
        "langchain_core.tracers.run_collector",
        "langchain_core.tracers.stdout",
        "langchain_core.messages.block_translators.langchain_v0",
    ),
}
_WARM_TEXT = "Bonjour, je suis Marie Dupont et j'habite à Belleval."


def import_client_parts() -> list[str]:
    """Import the lazy parts of every client already loaded in this process; returns what was imported."""
    import httpx  # noqa: F401 - the module of the reported race: whole before any thread calls out

    loaded: list[str] = []
    for package, parts in LAZY_PARTS.items():
        if package not in sys.modules:
            continue
        for name in parts:
            if name in sys.modules:
                continue
            try:
                importlib.import_module(name)
            except ImportError:  # another version of the client without this part: nothing to warm
                logger.debug("warm-up: %s is not in this version of %s", name, package)
                continue
            loaded.append(name)
    if "langchain_core" in sys.modules:
        # A first invoke sets up the callback machinery (tracers, context variables) on this thread.
        from langchain_core.runnables import RunnableLambda

        RunnableLambda(lambda value: value).invoke("warm-up")
    return loaded


def load_redaction_model() -> None:
    """Load the name model of the redaction now (it otherwise loads on the first free text)."""
    from civiclab.privacy.redaction import redact_text

    redact_text(_WARM_TEXT, ())


def warm_up() -> dict[str, float]:
    """Everything a session needs, loaded on this thread; returns the seconds each part took."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    load_redaction_model()
    seconds["redaction_model_load_s"] = time.perf_counter() - started
    started = time.perf_counter()
    import_client_parts()
    seconds["client_modules_s"] = time.perf_counter() - started
    return seconds
