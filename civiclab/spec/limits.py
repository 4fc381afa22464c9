"""Bounds on what civiclab reads, so a hostile or mistaken file fails fast instead of eating memory.

A YAML file can be small and still expand to gigabytes: one long string anchored once and
aliased ten thousand times is 143 KB on disk and 1 GB once every consumer (validation,
flattening into MLflow params, canonical JSON for the digest) has walked it. So the loader
counts alias nodes while it composes the document and stops at a small budget, and every file is
refused above a size limit before it is read.

The limits are settings (`CIVICLAB_MAX_SPEC_BYTES`, `CIVICLAB_MAX_DATA_BYTES`,
`CIVICLAB_MAX_YAML_ALIASES`), with their defaults in `civiclab.home`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from civiclab.errors import SpecError
from civiclab.home import int_setting


def max_spec_bytes() -> int:
    return int_setting("CIVICLAB_MAX_SPEC_BYTES")


def max_data_bytes() -> int:
    return int_setting("CIVICLAB_MAX_DATA_BYTES")


def max_yaml_aliases() -> int:
    return int_setting("CIVICLAB_MAX_YAML_ALIASES")


def human_bytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1_000_000 else f"{n / 1e3:.0f} KB" if n >= 1000 else f"{n} bytes"


def check_size(path: Path, limit: int, variable: str) -> int:
    """The size of `path`, or `SpecError` when it is over `limit` (named with the variable raising it)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SpecError(path, "", "file not found") from None
    except OSError as exc:
        raise SpecError(path, "", f"cannot read: {exc.strerror or exc}") from None
    if size > limit:
        raise SpecError(
            path,
            "",
            f"file is {human_bytes(size)}, over the {human_bytes(limit)} limit (set {variable} to raise it)",
        )
    return size


class AliasBudgetExceeded(yaml.YAMLError):
    """More alias nodes than the budget: refused before anything is expanded."""

    def __init__(self, budget: int, mark: Any) -> None:
        super().__init__(f"more than {budget} YAML aliases (*name): refused to expand them")
        self.problem = str(self)
        self.problem_mark = mark


class _Budget:
    """Counts alias nodes while composing, and stops past a budget (mixed into a safe loader)."""

    alias_budget: int | None = None  # None: the CIVICLAB_MAX_YAML_ALIASES setting
    _aliases = 0

    def _start_budget(self) -> None:
        self._aliases = 0
        self._budget = max_yaml_aliases() if self.alias_budget is None else self.alias_budget

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            self._aliases += 1
            if self._aliases > self._budget:
                raise AliasBudgetExceeded(self._budget, self.peek_event().start_mark)  # type: ignore[attr-defined]
        return super().compose_node(parent, index)  # type: ignore[misc]


class BudgetedSafeLoader(_Budget, yaml.SafeLoader):
    """`yaml.SafeLoader` that counts alias nodes while composing, and stops past a budget."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._start_budget()


if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser
    from yaml.composer import Composer
    from yaml.constructor import SafeConstructor
    from yaml.resolver import Resolver

    class _FastBudgetedSafeLoader(_Budget, Composer, CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        """The same, with libyaml scanning and parsing (≈3× faster) and the nodes composed in Python,
        where the alias budget is counted; same documents, same errors as `yaml.SafeLoader`."""

        def __init__(self, stream: Any) -> None:
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            Composer.__init__(self)
            self._start_budget()

    _LOADER: type[Any] = _FastBudgetedSafeLoader
else:  # pragma: no cover - PyYAML built without libyaml
    _LOADER = BudgetedSafeLoader


def safe_load(text: str, alias_budget: int | None = None) -> Any:
    """`yaml.safe_load` with an alias budget (default from CIVICLAB_MAX_YAML_ALIASES)."""
    budget = max_yaml_aliases() if alias_budget is None else alias_budget
    loader_class = type("Loader", (_LOADER,), {"alias_budget": budget})
    loader = loader_class(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
