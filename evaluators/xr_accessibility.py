"""XR accessibility: each immersive step of the served scene against the W3C XR Accessibility User Requirements.

Reads the pilot's `scene` fact (what the generated page offers, per immersive step, see
`pilots/journey/participants/xaur.py`) and gives, for each requirement, the share of immersive steps
meeting it: a census of the scene's steps, not a sample.
"""

from __future__ import annotations

from pydantic import BaseModel

from civiclab import Metric, RunData, census, evaluator, metric_from

DIM = "xr_accessibility"


class SceneFacts(BaseModel):
    scene: dict[str, dict[str, object]] | None = None


@evaluator(
    "xr_accessibility",
    dimension=DIM,
    metrics={
        "xr_accessibility.<requirement>": "share of immersive steps meeting this XAUR requirement (captions, "
        "alternative_input, seated_use, motion_reduction, non_immersive_equivalent, stop_control, help_point)",
        "xr_accessibility.requirements_met": "share of (step, requirement) pairs met",
    },
)
def xr_accessibility(run: RunData, params: object) -> list[Metric]:
    """Each XAUR requirement over the immersive steps of the scene the pilot serves."""
    facts = run.facts_as(SceneFacts)
    scene = facts.scene if facts is not None else None
    if not scene or not scene.get("steps"):
        return [
            Metric(name=f"{DIM}.requirements_met", value=None, unit="share", dimension=DIM,
                   error="the pilot serves no immersive scene")
        ]  # fmt: skip
    steps: dict[str, dict[str, bool]] = scene["steps"]  # type: ignore[assignment]
    requirements: dict[str, str] = scene.get("requirements", {})  # type: ignore[assignment]
    out: list[Metric] = []
    every: list[bool] = []
    for name in sorted(requirements):
        met = [bool(checks.get(name)) for checks in steps.values()]
        every += met
        failing = [step for step, checks in steps.items() if not checks.get(name)]
        note = requirements[name] + (f"; not met at {', '.join(failing)}" if failing else "")
        out.append(
            metric_from(f"{DIM}.{name}", census(met, "immersive steps"), dimension=DIM, unit="share",
                        higher_is_better=True, note=note)
        )  # fmt: skip
    out.append(
        metric_from(f"{DIM}.requirements_met", census(every, "immersive steps x requirements"), dimension=DIM,
                    unit="share", higher_is_better=True)
    )  # fmt: skip
    return out
