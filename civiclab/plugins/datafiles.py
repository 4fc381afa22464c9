"""Checking, at `validate` time, every data file a run will read: a bad one fails before any run.

A survey response path that is a folder or `/etc/passwd` used to pass `validate` and give a
run whose only evidence was an evaluator error. Here each file the spec names is resolved and
checked the way its reader will read it: a regular file (or a folder where one is allowed),
within the size limit, and survey exports parsed with the survey's instruments.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from civiclab.errors import SpecError, SurveyError
from civiclab.spec.limits import human_bytes, max_data_bytes

if TYPE_CHECKING:
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


def check_survey_files(spec_path: Path, spec: ExperimentSpec) -> None:
    """Read every survey export the acceptability evaluator will read, as it will read it.

    Raises:
        SpecError: `survey.responses[i].path` is a folder, not an export, or unreadable.
    """
    survey = spec.survey
    if survey is None or not survey.responses:
        return
    from civiclab.survey.importer import read_export_file

    instruments = survey.load_instruments()
    for i, source in enumerate(survey.responses):
        try:
            report, _raw = read_export_file(
                source.path,
                instruments,
                format=source.format,
                columns=source.columns or None,
                segments=survey.segments,
                wave=source.wave,
                allow_missing_items=source.allow_missing_items,
            )
        except SurveyError as exc:
            problem = str(exc).removeprefix(f"{source.path}: ")
            raise SpecError(spec_path, f"survey.responses[{i}].path", f"{source.path}: {problem}") from None
        if report.rows and not report.accepted:
            raise SpecError(
                spec_path,
                f"survey.responses[{i}].path",
                f"{source.path}: none of its {report.rows} rows is usable (first: {report.rejected[0]})",
            )
