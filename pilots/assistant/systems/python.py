"""A Python object as the assistant: a LangChain Runnable (`.invoke`) or a plain callable.

It is given `{"question", "language", "session", "turn"}` and may return a string, a LangChain message
(its `.content`), or a mapping with `answer` and optionally `sources` and `handed_over`.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Mapping
from typing import Any

from pilots.assistant.systems.base import Question, Reply, SystemCallError, read_flag, read_sources
from pilots.assistant.systems.config import PythonSystem

# The standard library's modules that run processes, open files or sockets, or evaluate code. An experiment
# naming a Python object is code (whatever the module does, it does in the run); these are refused so
# that a spec cannot pass itself off as configuration while it reaches `os:system` or `builtins:eval`.
# fmt: off
REFUSED_MODULES = frozenset({
    "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "posixsubprocess", "pty", "signal",
    "multiprocessing", "concurrent", "threading", "thread", "asyncio",
    "shutil", "pathlib", "io", "tempfile", "glob", "fileinput", "mmap", "fcntl", "zipfile", "tarfile",
    "shelve", "dbm", "sqlite3", "pickle", "marshal",
    "sys", "builtins", "importlib", "runpy", "pkgutil", "zipimport", "code", "codeop", "pdb", "bdb",
    "ctypes", "gc", "venv", "ensurepip",
    "socket", "socketserver", "ssl", "select", "selectors", "urllib", "http", "ftplib", "smtplib", "xmlrpc",
    "webbrowser",
})
# fmt: on


def _refused_module(module: str | None) -> str | None:
    """The refused standard-library module `module` belongs to (`_io` is `io`), or None."""
    top = (module or "").split(".")[0].lstrip("_")
    return top if top in REFUSED_MODULES else None


def import_object(reference: str) -> Any:
    """`package.module:attr.path` -> the object; raises ValueError saying what is missing or refused."""
    module_name, _, attr_path = reference.partition(":")
    refused = _refused_module(module_name)
    if refused is not None:
        raise ValueError(_refusal(reference, refused))
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r}: {exc}") from None
    for part in attr_path.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ValueError(f"{module_name!r} has no attribute {attr_path!r}") from None
    refused = _refused_module(getattr(target, "__module__", None))
    if refused is not None:  # an object of a refused module, imported under another name
        raise ValueError(_refusal(reference, refused))
    if not (callable(target) or hasattr(target, "invoke")):
        raise ValueError(f"{reference!r} is neither callable nor a LangChain Runnable")
    return target


def _refusal(reference: str, module: str) -> str:
    return (
        f"{reference!r} is from the standard library's {module!r} module, which runs processes, opens files "
        "or sockets, or evaluates code: name the lab's own assistant object instead"
    )


class PythonObjectSystem:
    """Calls the object in-process; whatever it raises becomes a failed reply (via the dispatcher)."""

    remote = False

    def __init__(self, spec: PythonSystem) -> None:
        self.spec = spec
        self.name = f"python:{spec.object}"
        self.target = import_object(spec.object)

    def ask(self, question: Question) -> Reply:
        inputs = {
            "question": question.text,
            "language": question.language,
            "session": question.session,
            "turn": question.turn,
        }
        started = time.perf_counter()
        out = self.target.invoke(inputs) if hasattr(self.target, "invoke") else self.target(inputs)
        latency = time.perf_counter() - started
        if isinstance(out, str):
            return Reply(answer=out, latency_s=latency)
        if hasattr(out, "content") and isinstance(out.content, str):
            return Reply(answer=out.content, latency_s=latency)
        if isinstance(out, Mapping) and isinstance(out.get("answer"), str):
            return Reply(
                answer=out["answer"],
                sources=read_sources(out["sources"]) if "sources" in out else None,
                handed_over=read_flag(out.get("handed_over")),
                latency_s=latency,
            )
        raise SystemCallError(f"{self.spec.object} returned {type(out).__name__}, not an answer")

    def close(self) -> None:
        """The object belongs to its module: nothing of ours to release."""
