"""People's grades of sampled turns: one signed DSSE envelope per grade, kept beside the run.

A grade is an in-toto statement whose subject is the run's signed statement (as a review's is),
signed by a committee member's key. The envelopes live in a `labels` folder next to the run's
artifact folder, never in it: the run's signed files and manifest are never altered, and the judge
(which reads only the run's turns) never sees them. Only a grade that verifies counts: signed by an
active member of the trust file, for this run's statement, for a sampled turn, on the rubric's scale;
any other file is ignored and named, with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from civiclab.errors import SpecError
from civiclab.evidence.labels.sample import SCALE, LabelItem
from civiclab.evidence.signing.statement import STATEMENT_TYPE
from civiclab.store.schema import STATEMENT_FILE
from civiclab.store.tracker import Tracker

if TYPE_CHECKING:
    from civiclab.evidence.signing.keys import Signer
    from civiclab.evidence.signing.trust import TrustFile

LABEL_PREDICATE_TYPE = "https://civiclab.eu/attestations/label/v1"
LABELS_FOLDER = "labels"
MAX_GRADE_FILE = 64 * 1024


class GradeCheck(BaseModel):
    """One grade file and what was found: counted, or ignored with the reason."""

    model_config = ConfigDict(extra="forbid")

    file: str
    counted: bool
    problem: str = ""
    item: str = ""
    grade: str = ""
    grader: str = ""
    keyid: str = ""


def labels_folder(tracker: Tracker, run_id: str) -> Path:
    """Where a run's grades are kept: beside its artifact folder (a local store only).

    Raises:
        SpecError: the run's artifacts are on a remote store, where nothing can be kept beside them.
    """
    local = tracker.local_artifact_dir(run_id)
    if local is None:
        raise SpecError(run_id, LABELS_FOLDER, "grades are kept beside a run on a local store only")
    return labels_folder_beside(local)


def labels_folder_beside(local: Path) -> Path:
    """Where the grades of the run whose artifact folder is `local` are kept (see `labels_folder`)."""
    return (
        local.parent / LABELS_FOLDER if local.name == "artifacts" else local.with_name(local.name + ".labels")
    )


def run_statement_digest(folder: Path) -> str | None:
    """sha256 of the run's signed statement, or None for an unsigned run (which cannot be graded)."""
    from civiclab.evidence.signing.envelope import read_envelope
    from civiclab.store.files import UnsafeArtifact, read_artifact

    try:
        return read_envelope(read_artifact(folder, STATEMENT_FILE)).digest()
    except (FileNotFoundError, UnsafeArtifact):  # a link or an oversized file is never read
        return None


def grade_statement(
    *, run_id: str, statement_sha256: str, item: str, grade: str, comment: str, grader: str, signer: Signer
) -> dict[str, Any]:
    from civiclab.evidence.signing.keys import b64url

    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": f"run:{run_id}/{STATEMENT_FILE}", "digest": {"sha256": statement_sha256}}],
        "predicateType": LABEL_PREDICATE_TYPE,
        "predicate": {
            "version": 1,
            "run_id": run_id,
            "item": item,
            "grade": grade,
            "comment": comment,
            "grader": grader,
            "ts": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "signer": {"keyid": signer.keyid, "public_key": b64url(signer.public_key)},
        },
    }


def grade_file_name(item: str, keyid: str) -> str:
    # One file per (turn, member): grading a turn again replaces that member's earlier grade.
    return f"{item}.{re.sub(r'[^A-Za-z0-9_-]', '_', keyid)[:32]}.dsse.json"


def write_grade(
    folder: Path,
    *,
    run_id: str,
    statement_sha256: str,
    item: LabelItem,
    grade: str,
    comment: str,
    grader: str,
    signer: Signer,
) -> Path:
    """Sign one grade and store it as its own envelope (written whole, then renamed into place)."""
    from civiclab.evidence.signing.envelope import sign_statement

    if grade not in SCALE:
        raise SpecError(run_id, "grade", f"must be one of {', '.join(SCALE)}")
    statement = grade_statement(
        run_id=run_id,
        statement_sha256=statement_sha256,
        item=item.item,
        grade=grade,
        comment=comment,
        grader=grader,
        signer=signer,
    )
    envelope = sign_statement(statement, signer)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / grade_file_name(item.item, signer.keyid)
    partial = path.with_suffix(".partial")
    partial.write_text(envelope.to_json(), encoding="utf-8")
    os.replace(partial, path)
    return path


def check_grade(
    path: Path, *, run_id: str, statement_sha256: str | None, items: set[str], trust: TrustFile | None
) -> GradeCheck:
    """Whether one grade file counts: signed by an active member, for this run, a sampled turn, the scale."""
    from civiclab.errors import SigningError
    from civiclab.evidence.signing.envelope import read_envelope, verify_signature

    def ignored(why: str, **known: str) -> GradeCheck:
        return GradeCheck(file=path.name, counted=False, problem=why, **known)

    if path.is_symlink() or not path.is_file():
        return ignored("not a regular file (a link is never followed)")
    if path.stat().st_size > MAX_GRADE_FILE:
        return ignored("larger than a grade can be")
    try:
        envelope = read_envelope(path.read_bytes())
        statement = envelope.statement()
    except SigningError as exc:
        return ignored(f"not a signed grade ({str(exc).splitlines()[0]})")
    found = statement.get("predicate")
    predicate: dict[str, Any] = found if isinstance(found, dict) else {}
    known = {
        "item": str(predicate.get("item", "")),
        "grade": str(predicate.get("grade", "")),
        "grader": str(predicate.get("grader", "")),
    }
    if trust is None:
        return ignored("no trust file: the grade cannot be attributed", **known)
    keyid = verify_signature(envelope, trust.member_keys())
    if keyid is None:
        return ignored("its signature does not verify with a committee key", **known)
    member = trust.member(keyid)
    known["keyid"] = keyid
    if member is None or not member.active:
        return ignored("signed by a key that is not an active member's", **known)
    known["grader"] = member.name  # the trust file names the signer, not the statement
    if statement.get("predicateType") != LABEL_PREDICATE_TYPE or predicate.get("run_id") != run_id:
        return ignored("not a grade of this run", **known)
    subject = {s.get("name"): s.get("digest", {}).get("sha256") for s in statement.get("subject", [])}
    if statement_sha256 is None or subject.get(f"run:{run_id}/{STATEMENT_FILE}") != statement_sha256:
        return ignored("made for another state of the run", **known)
    if known["item"] not in items:
        return ignored("grades a turn that is not in the sample", **known)
    if known["grade"] not in SCALE:
        return ignored("a grade that is not on the rubric's scale", **known)
    return GradeCheck(file=path.name, counted=True, **known)


def check_grades(
    folder: Path, *, run_id: str, statement_sha256: str | None, items: set[str], trust: TrustFile | None
) -> list[GradeCheck]:
    """Every file of the labels folder, checked (a missing folder: no grades yet)."""
    if not folder.is_dir():
        return []
    return [
        check_grade(p, run_id=run_id, statement_sha256=statement_sha256, items=items, trust=trust)
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.endswith(".partial")
    ]


def grades_json(checks: list[GradeCheck]) -> str:
    return json.dumps([c.model_dump() for c in checks], indent=1)
