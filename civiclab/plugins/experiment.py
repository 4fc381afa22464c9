"""Load an experiment file into a validated, fully resolved `Experiment` (nothing runs)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from civiclab.errors import RegistryError, SpecError
from civiclab.plugins.datafiles import check_data_path, check_section_files
from civiclab.plugins.overrides import routed
from civiclab.plugins.registry import EvaluatorInfo, PilotInfo, evaluators, pilots
from civiclab.records import canonical_json
from civiclab.spec.experiment import ExperimentSpec, PersonaFile, PersonaSpec


@dataclass
class ResolvedEvaluator:
    info: EvaluatorInfo
    params: BaseModel


@dataclass
class Experiment:
    """A spec with everything it names resolved: pilot, evaluators, personas and data files."""

    path: Path
    spec: ExperimentSpec
    raw: dict[str, Any]
    pilot: PilotInfo
    pilot_params: BaseModel
    evaluators: list[ResolvedEvaluator]
    personas: list[PersonaSpec]
    data_files: dict[str, str] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def digest(self) -> str:
        """sha256 of the spec as run (with overrides) and of every data file it uses.

        The `executor` section is left out: where sessions ran (one process, a pool, a Ray cluster)
        changes no evidence, so a Ray run and a serial run share their digest and audit root, and a
        killed run may be resumed on another executor.
        """
        spec = {key: value for key, value in self.raw.items() if key != "executor"}
        return hashlib.sha256(canonical_json({"spec": spec, "files": self.data_files}).encode()).hexdigest()


def format_location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or str(part).startswith(("function-", "tagged")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def validation_to_spec_error(exc: ValidationError, file: str | Path, prefix: str = "") -> SpecError:
    """The first problem of a pydantic error as `FILE: field.path: what is wrong`."""
    first = exc.errors(include_url=False)[0]
    loc = tuple(
        p
        for p in first["loc"]
        if not (isinstance(p, str) and p.startswith(("list[", "union[", "constrained-")))
    )
    where = format_location(loc)
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "missing":
        message = "field required"
    head = message.split(": ", 1)[0]
    if ": " in message and _looks_like_path(head):
        # A model validator named the exact field in its message: more precise than `loc`.
        where = head if not where or head.startswith(where) else f"{where}.{head}"
        message = message.split(": ", 1)[1]
    full = ".".join(p for p in (prefix, where) if p)
    return SpecError(file, full or "(top level)", message)


def _looks_like_path(text: str) -> bool:
    import re

    return (
        re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?)*", text)
        is not None
    )


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, raising `SpecError` naming the file and line on bad syntax."""
    from civiclab.spec.limits import AliasBudgetExceeded, check_size, max_spec_bytes, safe_load

    if path.is_dir():
        raise SpecError(path, "", "is a folder, expected a YAML file")
    check_size(path, max_spec_bytes(), "CIVICLAB_MAX_SPEC_BYTES")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(path, "", "file not found") from None
    except UnicodeDecodeError as exc:
        raise SpecError(path, "", f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise SpecError(path, "", f"cannot read: {exc.strerror or exc}") from None
    try:
        return safe_load(text)
    except RecursionError:
        raise SpecError(path, "(yaml)", "malformed YAML: nested too deeply") from None
    except (ValueError, TypeError, OverflowError) as exc:
        # A scalar YAML resolves but cannot build, e.g. the timestamp 2026-13-45 (found by Hypothesis).
        raise SpecError(path, "(yaml)", f"malformed YAML value: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(yaml)"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        kind = "refused YAML" if isinstance(exc, AliasBudgetExceeded) else "malformed YAML"
        raise SpecError(path, where, f"{kind}: {problem}") from None


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(str(child.relative_to(path)).encode())
            h.update(child.read_bytes())
    else:
        h.update(path.read_bytes())
    return h.hexdigest()


def _collect_paths(value: Any, out: list[Path]) -> None:
    if isinstance(value, Path):
        out.append(value)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _collect_paths(getattr(value, name), out)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_paths(item, out)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_paths(item, out)


def load_personas(spec: ExperimentSpec, spec_path: Path) -> list[PersonaSpec]:
    source = spec.population.personas
    if isinstance(source, list):
        return source
    data = read_yaml(source)
    if isinstance(data, list):
        data = {"personas": data}
    try:
        return PersonaFile.model_validate(data).personas
    except ValidationError as exc:
        raise validation_to_spec_error(exc, source) from None


def load_experiment(path: str | Path, overrides: dict[str, Any] | None = None) -> Experiment:
    """Read, validate and resolve an experiment without running anything.

    Args:
        path: the experiment YAML file.
        overrides: dotted keys replacing values of the file, e.g. {"population.sessions": 50}; a key
            that names no section of an experiment is a pilot parameter (`civiclab.plugins.overrides`).

    Raises:
        SpecError: the file, a data file or a parameter is invalid (one line, names file and field).
    """
    spec_path = Path(path).resolve()
    raw = read_yaml(spec_path)
    if not isinstance(raw, dict):
        raise SpecError(spec_path, "(top level)", "an experiment must be a YAML mapping")
    for given, value in (overrides or {}).items():
        if value is None:
            continue
        dotted = routed(given, ExperimentSpec.model_fields)
        node = raw
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise SpecError(spec_path, dotted, "cannot override a non-mapping field")
        node[last] = value
    context = {"base_dir": spec_path.parent}
    try:
        spec = ExperimentSpec.model_validate(raw, context=context)
    except ValidationError as exc:
        raise validation_to_spec_error(exc, spec_path) from None

    try:
        pilot_info = pilots.get(spec.pilot.kind)
    except RegistryError as exc:
        raise SpecError(spec_path, "pilot.kind", str(exc)) from None
    try:
        pilot_params = pilot_info.params.model_validate(spec.pilot.params, context=context)
    except ValidationError as exc:
        raise validation_to_spec_error(exc, spec_path, "pilot.params") from None

    resolved: list[ResolvedEvaluator] = []
    for i, ref in enumerate(spec.evaluators):
        try:
            info = evaluators.get(ref.name)
        except RegistryError as exc:
            raise SpecError(spec_path, f"evaluators[{i}].name", str(exc)) from None
        try:
            params = info.params.model_validate(ref.params, context=context)
        except ValidationError as exc:
            raise validation_to_spec_error(exc, spec_path, f"evaluators[{i}].params") from None
        resolved.append(ResolvedEvaluator(info, params))

    personas = load_personas(spec, spec_path)

    files: list[Path] = []
    _collect_paths(spec, files)
    _collect_paths(pilot_params, files)
    for ev in resolved:
        _collect_paths(ev.params, files)
    data_files: dict[str, str] = {}
    for file in sorted(set(files)):
        if file.exists():
            check_data_path(spec_path, file)
            try:
                key = str(file.relative_to(spec_path.parent))
            except ValueError:
                key = str(file)
            data_files[key] = file_digest(file)

    # Resolving the evaluators loaded every plugin, so every section's check is registered by now.
    check_section_files(spec_path, spec)

    experiment = Experiment(
        path=spec_path,
        spec=spec,
        raw=raw,
        pilot=pilot_info,
        pilot_params=pilot_params,
        evaluators=resolved,
        personas=personas,
        data_files=data_files,
    )
    validate_hook = getattr(pilot_info.factory, "validate_experiment", None)
    if callable(validate_hook):
        validate_hook(experiment)
    return experiment
