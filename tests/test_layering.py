"""The architecture, checked on the source. Each rule prints one line per offence, saying what to fix.

(a) Layers: each package of civiclab has a rank (LAYERS, lowest first); a module imports only modules
    of its own rank or lower. The ground types (errors, records, home) sit at the bottom, the public
    API (`civiclab/__init__.py`) and the command line (`civiclab/cli.py`) at the top.
(b) No import circle among first-party modules, nor among the parts of a package (its modules and
    sub-packages: `evidence/verify` and `evidence/review` may not need each other).
(c) No code module over 400 lines of code.
(d) civiclab's root holds only the public API, the command line and the ground types; every concern
    is a package.
(e) The built-in pilots and evaluators import only civiclab's public API (PUBLIC_MODULES), as a
    lab's own plugins must; KNOWN_EXCEPTIONS lists today's other imports, and may only shrink.
Built-ins are plugins: civiclab never imports them, and evaluators never import a pilot.

Every import counts, including those inside functions: a deferred import that only dodges a circle is
still a circle. Imports under `if TYPE_CHECKING:` count too (they are the same dependency for a reader).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("civiclab", "pilots", "evaluators")
BUILT_INS = ("pilots", "evaluators")
MAX_CODE_LINES = 400

LAYERS: tuple[tuple[str, ...], ...] = (
    ("civiclab.errors", "civiclab.records", "civiclab.home"),  # ground types
    ("civiclab.spec",),  # what a lab writes
    ("civiclab.stats",),  # how uncertainty is computed
    ("civiclab.privacy",),  # what may be shown, what must never be kept
    ("civiclab.web",),  # what the web features share
    ("civiclab.plugins",),  # pilots and evaluators: their contract and registry
    ("civiclab.text",),
    ("civiclab.scoring",),  # from metrics to verdicts
    ("civiclab.survey",),
    ("civiclab.store",),  # where a run is stored
    ("civiclab.evm",),
    ("civiclab.evidence",),  # why a run can be trusted
    ("civiclab.run",),
    ("civiclab.reporting",),
    ("civiclab.desk",),  # shows reports: above reporting
    ("civiclab", "civiclab.cli"),  # the public API and the command line (the root module itself only)
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}

ROOT_FILES = frozenset({"__init__.py", "cli.py", "errors.py", "records.py", "home.py", "py.typed"})

PUBLIC_MODULES = frozenset(
    {
        "civiclab",
        "civiclab.text",
        "civiclab.survey",
        "civiclab.evm",
        "civiclab.privacy.redaction",
        "civiclab.store.schema",  # the names of tags and files, which evaluators read
        "civiclab.web",  # CSRF tokens, security headers and limits, for a pilot's participant pages
    }
)
"""What a plugin may import: the package root's `__all__` and the public feature packages, each its `__all__`."""

KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}
"""(built-in module, internal civiclab module) imports the public API cannot serve yet. Only shrinks."""

TEMPORARY_CIRCLE_EDGES: dict[tuple[str, str], str] = {}
"""Imports that close a circle between the parts of evidence/ (being untangled); only shrinks."""


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


# (a) layers ---------------------------------------------------------------------------------------


def _layer(module: str) -> int | None:
    """The rank of the package `module` belongs to (the bare root `civiclab` is only itself)."""
    name = module
    while name:
        if name in RANK and (name != "civiclab" or module == "civiclab"):
            return RANK[name]
        name = name.rpartition(".")[0]
    return None


def _layer_name(rank: int) -> str:
    return LAYERS[rank][0].removeprefix("civiclab.")


def layer_offences(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """One line per civiclab module in no layer, and per import of a higher layer."""
    offences: list[str] = []
    for module, targets in sorted(graph.items()):
        if _top(module) != "civiclab":
            continue
        rank = _layer(module)
        if rank is None:
            offences.append(f"{module} is in no layer: add its package to LAYERS in tests/test_layering.py")
            continue
        for target in sorted(targets):
            target_rank = _layer(target) if _top(target) == "civiclab" else None
            if target_rank is not None and target_rank > rank:
                offences.append(
                    f"{module} ({_layer_name(rank)}) imports {target} ({_layer_name(target_rank)}, a higher "
                    "layer): move what it needs down, or pass it in"
                )
    return offences


def test_a_module_imports_only_its_own_layer_or_lower() -> None:
    offences = layer_offences(GRAPH)
    assert offences == [], "a lower layer imports a higher one:\n" + "\n".join(offences)


def test_layer_offences_name_the_import_and_the_unranked_module() -> None:
    graph = {
        "civiclab.errors": {"civiclab.privacy.credentials"},
        "civiclab.privacy.credentials": {"civiclab.errors"},
        "civiclab.stats.aggregates": {"civiclab"},
        "civiclab.newthing.module": set(),
        "civiclab.cli": {"civiclab", "civiclab.desk.app"},
    }
    offences = layer_offences(graph)
    assert len(offences) == 3
    assert offences[0].startswith(
        "civiclab.errors (errors) imports civiclab.privacy.credentials (privacy, a higher layer)"
    )
    assert offences[1].startswith("civiclab.newthing.module is in no layer")
    assert offences[2].startswith(
        "civiclab.stats.aggregates (stats) imports civiclab (civiclab, a higher layer)"
    )


# built-ins are plugins ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "forbidden"), [("civiclab", "pilots"), ("civiclab", "evaluators"), ("evaluators", "pilots")]
)
def test_built_ins_are_never_imported_by_what_they_plug_into(layer: str, forbidden: str) -> None:
    offenders = sorted(
        f"{module} imports {target}: {layer}/ must not import {forbidden}/"
        for module, targets in GRAPH.items()
        if _top(module) == layer
        for target in targets
        if _top(target) == forbidden
    )
    assert offenders == [], "\n".join(offenders)


# (b) circles --------------------------------------------------------------------------------------


def _find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
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
            if colour.get(nxt) == 1:
                path = [name for name, _ in stack]
                return path[path.index(nxt) :] + [nxt]
            if colour.get(nxt) == 0:
                colour[nxt] = 1
                stack.append((nxt, sorted(graph[nxt])))
    return None


def circle_offences(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """One line per import circle: each circle found is cut at its last edge and the search goes on."""
    remaining = {node: set(targets) for node, targets in graph.items()}
    offences: list[str] = []
    while (cycle := _find_cycle(remaining)) is not None:
        offences.append("import circle: " + " -> ".join(cycle) + ": move the shared part down, or pass it in")
        remaining[cycle[-2]].discard(cycle[-1])
    return offences


def _without_own_descendants(graph: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    # a package's __init__ re-exporting its own submodules is not a circle a reader has to untangle:
    # the submodule never needs the package body. Drop edges from a package to its own descendants.
    return {
        module: {t for t in targets if not t.startswith(module + ".")} for module, targets in graph.items()
    }


def _part(module: str) -> str:
    """The part of a package a module belongs to: `civiclab.evidence.verify` for its checks, `pilots.journey`."""
    depth = 3 if _top(module) == "civiclab" else 2
    return ".".join(module.split(".")[:depth])


def part_graph(
    graph: Mapping[str, Iterable[str]], ignored: Iterable[tuple[str, str]] = ()
) -> dict[str, set[str]]:
    """The imports between the parts of packages (modules and sub-packages), without `ignored` edges."""
    skip = set(ignored)
    parts: dict[str, set[str]] = {}
    for module, targets in _without_own_descendants(graph).items():
        here = _part(module)
        parts.setdefault(here, set())
        for target in targets:
            there = _part(target)
            if there != here and not there.startswith(here + ".") and (module, target) not in skip:
                parts[here].add(there)
                parts.setdefault(there, set())
    return parts


def test_no_import_circles_between_modules() -> None:
    offences = circle_offences(_without_own_descendants(GRAPH))
    assert offences == [], "\n".join(offences)


def test_no_import_circles_between_the_parts_of_a_package() -> None:
    offences = circle_offences(part_graph(GRAPH, TEMPORARY_CIRCLE_EDGES))
    assert offences == [], "\n".join(offences)
    stale = [
        f"TEMPORARY_CIRCLE_EDGES lists {importer} -> {imported}, no longer imported: remove it"
        for importer, imported in sorted(TEMPORARY_CIRCLE_EDGES)
        if imported not in GRAPH.get(importer, set())
    ]
    assert stale == [], "\n".join(stale)


def test_cycle_finder_reports_every_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}}
    cycle = _find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    assert _find_cycle({"a": {"b"}, "b": set()}) is None
    assert len(circle_offences(graph)) == 2
    modules = {
        "civiclab.evidence.review": {"civiclab.evidence.verify.legacy"},
        "civiclab.evidence.verify.legacy": set(),
    }
    modules["civiclab.evidence.verify.verification"] = {"civiclab.evidence.review"}
    assert _find_cycle(modules) is None  # no circle between modules...
    assert circle_offences(part_graph(modules)) != []  # ...but one between verify/ and review


# (c) module size ----------------------------------------------------------------------------------


def _code_lines(path: Path) -> int:
    """Non-blank lines that are not comments (docstrings count: they are part of the module)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def test_no_code_module_over_400_lines() -> None:
    too_long = sorted(
        f"{module} has {lines} lines of code (at most {MAX_CODE_LINES}): split it, one concept a module"
        for module, path in MODULES.items()
        if (lines := _code_lines(path)) > MAX_CODE_LINES
    )
    assert too_long == [], "\n".join(too_long)


# (d) civiclab's root ------------------------------------------------------------------------------


def root_offences(root: Path) -> list[str]:
    """One line per file at civiclab's root that is not allowed there, and per folder that is no layer."""
    offences: list[str] = []
    for entry in sorted(root.iterdir()):
        if entry.name == "__pycache__" or entry.name.startswith("."):
            continue
        if entry.is_dir():
            if not (entry / "__init__.py").is_file() or f"civiclab.{entry.name}" not in RANK:
                offences.append(
                    f"civiclab/{entry.name}/: a folder at civiclab's root is a concern package in LAYERS"
                )
        elif entry.name not in ROOT_FILES:
            offences.append(
                f"civiclab/{entry.name}: move it into the package of its concern "
                f"(only {', '.join(sorted(ROOT_FILES))} stay at civiclab's root)"
            )
    return offences


def test_civiclab_root_holds_only_the_public_api_cli_and_ground_types() -> None:
    offences = root_offences(ROOT / "civiclab")
    assert offences == [], "\n".join(offences)


def test_root_offences_name_a_stray_module_and_folder(tmp_path: Path) -> None:
    for name in ("__init__.py", "errors.py", "urls.py"):
        (tmp_path / name).write_text("", encoding="utf-8")
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "__init__.py").write_text("", encoding="utf-8")
    offences = root_offences(tmp_path)
    assert len(offences) == 2
    assert offences[0].startswith("civiclab/helpers/:") and offences[1].startswith(
        "civiclab/urls.py: move it"
    )


# (e) built-ins use the public API -----------------------------------------------------------------


def public_api_offences(
    graph: Mapping[str, Iterable[str]], known: Mapping[tuple[str, str], str] = KNOWN_EXCEPTIONS
) -> list[str]:
    """One line per built-in's import of an internal civiclab module, and per stale known exception."""
    offences = [
        f"{module} imports {target}: import it from civiclab (or make it public in PUBLIC_MODULES)"
        for module, targets in sorted(graph.items())
        if _top(module) in BUILT_INS
        for target in sorted(targets)
        if _top(target) == "civiclab" and target not in PUBLIC_MODULES and (module, target) not in known
    ]
    offences += [
        f"KNOWN_EXCEPTIONS lists {module} -> {target}, no longer imported: remove it"
        for module, target in sorted(known)
        if target not in graph.get(module, ())
    ]
    return offences


def test_built_ins_import_only_the_public_api() -> None:
    offences = public_api_offences(GRAPH)
    assert offences == [], "\n".join(offences)


def test_public_api_offences_name_new_and_stale_imports() -> None:
    graph = {"pilots.journey.pilot": {"civiclab", "civiclab.errors", "pilots.journey.model"}}
    assert public_api_offences(graph, {}) == [
        "pilots.journey.pilot imports civiclab.errors: import it from civiclab (or make it public in PUBLIC_MODULES)"
    ]
    stale = {("pilots.journey.pilot", "civiclab.store.tracker"): "gone"}
    assert public_api_offences({"pilots.journey.pilot": set()}, stale) == [
        "KNOWN_EXCEPTIONS lists pilots.journey.pilot -> civiclab.store.tracker, no longer imported: remove it"
    ]


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
