"""What reports and comparisons read of a run: its scorecard, metrics, spec, manifest and sessions."""

from __future__ import annotations

import json
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from civiclab.errors import CivicLabError
from civiclab.evidence.manifest import Manifest
from civiclab.records import Metric
from civiclab.scoring.scorecard import Scorecard
from civiclab.store.schema import (
    FINISHED_VALUE,
    MANIFEST_FILE,
    METRICS_FILE,
    SCORECARD_FILE,
    SESSIONS_FILE,
    SPEC_COPY_FILE,
    STATUS_TAG,
)
from civiclab.store.tracker import RunSummary, Tracker


@dataclass
class RunRecord:
    """One run as a report sees it; anything the run lacks is None or empty, never invented."""

    summary: RunSummary
    folder: Path | None
    metrics: list[Metric]
    scorecard: Scorecard | None = None
    spec: dict[str, Any] = field(default_factory=dict)
    manifest: Manifest | None = None

    @property
    def run_id(self) -> str:
        return self.summary.run_id

    @property
    def sessions_path(self) -> Path | None:
        if self.folder is None:
            return None
        path = self.folder / SESSIONS_FILE
        return path if path.exists() else None

    @property
    def k(self) -> int:
        privacy = self.spec.get("privacy") or {}
        try:
            return int(privacy.get("k_anonymity", 5))
        except (TypeError, ValueError):
            return 5


def local_folder(artifact_uri: str) -> Path | None:
    """The run's artifact folder when the store keeps artifacts on this machine (no MLflow call)."""
    parsed = urllib.parse.urlparse(artifact_uri)
    if parsed.scheme in ("", "file"):
        return Path(urllib.parse.unquote(parsed.path))
    return None


def metrics_from_tracking(values: dict[str, float]) -> list[Metric]:
    """Metrics rebuilt from MLflow keys (`name`, `name/attribute/value`, `.ci_low`, `.ci_high`).

    Used when a run has no metrics.json (e.g. runs logged by other tools): units and directions are
    unknown there, and segment values are as MLflow stored them.
    """
    out: list[Metric] = []
    for key, value in sorted(values.items()):
        if key.endswith((".ci_low", ".ci_high")):
            continue
        name, _, rest = key.partition("/")
        segment = None
        if rest:
            attribute, _, seg_value = rest.partition("/")
            segment = f"{attribute}={seg_value}"
        lo, hi = values.get(f"{key}.ci_low"), values.get(f"{key}.ci_high")
        out.append(
            Metric(
                name=name,
                value=value,
                dimension=name.split(".", 1)[0],
                ci_low=lo,
                ci_high=hi,
                segment=segment,
            )
        )
    return out


def _read_artifact(folder: Path, name: str) -> bytes | None:
    """An artifact's bytes, or None when it is missing, a link, a special file or too large."""
    from civiclab.store.files import read_artifact

    try:
        return read_artifact(folder, name)
    except (OSError, CivicLabError):
        return None


def _read_json(folder: Path, name: str) -> Any:
    raw = _read_artifact(folder, name)
    try:
        return json.loads(raw) if raw is not None else None
    except ValueError:
        return None


class RunReader:
    """Opens runs of one store for reading; remote artifacts are downloaded into a temporary folder."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self._tmp = tempfile.TemporaryDirectory(prefix="civiclab-report-")

    def __enter__(self) -> RunReader:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._tmp.cleanup()

    def folder(self, summary: RunSummary) -> Path | None:
        local = local_folder(summary.artifact_uri)
        if local is not None:
            return local if local.exists() else None
        dst = Path(self._tmp.name) / summary.run_id
        dst.mkdir(exist_ok=True)
        return self.tracker.download(summary.run_id, dst)

    def load(self, run: str | RunSummary, *, files: bool = True) -> RunRecord:
        """A run's record; with files=False only what the tracking store holds (fast, for many runs)."""
        summary = self.tracker.get_run(run) if isinstance(run, str) else run
        folder = self.folder(summary) if files else None
        metrics: list[Metric] | None = None
        record = RunRecord(summary=summary, folder=folder, metrics=[])
        if folder is not None:
            raw = _read_json(folder, METRICS_FILE)
            if isinstance(raw, list):
                try:
                    metrics = [Metric.model_validate(m) for m in raw]
                except ValueError:
                    metrics = None
            card = _read_artifact(folder, SCORECARD_FILE)
            if card is not None:
                try:
                    record.scorecard = Scorecard.model_validate_json(card)
                except ValueError:
                    record.scorecard = None
            spec_raw = _read_artifact(folder, SPEC_COPY_FILE)
            if spec_raw is not None:
                try:
                    spec = yaml.safe_load(spec_raw.decode("utf-8", errors="replace"))
                    record.spec = spec if isinstance(spec, dict) else {}
                except yaml.YAMLError:
                    record.spec = {}
            manifest = _read_artifact(folder, MANIFEST_FILE)
            if manifest is not None:
                try:
                    record.manifest = Manifest.model_validate_json(manifest)
                except ValueError:
                    record.manifest = None
        record.metrics = metrics if metrics is not None else metrics_from_tracking(summary.metrics)
        return record

    def previous(self, summary: RunSummary) -> RunSummary | None:
        """The last finished run of the same experiment that started before this one."""
        # Only the status tag of every run is read; the one run chosen is then read in full
        # (reading every run's metrics took 8 s in a store of 1,000 runs).
        earlier = [
            r
            for r in self.tracker.list_run_heads([STATUS_TAG], summary.experiment)
            if r.run_id != summary.run_id
            and r.start_time < summary.start_time
            and r.tags.get(STATUS_TAG) == FINISHED_VALUE
        ]
        if not earlier:
            return None
        return self.tracker.get_run(max(earlier, key=lambda r: r.start_time).run_id)
