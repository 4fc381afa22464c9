"""Checking, at `validate` time, every data file a run will read: a bad one fails before any run.

A survey response path that is a folder or `/etc/passwd` used to pass `validate` and give a
run whose only evidence was an evaluator error. Here each file the spec names is resolved and
checked the way its reader will read it: a regular file (or a folder where one is allowed),
within the size limit; and the files of a section are read by the check its reader registered
(`data_file_check`: survey exports are parsed with the survey's instruments).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from civiclab.errors import RegistryError, SpecError
from civiclab.spec.limits import human_bytes, max_data_bytes

if TYPE_CHECKING:  # the spec's models are loaded when an experiment is, not with `import civiclab`
    from civiclab.spec.experiment import ExperimentSpec


def check_data_path(spec_path: Path, path: Path) -> None:
    """A data path must be a regular file or a folder, and a file within CIVICLAB_MAX_DATA_BYTES.

    Devices and pipes (`/dev/zero`) would never finish reading; they are refused by name.
    """
    if path.is_dir():
        return
    if not path.is_file():
        raise SpecError(spec_path, str(path), "not a regular file (a device, a pipe or a socket?)")
    limit = max_data_bytes()
    size = path.stat().st_size
    if size > limit:
        raise SpecError(
            spec_path,
            str(path),
            f"file is {human_bytes(size)}, over the {human_bytes(limit)} limit (set CIVICLAB_MAX_DATA_BYTES)",
        )


SectionCheck = Callable[[Path, "ExperimentSpec"], None]
"""`check(spec_path, spec)`: raise `SpecError` naming the field when a file the section names cannot be read."""

_SECTION_CHECKS: dict[str, SectionCheck] = {}


def data_file_check(section: str) -> Callable[[SectionCheck], SectionCheck]:
    """Register the check of the data files an experiment section names, run by `validate` and `run`.

    The feature that reads the files registers it (the acceptability evaluator, for `survey:`), so that
    a file its reader would refuse fails when the experiment is loaded, not in the middle of a run.

    Raises:
        RegistryError: `section` is not a section of an experiment, or already has a check.
    """
    from civiclab.spec.experiment import ExperimentSpec

    if section not in ExperimentSpec.model_fields:
        raise RegistryError(f"data-file check for {section!r}: not a section of an experiment")

    def register(check: SectionCheck) -> SectionCheck:
        if _SECTION_CHECKS.get(section, check) is not check:
            raise RegistryError(f"the data files of {section!r} have a check registered twice")
        _SECTION_CHECKS[section] = check
        return check

    return register


def check_section_files(spec_path: Path, spec: ExperimentSpec) -> None:
    """Run the registered check of every section the experiment has, as the files' readers will read them.

    Raises:
        SpecError: a file a section names would be refused by its reader.
    """
    for section, check in sorted(_SECTION_CHECKS.items()):
        if getattr(spec, section) is not None:
            check(spec_path, spec)
