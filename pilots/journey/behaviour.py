"""The documented behavioural model by which simulated personas walk a journey.

For each step a persona has a *capability* and the step has a *difficulty* for that persona:

- capability = literacy (none 0.15, low 0.40, medium 0.70, high 0.90) + age offset (18-39 +0.05,
  40-64 0, 65-79 −0.10, 80+ −0.20) + the persona's `ability` trait (default 0). On human channels
  (phone, counter) capability is 0.9 for everyone: a person, not a form, does the work.
- difficulty = 0.35·reading·R + 0.015·fields·F + 0.08·uploads + 0.12·identity check
  + 0.45·3D navigation·N + barriers, where the multipliers grow when an accessibility feature the
  persona needs is absent: R ×2 for a language other than French without `multilingual`, ×1.8 for
  a cognitive disability without `easy_read`, ×2.5 for a visual disability without `screen_reader`;
  F ×1.3 on a smartphone, ×1.6 for a motor disability without `keyboard_navigation`; N ×3 for a
  visual disability without `audio_description`. Barriers: audio without `captions` for a hearing
  disability +0.5; a headset step +0.3 for a motor disability without `seated_mode`, +0.2 at 80+;
  a phone step +0.4 for a hearing disability with `sign_language` offered (interpreted calls are slower).
- what a persona can use at all is `model.Access`: a headset step needs a headset, a digital step
  a device, a phone line without `sign_language` is out of reach of a deaf person; a persona with
  no digital literacy does not switch to a digital fallback on their own.
- each attempt succeeds with probability σ(6·(capability − difficulty) + 1.5), σ the logistic
  function; a persona tries up to `persistence` times (trait, default 3).
- time per attempt ~ LogNormal(ln(median·slowness), sigma) with slowness = 1 + 1.5·(1 − capability),
  +0.5 when a needed accessibility feature is missing.
- patience: a budget ~ LogNormal(ln(patience_s), 0.5) seconds, `patience_s` a trait (default by
  literacy: none 600, low 900, medium 1200, high 1500). Past it, the persona gives up the step.
- when a step is given up: switch to the declared fallback step on another channel if there is one
  (and `Access` allows it); else, if the persona could open the step and can use its assistance
  point's line, ask that point (a human) with probability
  `seek_help` (trait, default 0.8 − 0.4·literacy) — a human answers with the point's availability,
  after a wait ~ LogNormal(ln(wait_median_s), 0.5) — and the session is escalated to a human; else abandon.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from pilots.journey.model import HUMAN_CHANNELS, Access, Step

LITERACY = {"none": 0.15, "low": 0.40, "medium": 0.70, "high": 0.90}
AGE_OFFSET = {"18-24": 0.05, "25-39": 0.05, "40-64": 0.0, "65-79": -0.10, "80+": -0.20}
PATIENCE = {"none": 600.0, "low": 900.0, "medium": 1200.0, "high": 1500.0}


@dataclass(frozen=True)
class Profile:
    """The persona attributes and traits the model reads."""

    age_band: str
    digital_literacy: str
    disability: str
    language: str
    device: str
    ability: float = 0.0
    persistence: int = 3
    patience_s: float = 1200.0
    seek_help: float = 0.5

    @property
    def access(self) -> Access:
        return Access(device=self.device, digital_literacy=self.digital_literacy, disability=self.disability)

    @classmethod
    def from_plan(cls, segment: dict[str, str], traits: dict[str, float]) -> Profile:
        literacy = segment.get("digital_literacy", "medium")
        return cls(
            age_band=segment.get("age_band", "40-64"),
            digital_literacy=literacy,
            disability=segment.get("disability", "none"),
            language=segment.get("language", "fr"),
            device=segment.get("device", "computer"),
            ability=float(traits.get("ability", 0.0)),
            persistence=max(1, int(traits.get("persistence", 3))),
            patience_s=float(traits.get("patience_s", PATIENCE.get(literacy, 1200.0))),
            seek_help=float(traits.get("seek_help", 0.8 - 0.4 * LITERACY.get(literacy, 0.7))),
        )


def capability(profile: Profile, step: Step) -> float:
    if step.channel in HUMAN_CHANNELS:
        return 0.9
    base = LITERACY.get(profile.digital_literacy, 0.7) + AGE_OFFSET.get(profile.age_band, 0.0)
    return min(1.0, max(0.0, base + profile.ability))


def can_use(profile: Profile, step: Step) -> bool:
    """Whether the persona's device (and hearing, for a phone step) allows the step at all."""
    return profile.access.can_use(step)


def difficulty(profile: Profile, step: Step) -> tuple[float, bool]:
    """The step's difficulty for this persona, and whether a needed accessibility feature is missing."""
    d = step.demands
    features = set(step.accessibility)
    missing = False
    r = f = n = 1.0
    if profile.language != "fr" and "multilingual" not in features:
        r *= 2.0
        missing = True
    if profile.disability == "cognitive" and "easy_read" not in features:
        r *= 1.8
        missing = True
    if (
        profile.disability == "visual"
        and "screen_reader" not in features
        and step.channel not in HUMAN_CHANNELS
    ):
        r *= 2.5
        missing = True
    if profile.device == "smartphone":
        f *= 1.3
    if profile.disability == "motor" and "keyboard_navigation" not in features:
        f *= 1.6
        missing = True
    if profile.disability == "visual" and "audio_description" not in features:
        n *= 3.0
        missing = missing or d.navigation_3d > 0
    value = 0.35 * d.reading_load * r + 0.015 * d.form_fields * f + 0.08 * d.uploads
    value += 0.12 * d.identity_check + 0.45 * d.navigation_3d * n
    if d.audio and profile.disability == "hearing" and "captions" not in features:
        value += 0.5
        missing = True
    if d.headset:
        if profile.disability == "motor" and "seated_mode" not in features:
            value += 0.3
            missing = True
        if profile.age_band == "80+":
            value += 0.2
    if step.channel == "phone" and profile.disability == "hearing":
        value += 0.4  # only reached with sign_language offered (see can_use): interpreted calls are harder
    if step.channel in HUMAN_CHANNELS:
        value *= 0.3
    return value, missing


def success_probability(profile: Profile, step: Step) -> float:
    diff, _ = difficulty(profile, step)
    return 1.0 / (1.0 + math.exp(-(6.0 * (capability(profile, step) - diff) + 1.5)))


def attempt_time(rng: random.Random, profile: Profile, step: Step) -> float:
    _, missing = difficulty(profile, step)
    slowness = 1.0 + 1.5 * (1.0 - capability(profile, step)) + (0.5 if missing else 0.0)
    return rng.lognormvariate(math.log(step.time.median_s * slowness), step.time.sigma)


@dataclass(frozen=True)
class StepOdds:
    """What the model says of one persona on one step, the same at every attempt (so computed once)."""

    usable: bool
    success: float
    log_median_s: float
    sigma: float


def step_odds(profile: Profile, step: Step) -> StepOdds:
    """`can_use`, `success_probability` and the log-normal of `attempt_time`, for caching per run."""
    _, missing = difficulty(profile, step)
    slowness = 1.0 + 1.5 * (1.0 - capability(profile, step)) + (0.5 if missing else 0.0)
    usable = can_use(profile, step)
    return StepOdds(
        usable=usable,
        success=success_probability(profile, step) if usable else 0.0,
        log_median_s=math.log(step.time.median_s * slowness),
        sigma=step.time.sigma,
    )


def patience_budget(rng: random.Random, profile: Profile) -> float:
    return rng.lognormvariate(math.log(profile.patience_s), 0.5)
