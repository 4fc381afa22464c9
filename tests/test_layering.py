"""The layering the design promises, checked on the source: core never imports a pilot, evaluators
never import a pilot, first-party modules form no import circle, and no code module grows past 400 lines.

Every import counts, including those inside functions: a deferred import that only dodges a circle is
still a circle. Imports under `if TYPE_CHECKING:` count too (they are the same dependency for a reader).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("civiclab", "pilots", "evaluators")
MAX_CODE_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
    }


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The first-party module `name` refers to (a module, or the package holding a name)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path) -> set[str]:
    """First-party modules that `module` imports anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts)
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            # `from pkg import sub` imports the submodule `pkg.sub` when there is one
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            resolved = _resolve(target)
            if resolved and resolved != module:
                found.add(resolved)
    # importing a.b.c runs a/__init__ and a/b/__init__ first; those edges are the packages' own
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _top(module: str) -> str:
    return module.partition(".")[0]


@pytest.mark.parametrize("layer", ["civiclab", "evaluators"])
def test_layer_never_imports_a_pilot(layer: str) -> None:
    offenders = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _top(module) == layer
        for target in targets
        if _top(target) == "pilots"
    )
    assert offenders == [], f"{layer}/ must not import pilots/:\n" + "\n".join(offenders)


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path `a -> b -> ... -> a`, or None (iterative DFS, colours)."""
    colour = dict.fromkeys(graph, 0)  # 0 unseen, 1 on the stack, 2 done
    for start in sorted(graph):
        if colour[start]:
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        colour[start] = 1
        while stack:
            node, pending = stack[-1]
            if not pending:
                colour[node] = 2
                stack.pop()
                continue
            nxt = pending.pop()
            if colour[nxt] == 1:
                path = [name for name, _ in stack]
                return path[path.index(nxt) :] + [nxt]
            if colour[nxt] == 0:
                colour[nxt] = 1
                stack.append((nxt, sorted(graph[nxt])))
    return None


def test_no_import_circles() -> None:
    # a package's __init__ re-exporting its own submodules is not a circle a reader has to untangle:
    # the submodule never needs the package body. Drop edges from a package to its own descendants.
    graph = {
        module: {t for t in targets if not (module in MODULES and t.startswith(module + "."))}
        for module, targets in GRAPH.items()
    }
    cycle = _find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_cycle_finder_reports_the_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    cycle = _find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def _code_lines(path: Path) -> int:
    """Non-blank lines that are not comments (docstrings count: they are part of the module)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def test_no_code_module_over_400_lines() -> None:
    too_long = sorted(
        f"{module} ({lines} lines of code)"
        for module, path in MODULES.items()
        if (lines := _code_lines(path)) > MAX_CODE_LINES
    )
    assert too_long == [], "split these modules:\n" + "\n".join(too_long)


def test_verifying_never_imports_the_review_writer() -> None:
    """Review writes and verify reads: verify/ reads the review format from the module below both."""
    writer, record = "civiclab.evidence.review", "civiclab.evidence.review_record"
    offenders = sorted(
        f"{module} imports {writer}"
        for module, targets in GRAPH.items()
        if module.startswith("civiclab.evidence.verify") and writer in targets
    )
    assert offenders == [], "\n".join(offenders)
    assert not {
        t for t in GRAPH[record] if t.startswith(("civiclab.evidence.review", "civiclab.evidence.verify"))
    }
