"""Sampling a population of personas into reproducible session plans."""

from __future__ import annotations

import numpy as np

from civiclab.records import SessionPlan
from civiclab.spec import PersonaSpec


def session_seed(run_seed: int, index: int) -> int:
    """A per-session seed that depends only on the run seed and the session's index."""
    return int(np.random.SeedSequence([run_seed, index]).generate_state(1, dtype=np.uint32)[0])


def sample_plans(personas: list[PersonaSpec], sessions: int, seed: int) -> list[SessionPlan]:
    """Draw `sessions` personas by weight with `seed`; the same inputs give the same plans."""
    rng = np.random.default_rng(seed)
    weights = np.array([p.weight for p in personas], dtype=float)
    picks = rng.choice(len(personas), size=sessions, p=weights / weights.sum())
    plans: list[SessionPlan] = []
    for index, pick in enumerate(picks.tolist()):
        persona = personas[pick]
        plans.append(
            SessionPlan(
                session_id=f"s{index:06d}",
                index=index,
                persona_id=persona.id,
                segment=persona.segment(),
                traits=dict(persona.traits),
                seed=session_seed(seed, index),
            )
        )
    return plans
