"""Paths written in a spec file: resolved against the folder of that file, as pydantic field types.

Models get the folder from their validation context (`{"base_dir": ...}`); without it a relative path
is taken as written. The experiment spec and its `survey:` section both use these types.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, ValidationInfo


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    path = value if value.is_absolute() or base is None else Path(base) / value
    return path.resolve()


def _resolve_file(value: Path, info: ValidationInfo) -> Path:
    path = _resolve_path(value, info)
    if not path.exists():
        raise ValueError(f"file not found: {value}")
    return path


DataFile = Annotated[Path, AfterValidator(_resolve_file)]
"""A path to an existing file or folder, written relative to the spec file."""

OutputPath = Annotated[Path, AfterValidator(_resolve_path)]
"""A path written relative to the spec file that need not exist yet."""
