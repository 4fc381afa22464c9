"""`--set PATH=VALUE`: a what-if on an experiment, without editing its file.

A path is dotted keys of the experiment (`population.sessions=500`, `privacy.k_anonymity=10`); a path
whose first key is not a section of an experiment is a field of the pilot's own parameters
(`assistance.france_services.staff=3` is `pilot.params.assistance.france_services.staff`). Values are
read as YAML scalars (`3`, `0.5`, `true`, `[a, b]`). The result is validated by the same models as the
file, so a wrong path or value is one line naming it, exit code 2.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from civiclab.errors import SpecError


def assignments(items: Iterable[str], spec_file: str | Path) -> dict[str, Any]:
    """`PATH=VALUE` strings as dotted overrides for `load_experiment`.

    Raises:
        SpecError: an item without `=`, an empty key, or a value that is not YAML.
    """
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        path, sep, text = item.partition("=")
        path = path.strip()
        if not sep or not path or any(not key for key in path.split(".")):
            raise SpecError(spec_file, f"--set {item}", "expected PATH=VALUE with a dotted PATH")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            raise SpecError(spec_file, f"--set {path}", f"{text!r} is not a YAML value") from None
        # YAML 1.1 reads 19:00 as the number 1140 (base 60): a time of day stays the text it was.
        out[path] = text.strip() if ":" in text and isinstance(value, int | float) else value
    return out


def routed(path: str, sections: Iterable[str]) -> str:
    """The experiment path an override writes: the pilot's parameters unless it names a section."""
    head = path.split(".", 1)[0]
    return path if head in set(sections) else f"pilot.params.{path}"
