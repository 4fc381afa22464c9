"""The turns people grade: a stratified random sample of a judged run's turns, redacted texts only.

The judge (`assistant_judge`) writes one grade per answered turn, in order, to `judge_grades.jsonl`;
the turns themselves are in the run's redacted `sessions.jsonl`. The sample is drawn per judge grade
(stratum) in proportion to its size, with at least one turn of each grade when the sample is large
enough, so a judge that rarely says "inappropriate" is still checked on those turns. It is seeded by
the run id: everyone grading a run grades the same turns, and anyone can draw the sample again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from civiclab.errors import SpecError
from civiclab.store.files import UnsafeArtifact, read_artifact
from civiclab.store.schema import SESSIONS_FILE
from civiclab.store.tracker import Tracker

JUDGE_GRADES_FILE = "judge_grades.jsonl"
JUDGE_RUBRIC_FILE = "judge_rubric.md"
SCALE: tuple[str, ...] = ("appropriate", "inappropriate")
"""The rubric's handling grade: the scale the judge and people grade on, and that kappa compares."""
DEFAULT_SIZE = 30


class LabelItem(BaseModel):
    """One judged turn: what people see (redacted question and answer) and the judge's grade (never shown)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item: str
    question: str
    answer: str
    handed_over: bool
    judge_grade: str


class JudgedRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str
    rubric: str
    items: list[LabelItem]


@contextlib.contextmanager
def run_folder(tracker: Tracker, run_id: str) -> Iterator[Path]:
    """The run's artifact folder: in place on a local store, else downloaded for the time of the block."""
    local = tracker.local_artifact_dir(run_id)
    if local is not None:
        yield local
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield tracker.download(run_id, Path(tmp))


def _jsonl(folder: Path, name: str) -> list[dict[str, Any]]:
    text = read_artifact(folder, name).decode("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def judged_turns(folder: Path, run_id: str) -> JudgedRun:
    """Every turn the judge graded, with its redacted texts and the judge's handling grade.

    Raises:
        SpecError: the run was not judged (no judge_grades.jsonl), or its files do not match.
    """
    if not (folder / JUDGE_GRADES_FILE).is_file():
        raise SpecError(run_id, JUDGE_GRADES_FILE, "the run was not judged (no assistant_judge grades)")
    grades = _jsonl(folder, JUDGE_GRADES_FILE)
    # The judge graded the answered turns ("ok"), in order: the same selection as the evaluator's.
    turns = [
        turn
        for record in _jsonl(folder, SESSIONS_FILE)
        for turn in (record.get("data") or {}).get("turns", [])
        if turn.get("status") == "ok"
    ]
    items = []
    for index, (turn, grade) in enumerate(zip(turns, grades, strict=False)):
        if turn.get("question_id") != grade.get("question_id"):
            raise SpecError(run_id, JUDGE_GRADES_FILE, f"line {index + 1} does not grade turn {index + 1}")
        if grade.get("handling") not in SCALE:
            continue  # a turn the judge could not grade has nothing to be checked against
        items.append(
            LabelItem(
                item=f"turn-{index + 1}",
                question=str(turn.get("question", "")),
                answer=str(turn.get("answer", "")),
                handed_over=turn.get("decision") == "handover",
                judge_grade=grade["handling"],
            )
        )
    try:
        rubric = read_artifact(folder, JUDGE_RUBRIC_FILE).decode("utf-8")
    except (FileNotFoundError, UnsafeArtifact):  # a link or an oversized file is never read
        rubric = ""
    return JudgedRun(run_id=run_id, rubric=rubric, items=items)


def seed_of(run_id: str) -> int:
    return int(hashlib.sha256(run_id.encode()).hexdigest()[:16], 16)


def allocation(sizes: dict[str, int], size: int) -> dict[str, int]:
    """How many turns of each stratum: proportional, largest remainders, at least one each if room."""
    total = sum(sizes.values())
    if total <= size:
        return dict(sizes)
    strata = sorted(sizes)
    share = {s: size * sizes[s] / total for s in strata}
    taken = {s: min(sizes[s], int(share[s])) for s in strata}
    if size >= len(strata):
        for s in strata:
            if taken[s] == 0 and sizes[s] > 0:
                taken[s] = 1
    by_remainder = sorted(strata, key=lambda s: (-(share[s] - int(share[s])), s))
    while sum(taken.values()) < size:
        for s in by_remainder:
            if sum(taken.values()) < size and taken[s] < sizes[s]:
                taken[s] += 1
    while sum(taken.values()) > size:  # the "at least one" pushed it over: take back from the largest
        largest = max(strata, key=lambda s: (taken[s], s))
        taken[largest] -= 1
    return taken


def stratified_sample(judged: JudgedRun, size: int = DEFAULT_SIZE) -> list[LabelItem]:
    """A random sample of `size` judged turns stratified by the judge's grade, seeded by the run id.

    The order is shuffled too, so people do not meet one grade's turns in a block.
    """
    if size < 1:
        raise SpecError(judged.run_id, "size", "the sample needs at least one turn")
    rng = random.Random(seed_of(judged.run_id))
    strata: dict[str, list[LabelItem]] = {}
    for item in judged.items:
        strata.setdefault(item.judge_grade, []).append(item)
    counts = allocation({g: len(v) for g, v in strata.items()}, size)
    chosen = [item for g in sorted(strata) for item in rng.sample(strata[g], counts[g])]
    rng.shuffle(chosen)
    return chosen


def load_sample(tracker: Tracker, run_id: str, size: int = DEFAULT_SIZE) -> tuple[JudgedRun, list[LabelItem]]:
    """The run's judged turns and the sample people grade."""
    with run_folder(tracker, run_id) as folder:
        judged = judged_turns(folder, run_id)
    return judged, stratified_sample(judged, size)
