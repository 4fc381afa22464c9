"""What a worker on another machine needs to build the pilot: the experiment, and its data files' bytes.

A pilot reads its data (journey graph, knowledge base...) from paths resolved on the driver's machine.
A node of a cluster may lack them, or hold other bytes at the same path. The factory built here carries
the bytes of every file or folder the pilot's params name, with their sha256 (the digests the spec
digest already covers); a worker uses the file at the driver's path when its digest matches, and
otherwise unpacks the shipped bytes into a folder of its own and points the pilot's params there. So
the sessions run on the data the run's digest names, wherever they run.

The code (civiclab and the pilot's package) travels separately, as Ray `py_modules`
(`civiclab.run.executors.ray`); libraries the pilot imports must be installed on every node.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from civiclab.plugins.experiment import Experiment, file_digest
from civiclab.plugins.piloting import Pilot
from civiclab.run.building import build_pilot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShippedData:
    """A data file or folder as read on the driver: a folder travels as an uncompressed tar."""

    path: str
    digest: str
    folder: bool
    content: bytes

    @classmethod
    def read(cls, path: Path) -> ShippedData:
        if path.is_dir():
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w") as tar:
                tar.add(path, arcname=path.name)
            return cls(str(path), file_digest(path), True, buffer.getvalue())
        return cls(str(path), file_digest(path), False, path.read_bytes())

    def local_path(self) -> Path:
        """The driver's path when this node holds the same bytes there, else a local unpacked copy."""
        here = Path(self.path)
        if here.exists() and file_digest(here) == self.digest:
            return here
        target = Path(tempfile.gettempdir()) / "civiclab-data" / self.digest[:32] / here.name
        if not target.exists():
            self._unpack(target)
        log.info("data file %s: using the driver's copy shipped to %s", here.name, target)
        return target

    def _unpack(self, target: Path) -> None:
        # Actors of one node may unpack the same file at once: each writes aside, one rename wins.
        target.parent.mkdir(parents=True, exist_ok=True)
        aside = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
        if self.folder:
            with tarfile.open(fileobj=io.BytesIO(self.content), mode="r") as tar:
                tar.extractall(aside, filter="data")
            written = aside / target.name
        else:
            written = aside / target.name
            written.write_bytes(self.content)
        try:
            os.rename(written, target)
        except OSError:
            if not target.exists():
                raise


@dataclass(frozen=True)
class PortablePilotFactory:
    """Builds the experiment's pilot on any node that has civiclab and the pilot's code (picklable)."""

    experiment: Experiment
    workdir: Path | None
    data: tuple[ShippedData, ...]

    @classmethod
    def of(cls, experiment: Experiment, workdir: Path | None) -> PortablePilotFactory:
        """The factory for `experiment`, carrying every data file its pilot's params name.

        Evaluators run on the driver only: they are left out, so nodes need no evaluator package.
        """
        paths = sorted({p for p in paths_in(experiment.pilot_params) if p.exists()})
        light = dataclasses.replace(experiment, evaluators=[])
        return cls(light, workdir, tuple(ShippedData.read(p) for p in paths))

    def __call__(self) -> Pilot[Any]:
        moved = {Path(d.path): local for d in self.data if (local := d.local_path()) != Path(d.path)}
        experiment = self.experiment
        if moved:
            experiment = dataclasses.replace(
                experiment, pilot_params=with_paths(experiment.pilot_params, moved)
            )
        workdir = self.workdir
        if workdir is not None and not workdir.is_dir():  # the driver's run folder, on another machine
            workdir = Path(tempfile.mkdtemp(prefix="civiclab-work-"))
        return build_pilot(experiment, workdir)


def paths_in(value: Any) -> list[Path]:
    """Every path held by a params model, at any depth."""
    if isinstance(value, Path):
        return [value]
    if isinstance(value, BaseModel):
        return [p for name in type(value).model_fields for p in paths_in(getattr(value, name))]
    if isinstance(value, dict):
        return [p for item in value.values() for p in paths_in(item)]
    if isinstance(value, list | tuple):
        return [p for item in value for p in paths_in(item)]
    return []


def with_paths(value: Any, moved: dict[Path, Path]) -> Any:
    """A copy of `value` where every path in `moved` is replaced by its new place."""
    if isinstance(value, Path):
        return moved.get(value, value)
    if isinstance(value, BaseModel):
        changes = {name: with_paths(getattr(value, name), moved) for name in type(value).model_fields}
        return value.model_copy(update=changes)
    if isinstance(value, dict):
        return {key: with_paths(item, moved) for key, item in value.items()}
    if isinstance(value, list):
        return [with_paths(item, moved) for item in value]
    if isinstance(value, tuple):
        return tuple(with_paths(item, moved) for item in value)
    return value
