"""The EVM client civiclab shares: anchoring a run's audit root and the attestation pilot both use it.

- `client`: one connection (`Chain`), the in-process py-evm chain by default or any JSON-RPC node;
- `contract`: the Vyper registry contract's source and its committed, compiled artifact;
- `registry`: `AttestationRegistry`, the registry contract's calls (deploy, attach, anchor, revoke, status).

web3 is imported inside the functions that need it, so importing this package stays cheap.
"""

from __future__ import annotations

from civiclab.evm.client import IN_PROCESS, Chain, TxResult
from civiclab.evm.contract import Artifact, load_artifact
from civiclab.evm.registry import ZERO_ADDRESS, AttestationRegistry, Status, StatusSource

__all__ = [
    "IN_PROCESS",
    "ZERO_ADDRESS",
    "Artifact",
    "Chain",
    "AttestationRegistry",
    "Status",
    "StatusSource",
    "TxResult",
    "load_artifact",
]
