"""Sampling a population of personas into reproducible session plans, drawn lazily."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from civiclab.records import SessionPlan
from civiclab.spec.experiment import PersonaSpec

DRAW_CHUNK = 65_536
"""Personas drawn at a time: a run of ten million sessions never holds its plans in memory."""


def session_seed(run_seed: int, index: int) -> int:
    """A per-session seed that depends only on the run seed and the session's index."""
    return int(np.random.SeedSequence([run_seed, index]).generate_state(1, dtype=np.uint32)[0])


def iter_plans(
    personas: list[PersonaSpec], sessions: int, seed: int, *, start: int = 0
) -> Iterator[SessionPlan]:
    """Draw `sessions` personas by weight with `seed`, one plan at a time, from index `start`.

    Drawing in chunks gives exactly the draws of one big `choice` (the generator's stream of
    uniforms is the same), so plans do not depend on the chunk size, and skipping the first
    `start` plans (a resumed run) still gives the same plans after them.
    """
    rng = np.random.default_rng(seed)
    weights = np.array([p.weight for p in personas], dtype=float)
    weights = weights / weights.sum()
    segments = [p.segment() for p in personas]
    index = 0
    while index < sessions:
        size = min(DRAW_CHUNK, sessions - index)
        picks = rng.choice(len(personas), size=size, p=weights).tolist()
        for pick in picks:
            if index >= start:
                yield _plan(personas[pick], segments[pick], index, session_seed(seed, index))
            index += 1


def _plan(persona: PersonaSpec, segment: dict[str, str], index: int, seed: int) -> SessionPlan:
    return SessionPlan(
        session_id=f"s{index:06d}",
        index=index,
        persona_id=persona.id,
        segment=dict(segment),
        traits=dict(persona.traits),
        seed=seed,
    )


def replay_plans(
    personas: list[PersonaSpec], picks: Sequence[int], seeds: Sequence[int], *, start: int = 0
) -> Iterator[SessionPlan]:
    """The plans `iter_plans` gave, again, from what it drew: each session's persona (its index in
    `personas`) and seed. Drawing a session's seed is most of a plan's cost; a pilot that walks its
    plans before the run keeps these two numbers a session and gives the same plans at a fraction of it."""
    segments = [p.segment() for p in personas]
    for index in range(start, len(picks)):
        pick = int(picks[index])
        yield _plan(personas[pick], segments[pick], index, int(seeds[index]))


def sample_plans(personas: list[PersonaSpec], sessions: int, seed: int) -> list[SessionPlan]:
    """All plans of a run as a list (small runs and tests); runs stream them with `iter_plans`."""
    return list(iter_plans(personas, sessions, seed))
