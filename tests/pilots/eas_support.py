"""The real Ethereum Attestation Service contracts, deployed from their published npm package (compiled artifacts
with bytecode: nothing is compiled here), with a schema for salted leaves."""

from __future__ import annotations

import json
from pathlib import Path

from civiclab.evm import Chain
from pilots.attestation.eas import EasService
from tests import tools
from tests.tools import require

ARTIFACTS = (
    tools.ROOT
    / "node_modules"
    / "@ethereum-attestation-service"
    / "eas-contracts"
    / "artifacts"
    / "contracts"
)


def _artifact(name: str) -> dict:
    return dict(json.loads(Path(ARTIFACTS / f"{name}.sol" / f"{name}.json").read_text(encoding="utf-8")))


def deploy_eas(chain: Chain) -> tuple[EasService, int]:
    """SchemaRegistry, then EAS pointing at it, then the `bytes32 leaf` schema; the service and the setup gas."""
    require(tools.EAS_CONTRACTS)
    registry, eas = _artifact("SchemaRegistry"), _artifact("EAS")
    deployed = chain.deploy(registry["abi"], registry["bytecode"])
    assert deployed.contract_address is not None
    factory = chain.w3.eth.contract(abi=eas["abi"], bytecode=eas["bytecode"])
    eas_tx = chain.send(factory.constructor(deployed.contract_address), what="deploy EAS")
    assert eas_tx.contract_address is not None
    schema, schema_tx = EasService.register_schema(chain, deployed.contract_address)
    return EasService(
        chain, eas_tx.contract_address, schema
    ), deployed.gas_used + eas_tx.gas_used + schema_tx.gas_used
