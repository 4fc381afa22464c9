"""Plans are drawn lazily: the same plans as one big draw, from any index, and ten million cost nothing up front."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pytest

from civiclab.plugins.experiment import load_experiment
from civiclab.plugins.population import DRAW_CHUNK, iter_plans, session_seed


@pytest.mark.slow
def test_streamed_plans_are_those_of_one_draw_across_chunk_boundaries(journey_spec: Path) -> None:
    personas = load_experiment(journey_spec).personas
    n = DRAW_CHUNK + 5000
    weights = np.array([p.weight for p in personas], dtype=float)
    picks = np.random.default_rng(42).choice(len(personas), size=n, p=weights / weights.sum())
    plans = list(iter_plans(personas, n, 42))
    assert [p.persona_id for p in plans] == [personas[i].id for i in picks]
    assert [p.index for p in plans] == list(range(n))
    assert plans[-1].seed == session_seed(42, n - 1)
    # A resumed run starts anywhere and gets the same plans after that point.
    assert list(iter_plans(personas, n, 42, start=DRAW_CHUNK - 3)) == plans[DRAW_CHUNK - 3 :]


def test_ten_million_sessions_do_not_list_their_plans_up_front(journey_spec: Path) -> None:
    personas = load_experiment(journey_spec).personas
    started = time.perf_counter()
    first = list(itertools.islice(iter_plans(personas, 10_000_000, 7), 10))
    assert time.perf_counter() - started < 2.0
    assert [p.session_id for p in first] == [f"s{i:06d}" for i in range(10)]
