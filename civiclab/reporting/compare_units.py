"""What two compared runs share: units of replication to pair on, and survey responses not to test.

- **Shared units.** Two runs that asked the same questions (the same bank, personas and seed) measure
  each metric on the same units. Their difference is tested unit by unit: each shared question's mean
  in one run against its mean in the other (a sign-flip permutation test of the paired differences,
  `paired_mean_test`), so the question, not the repeated turn, is the unit, and the comparison is not
  that of two independent samples. The per-unit values are the runs' `units/*.json` artifacts
  (`civiclab.plugins.unit_values`).
- **The same responses.** Survey answers judge one version of a pilot. When both runs scored the same
  responses (the same digest in their `survey/import-report.json`), or declare that their answers judged
  the same pilot version (`survey.judged`), their acceptability figures are one judgement counted
  twice: they are shown, never tested against each other.
"""

from __future__ import annotations

import json
from pathlib import Path

from civiclab.plugins.unit_values import UNIT_VALUES_DIR, parse_unit_values
from civiclab.stats.significance import TestResult, paired_mean_test

UnitValues = dict[str, tuple[str, dict[str, tuple[float, int]]]]
"""metric -> (unit, unit id -> (sum, count))."""
SURVEY_REPORT = "survey/import-report.json"
MIN_SHARED_UNITS = 2
SAME_RESPONSES = "none (the same survey responses in both runs: one judgement of one pilot version, not two)"


def unit_values(folder: Path | None) -> UnitValues:
    """Every per-unit value a run's evaluators recorded (empty when none, or unreadable)."""
    from civiclab.store.files import UnsafeArtifact, read_artifact

    out: UnitValues = {}
    if folder is None or not (folder / UNIT_VALUES_DIR).is_dir():
        return out
    for path in sorted((folder / UNIT_VALUES_DIR).glob("*.json")):
        try:
            unit, metrics = parse_unit_values(read_artifact(folder, f"{UNIT_VALUES_DIR}/{path.name}"))
        except (OSError, ValueError, UnsafeArtifact):
            continue
        out.update({m: (unit, per_unit) for m, per_unit in metrics.items()})
    return out


def responses_digest(folder: Path | None) -> str | None:
    """What a run's survey answers judged: the declared pilot version (`survey.judged`), else the digest
    of the responses it scored (None: no survey, or an older run)."""
    from civiclab.store.files import UnsafeArtifact, read_artifact

    if folder is None:
        return None
    try:
        report = json.loads(read_artifact(folder, SURVEY_REPORT))
        judged, digest = report.get("judged"), report.get("responses_digest")
    except (OSError, ValueError, AttributeError, UnsafeArtifact):
        return None
    if judged:
        return f"judged:{judged}"
    return f"responses:{digest}" if digest else None


def paired_by_unit(metric: str, a: UnitValues, b: UnitValues) -> TestResult | None:
    """The paired test of `metric` over the units both runs measured it on, or None (too few shared)."""
    if metric not in a or metric not in b:
        return None
    unit, in_a = a[metric]
    other_unit, in_b = b[metric]
    shared = sorted(u for u in set(in_a) & set(in_b) if in_a[u][1] > 0 and in_b[u][1] > 0)
    if unit != other_unit or len(shared) < MIN_SHARED_UNITS:
        return None
    import numpy as np

    va = np.array([in_a[u][0] / in_a[u][1] for u in shared])
    vb = np.array([in_b[u][0] / in_b[u][1] for u in shared])
    result = paired_mean_test(va, vb)
    plural = "people" if unit == "person" else f"{unit}s"
    return TestResult(
        f"{result.test.replace('(paired)', '')}over {len(shared)} shared {plural} (paired)",
        result.p_value,
        result.delta,
        result.delta_low,
        result.delta_high,
        result.effect_name,
        result.effect,
        True,
        len(shared),
        len(shared),
    )
