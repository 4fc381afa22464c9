"""Per-session observations read from a run's sessions.jsonl, so that comparisons can test them.

A metric is tested on sessions when its name says what each session contributes:
- rates: `completion_rate` (outcome completed), `resolution_rate` (completed or handed to a human),
  `abandonment_rate`, `escalation_rate`, `failure_rate`, `fallback_rate` (data.fallback_used);
- durations: `duration_s` (mean over sessions), `time_on_task_median_s` / `time_on_task_p90_s`
  (median / 90th percentile of completed sessions' durations);
- `offline_resolution_rate`: of sessions that failed online and did not finish online, resolved
  through a phone, a counter or a human;
- any numeric or boolean field of a session's `data`: a metric named after it is compared on its mean.
A session for which an observation is undefined (`human_reachable_on_failure` of a session that never
failed online, stored as null) is left out of that observation's test (`defined`), never counted as
false. Other metrics are compared through the intervals stored in metrics.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATES: dict[str, tuple[str, ...]] = {
    "completion_rate": ("completed",),
    "resolution_rate": ("completed", "escalated_to_human"),
    "abandonment_rate": ("abandoned",),
    "escalation_rate": ("escalated_to_human",),
    "failure_rate": ("failed",),
}
# metric suffix -> (observation, statistic)
DURATIONS: dict[str, tuple[str, str]] = {
    "duration_s": ("duration_s", "mean"),
    "duration_mean_s": ("duration_s", "mean"),
    "time_on_task_median_s": ("time_on_task_s", "median"),
    "time_on_task_p90_s": ("time_on_task_s", "p90"),
    "time_on_task_mean_s": ("time_on_task_s", "mean"),
}


@dataclass
class Observations:
    """One row per session: identity (for pairing), segment, binary and numeric observations."""

    session_ids: list[str]
    personas: list[str]
    segments: list[dict[str, str]]
    binary: dict[str, np.ndarray] = field(default_factory=dict)
    numeric: dict[str, np.ndarray] = field(default_factory=dict)
    defined: dict[str, np.ndarray] = field(default_factory=dict)
    """Per binary observation, which sessions it applies to (absent: all of them)."""

    def applies(self, key: str) -> np.ndarray:
        return self.defined.get(key, np.ones(len(self), dtype=bool))

    def __len__(self) -> int:
        return len(self.session_ids)

    def pairs_with(self, other: Observations) -> bool:
        """Sessions pair when both runs have the same session ids with the same personas."""
        return len(self) > 0 and sorted(zip(self.session_ids, self.personas, strict=True)) == sorted(
            zip(other.session_ids, other.personas, strict=True)
        )

    def order_like(self, other: Observations) -> np.ndarray:
        """Indices that put this run's sessions in the order of `other`'s (for paired tests)."""
        where = {sid: i for i, sid in enumerate(self.session_ids)}
        return np.array([where[sid] for sid in other.session_ids], dtype=int)

    def mask(self, segment: str) -> np.ndarray:
        """Sessions of `attribute=value`, or of an intersection `a=x&b=y`."""
        parts = [part.partition("=") for part in segment.split("&")]
        return np.array([all(s.get(a) == v for a, _, v in parts) for s in self.segments], dtype=bool)


def read_observations(path: Path) -> Observations:
    """Parse sessions.jsonl into observations; lines that are not session records are skipped."""
    ids: list[str] = []
    personas: list[str] = []
    segments: list[dict[str, str]] = []
    outcomes: list[str] = []
    durations: list[float] = []
    data_rows: list[dict[str, object]] = []
    paths: list[list[str]] = []
    import io
    import os

    from civiclab.store.files import open_artifact

    with io.TextIOWrapper(os.fdopen(open_artifact(path.parent, path.name), "rb"), encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if not isinstance(rec, dict) or "session_id" not in rec:
                continue
            ids.append(str(rec["session_id"]))
            personas.append(str(rec.get("persona_id", "")))
            segments.append({str(k): str(v) for k, v in (rec.get("segment") or {}).items()})
            outcomes.append(str(rec.get("outcome", "")))
            try:
                durations.append(float(rec.get("duration_s", float("nan"))))
            except (TypeError, ValueError):
                durations.append(float("nan"))
            data = rec.get("data")
            data_rows.append(data if isinstance(data, dict) else {})
            path_value = rec.get("channel_path")
            paths.append([str(c) for c in path_value] if isinstance(path_value, list) else [])
    outcome = np.array(outcomes, dtype=object)
    obs = Observations(ids, personas, segments)
    for name, outcomes_counted in RATES.items():
        obs.binary[name] = np.isin(outcome, outcomes_counted)
    duration = np.array(durations, dtype=float)
    obs.numeric["duration_s"] = duration
    obs.numeric["time_on_task_s"] = np.where(outcome == "completed", duration, np.nan)
    keys = sorted({k for row in data_rows for k in row})
    for key in keys:
        values = [row.get(key) for row in data_rows]
        present = [v for v in values if v is not None]
        if present and all(isinstance(v, bool) for v in present):
            if key == "fallback_used":
                obs.binary["fallback_rate"] = np.array([bool(v) for v in values], dtype=bool)
            obs.binary[f"data.{key}"] = np.array([bool(v) for v in values], dtype=bool)
            if len(present) < len(values):
                obs.defined[f"data.{key}"] = np.array([v is not None for v in values], dtype=bool)
        elif present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
            obs.numeric[f"data.{key}"] = np.array(
                [float(v) if isinstance(v, int | float) else np.nan for v in values], dtype=float
            )
    if "failed_online" in keys:
        # Mirrors evaluators.human_centered: those the digital journey did not serve, resolved by a person.
        human = {"phone", "counter", "mail", "video"}
        offline = [bool(human.intersection(p)) for p in paths]
        finished_online = (outcome == "completed") & ~np.array(offline, dtype=bool)
        failed = np.array([row.get("failed_online") is True for row in data_rows], dtype=bool)
        obs.binary["offline_resolution_rate"] = (outcome == "escalated_to_human") | (
            (outcome == "completed") & np.array(offline, dtype=bool)
        )
        obs.defined["offline_resolution_rate"] = failed & ~finished_online
    return obs


def observation_for(metric: str, obs: Observations) -> tuple[str, str, str] | None:
    """What a metric is on sessions: ("binary"|"numeric", observation key, statistic), or None."""
    suffix = metric.split(".", 1)[1] if "." in metric else metric
    if suffix in obs.binary and not suffix.startswith("data."):
        return "binary", suffix, "mean"
    if suffix in DURATIONS:
        key, stat = DURATIONS[suffix]
        return "numeric", key, stat
    if f"data.{suffix}" in obs.numeric:
        return "numeric", f"data.{suffix}", "mean"
    if f"data.{suffix}" in obs.binary:
        return "binary", f"data.{suffix}", "mean"
    return None
