"""The town hall's issuance windows: which sessions share an anchored root, and each one's share of it."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from civiclab import SessionPlan
from civiclab.evm import TxResult

K = TypeVar("K", bound=str)


@dataclass
class Issuance:
    """Where a session's attestation was anchored, and its share of the anchoring transaction."""

    root: bytes
    proof: list[bytes]
    tx: TxResult
    batch_size: int
    wait_s: float
    head_before: int
    anchored_at: int
    """The anchoring block's time (unix s, the chain's clock): the credential is valid from then."""


@dataclass
class Window:
    plans: list[SessionPlan]
    issued: dict[str, Issuance] = field(default_factory=dict)
    error: str | None = None
    done: bool = False


def weighted(rng: random.Random, mix: Mapping[K, float]) -> K:
    names = sorted(mix)
    return rng.choices(names, weights=[mix[n] for n in names], k=1)[0]
