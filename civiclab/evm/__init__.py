"""The EVM client civiclab shares: anchoring a run's audit root and the attestation pilot both use it.

- `client`: one connection (`Chain`), the in-process py-evm chain by default or any JSON-RPC node;
- `contract`: the Vyper registry contract's source and its committed, compiled artifact;
- `registry`: `AttestationRegistry`, the registry contract's calls (deploy, attach, anchor, revoke, standing
  of an attestation with its times), and `status_at`, the registry's verdict at a given time.

A public module: its `__all__` is what a pilot may import (the attestation pilot anchors and
verifies through it). web3 is imported inside the functions that need it, so importing this
package stays cheap.
"""

from __future__ import annotations

from civiclab.evm.client import IN_PROCESS, Chain, TxResult
from civiclab.evm.contract import Artifact, load_artifact
from civiclab.evm.registry import (
    ANCHOR_STORAGE_BYTES,
    MAX_QUERIES,
    OPEN_END,
    REVOKE_STORAGE_BYTES,
    ZERO_ADDRESS,
    AttestationRegistry,
    AttestationRegistryView,
    Judgement,
    Query,
    Standing,
    StatusSource,
    describe,
    status_at,
)

__all__ = [
    "ANCHOR_STORAGE_BYTES",
    "IN_PROCESS",
    "MAX_QUERIES",
    "OPEN_END",
    "REVOKE_STORAGE_BYTES",
    "ZERO_ADDRESS",
    "Artifact",
    "Chain",
    "AttestationRegistry",
    "AttestationRegistryView",
    "Judgement",
    "Query",
    "Standing",
    "StatusSource",
    "TxResult",
    "describe",
    "status_at",
    "load_artifact",
]
