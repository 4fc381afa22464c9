"""Re-judging a signed run: its verdicts and recommendation, from its signed metrics and spec.

A statement signs the metrics and what the scorecard concluded from them. Both are claims of the
signer: one re-signed with the recommendation flipped is still a valid signature. `verify` judges
the signed metrics (`metrics.json`) against the criteria of the signed spec (`spec.yaml`) with the
scorecard's own functions, and the conclusion must be the one the statement, its recommendation tag
and `scorecard.json` state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from civiclab.evidence.signing.statement import subjects_of
from civiclab.evidence.verify.checks import same_number
from civiclab.evidence.verify.result import Check, failed, ok
from civiclab.store.schema import METRICS_FILE, RECOMMENDATION_TAG, SCORECARD_FILE, SPEC_COPY_FILE

if TYPE_CHECKING:
    from civiclab.records import Metric
    from civiclab.scoring.verdicts import Scorecard
    from civiclab.spec.experiment import CriterionSpec

NAME = "verdicts"

Conclusions = tuple[str, list[tuple[str, str, str | None, str]], dict[str, str]]
"""A recommendation, each criterion's (label, metric, segment, verdict), each dimension's verdict."""


class _Unjudged(Exception):
    """What stops the re-judging: the detail of the failed row."""


def _signed_file(folder: Path, statement: dict[str, Any], digests: dict[str, str], file: str) -> bytes | None:
    """The bytes of a file the statement signs, or None when they are not the signed ones."""
    from civiclab.store.files import read_artifact

    subjects = subjects_of(statement)
    if file not in subjects:
        raise _Unjudged(f"{file}: not in the signed statement, so the verdicts cannot be re-judged")
    if digests.get(file) != subjects[file]:
        return None  # the artifacts row names it
    return read_artifact(folder, file)


def _metrics(raw: bytes, statement: dict[str, Any]) -> list[Metric]:
    """The metrics of `metrics.json`, which must be exactly the values the statement signs."""
    from civiclab.records import Metric
    from civiclab.store.tracker import metric_rows

    try:
        metrics = [Metric.model_validate(m) for m in json.loads(raw)]
    except (ValueError, TypeError) as exc:
        raise _Unjudged(f"{METRICS_FILE}: unreadable: {str(exc).splitlines()[0]}") from None
    signed: dict[str, Any] = (statement.get("predicate") or {}).get("metrics") or {}
    rows = metric_rows(metrics)
    for key in sorted(set(rows) | set(signed)):
        if key not in rows or key not in signed or not same_number(rows[key], signed[key]):
            raise _Unjudged(
                f"{METRICS_FILE}: {key} is {rows.get(key)!r}, the statement signs {signed.get(key)!r}"
            )
    return metrics


def _criteria(raw: bytes, statement: dict[str, Any]) -> list[CriterionSpec]:
    """The criteria of `spec.yaml`, which must be the ones the run was made with (its signed params)."""
    import yaml
    from pydantic import ValidationError

    from civiclab.privacy.credentials import strip_credentials_in
    from civiclab.spec.experiment import ScorecardSpec
    from civiclab.spec.limits import safe_load
    from civiclab.store.tracker import flatten

    try:
        spec = safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise _Unjudged(f"{SPEC_COPY_FILE}: unreadable: {str(exc).splitlines()[0]}") from None
    section = (spec.get("scorecard") if isinstance(spec, dict) else None) or {}
    # The params are the spec as run, overrides included: a criterion changed between the file and the
    # run would be judged here against the wrong threshold.
    params: dict[str, str] = (statement.get("predicate") or {}).get("params") or {}
    as_run = {k: v for k, v in params.items() if k.startswith("scorecard.")}
    in_file = flatten(strip_credentials_in({"scorecard": section}))
    for key in sorted(set(as_run) | set(in_file)):
        if as_run.get(key) != in_file.get(key):
            raise _Unjudged(
                f"{SPEC_COPY_FILE}: {key} is {in_file.get(key)!r}, the run was made with {as_run.get(key)!r}"
            )
    try:
        return ScorecardSpec.model_validate(section).criteria
    except ValidationError as exc:
        raise _Unjudged(f"{SPEC_COPY_FILE}: scorecard: {str(exc).splitlines()[0]}") from None


def _conclusions(card: Scorecard) -> Conclusions:
    criteria: list[tuple[str, str, str | None, str]] = [
        (c.label, c.metric, c.segment, c.verdict) for c in card.criteria
    ]
    return card.recommendation, criteria, {d.dimension: d.verdict for d in card.dimensions}


def _compare(
    where: str,
    judged: Conclusions,
    stated: Conclusions,
) -> str | None:
    """The first difference between what the metrics give and what `where` states, or None."""
    recommendation, criteria, dimensions = judged
    if stated[0] != recommendation:
        return f"the signed metrics give {recommendation.upper()}, {where} says {str(stated[0]).upper()}"
    if len(stated[1]) != len(criteria):
        return f"the signed spec has {len(criteria)} criteria, {where} judges {len(stated[1])}"
    for mine, theirs in zip(criteria, stated[1], strict=True):
        if mine != theirs:
            label = mine[0] + (f" [{mine[2]}]" if mine[2] else "")
            return f"criterion {label!r}: the signed metrics give {mine[3]}, {where} says {theirs[3]}"
    for dimension in sorted(set(dimensions) | set(stated[2])):
        if dimensions.get(dimension) != stated[2].get(dimension):
            return (
                f"dimension {dimension}: the signed metrics give {dimensions.get(dimension)}, "
                f"{where} says {stated[2].get(dimension)}"
            )
    return None


def _stated(statement: dict[str, Any]) -> Conclusions:
    card = (statement.get("predicate") or {}).get("scorecard") or {}
    criteria = [
        (str(c.get("label")), str(c.get("metric")), c.get("segment"), str(c.get("verdict")))
        for c in card.get("criteria") or []
    ]
    return (
        str(card.get("recommendation")),
        criteria,
        {str(k): str(v) for k, v in (card.get("dimensions") or {}).items()},
    )


def _rules(folder: Path, statement: dict[str, Any], digests: dict[str, str]) -> int:
    """The scorecard version the run was judged by, from its signed scorecard (else the current one).

    A run signed under older rules is re-judged under them, so its verdicts keep holding after the
    rules change; a version civiclab does not know is judged by the current rules (and differs).
    """
    from civiclab.scoring.verdicts import SCORECARD_VERSION

    try:
        raw = _signed_file(folder, statement, digests, SCORECARD_FILE)
        version = json.loads(raw).get("version") if raw is not None else None
    except (_Unjudged, ValueError, OSError, AttributeError):
        return SCORECARD_VERSION
    if isinstance(version, int) and not isinstance(version, bool) and 1 <= version <= SCORECARD_VERSION:
        return version
    return SCORECARD_VERSION


def check_verdicts(folder: Path, statement: dict[str, Any], digests: dict[str, str]) -> Check:
    """Judge the signed metrics against the signed spec's criteria; every statement of the result must agree.

    Args:
        digests: sha256 of every file of the folder (a file that is not the signed one is not judged:
            the artifacts row names it).
    """
    from civiclab.scoring.scorecard import build_scorecard
    from civiclab.scoring.verdicts import Scorecard

    predicate = statement.get("predicate") or {}
    try:
        metrics_raw = _signed_file(folder, statement, digests, METRICS_FILE)
        spec_raw = _signed_file(folder, statement, digests, SPEC_COPY_FILE)
        if metrics_raw is None or spec_raw is None:
            return Check(
                name=NAME, status="skipped", detail="a file they are judged from is not the signed one"
            )
        metrics = _metrics(metrics_raw, statement)
        criteria = _criteria(spec_raw, statement)
    except (_Unjudged, OSError) as exc:
        return failed(NAME, str(exc))
    card = build_scorecard(
        experiment=str(predicate.get("experiment", "")),
        criteria=criteria,
        metrics=metrics,
        rules=_rules(folder, statement, digests),
    )
    judged = _conclusions(card)
    problem = _compare("the statement", judged, _stated(statement))
    tag = (predicate.get("tags") or {}).get(RECOMMENDATION_TAG)
    if problem is None and tag is not None and tag != card.recommendation:
        problem = f"the signed metrics give {card.recommendation.upper()}, the signed tag {RECOMMENDATION_TAG} says {tag.upper()}"
    if problem is None:
        try:
            scorecard_raw = _signed_file(folder, statement, digests, SCORECARD_FILE)
            if scorecard_raw is not None:
                problem = _compare(
                    SCORECARD_FILE, judged, _conclusions(Scorecard.model_validate_json(scorecard_raw))
                )
        except _Unjudged as exc:
            problem = str(exc)
        except (ValueError, OSError) as exc:
            problem = f"{SCORECARD_FILE}: unreadable: {str(exc).splitlines()[0]}"
    if problem is not None:
        return failed(NAME, problem)
    return ok(
        NAME,
        f"{card.recommendation.upper()}: {len(card.criteria)} criteria and {len(card.dimensions)} dimensions "
        f"re-judged from the signed metrics and {SPEC_COPY_FILE}, as the statement says",
    )
