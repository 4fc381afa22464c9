"""The EVM client civiclab shares: anchoring a run's audit root and the attestation pilot both use it.

- `client`: one connection (`Chain`), the in-process py-evm chain by default or any JSON-RPC node;
- `contract`: the Vyper registry contract's source and its committed, compiled artifact;
- `registry`: `AttestationRegistry`, the registry contract's calls (deploy, attach, anchor, revoke, status).

A public module: its `__all__` is what a pilot may import (the attestation pilot anchors and
verifies through it). web3 is imported inside the functions that need it, so importing this
package stays cheap.
"""

from __future__ import annotations

from civiclab.evm.client import IN_PROCESS, Chain, TxResult
from civiclab.evm.contract import Artifact, load_artifact
from civiclab.evm.registry import (
    ANCHOR_STORAGE_BYTES,
    REVOKE_STORAGE_BYTES,
    ZERO_ADDRESS,
    AttestationRegistry,
    Status,
    StatusSource,
    describe,
)

__all__ = [
    "ANCHOR_STORAGE_BYTES",
    "IN_PROCESS",
    "REVOKE_STORAGE_BYTES",
    "ZERO_ADDRESS",
    "Artifact",
    "Chain",
    "AttestationRegistry",
    "Status",
    "StatusSource",
    "TxResult",
    "describe",
    "load_artifact",
]
