"""One generic registry for pilots and evaluators, filled by decorators and entry points."""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from civiclab.errors import RegistryError
from civiclab.plugins.installed import installed as _installed

T = TypeVar("T")

PILOT_GROUP = "civiclab.pilots"
EVALUATOR_GROUP = "civiclab.evaluators"


class NoParams(BaseModel):
    """Parameters of a component that takes none."""

    model_config = ConfigDict(extra="forbid")


class Registry(Generic[T]):
    """Named components of one kind; duplicates raise, unknown names suggest close matches."""

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._items: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str, item: T) -> None:
        """Add `item` under `name`; a second registration of the same name raises."""
        if name in self._items:
            raise RegistryError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = item

    def _load(self, ep: EntryPoint) -> None:
        try:
            ep.load()
        except Exception as exc:  # a broken plugin is a warning, not a crash
            warnings.warn(
                f"civiclab: {self.kind} plugin {ep.name!r} ({ep.value}) failed to load: {exc}",
                stacklevel=3,
            )

    def _load_entry_points(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for ep in _installed(self.group):
            if ep.name not in self._items:
                self._load(ep)

    def _find(self, name: str) -> None:
        """Load `name` alone when it is an installed plugin: a spec needs its own pilot, not every one."""
        if name in self._items or self._loaded:
            return
        for ep in _installed(self.group):
            if ep.name == name:
                self._load(ep)
        if name not in self._items:
            self._load_entry_points()  # registered under another entry point's name, or unknown

    def get(self, name: str) -> T:
        """Return the component called `name`, or raise naming the valid choices."""
        self._find(name)
        try:
            return self._items[name]
        except KeyError:
            self._load_entry_points()
            close = difflib.get_close_matches(name, self._items, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            choices = ", ".join(sorted(self._items)) or "none"
            raise RegistryError(f"unknown {self.kind} {name!r}: {hint}known: {choices}") from None

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self._find(name)
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        self._load_entry_points()
        return iter([self._items[n] for n in sorted(self._items)])


@dataclass(frozen=True)
class PilotInfo:
    """A registered pilot: its class, its parameters model and what it is for."""

    name: str
    factory: Callable[..., Any]
    params: type[BaseModel]
    description: str


@dataclass(frozen=True)
class EvaluatorInfo:
    """A registered evaluator: the function computing metrics and how to read them."""

    name: str
    fn: Callable[..., Any]
    params: type[BaseModel]
    dimension: str
    description: str
    metrics: dict[str, str] = field(default_factory=dict)


pilots: Registry[PilotInfo] = Registry("pilot", PILOT_GROUP)
evaluators: Registry[EvaluatorInfo] = Registry("evaluator", EVALUATOR_GROUP)

F = TypeVar("F", bound=Callable[..., Any])


def _doc_line(obj: Any) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""


def pilot(name: str, *, params: type[BaseModel] = NoParams) -> Callable[[F], F]:
    """Register a pilot class (a subclass of `civiclab.Pilot`) under `name`.

    Args:
        name: the `pilot.kind` an experiment uses.
        params: the pydantic model of `pilot.params` (use `extra="forbid"`).
    """

    def wrap(factory: F) -> F:
        pilots.register(name, PilotInfo(name, factory, params, _doc_line(factory)))
        return factory

    return wrap


def evaluator(
    name: str,
    *,
    dimension: str,
    params: type[BaseModel] = NoParams,
    metrics: dict[str, str] | None = None,
) -> Callable[[F], F]:
    """Register an evaluator function `fn(run: RunData, params) -> list[Metric]` under `name`.

    Args:
        name: the name an experiment lists under `evaluators`.
        dimension: the family of evidence its metrics belong to.
        params: the pydantic model of its parameters.
        metrics: metric name -> one-line meaning, shown by `civiclab list evaluators`.
    """

    def wrap(fn: F) -> F:
        evaluators.register(
            name, EvaluatorInfo(name, fn, params, dimension, _doc_line(fn), dict(metrics or {}))
        )
        return fn

    return wrap
