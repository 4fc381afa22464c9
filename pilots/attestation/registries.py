"""Where the attestation pilot anchors: civiclab's registry (deployed, or the lab's own) or a lab's EAS."""

from __future__ import annotations

from civiclab import ChainError, PilotError
from civiclab.evm import AttestationRegistry, Chain, TxResult
from pilots.attestation.eas import EasRegistry, EasSystem
from pilots.attestation.params import AttestationParams


def open_registry(
    params: AttestationParams,
) -> tuple[Chain, AttestationRegistry | EasRegistry, list[TxResult]]:
    """The chain, the registry the town hall anchors on, and the transactions setting it up (if any)."""
    system = params.system
    if isinstance(system, EasSystem):
        chain = Chain.connect(system.rpc_url, key_env=system.key_env, timeout_s=params.timeout_s)
        return chain, EasRegistry(chain, system.eas, bytes.fromhex(system.schema_uid[2:])), []
    chain = Chain.connect(params.rpc_url, key_env=params.key_env, timeout_s=params.timeout_s)
    if params.registry:
        registry = AttestationRegistry.attach(chain, params.registry)
        # Fail before any session rather than revert every window's anchor one by one.
        if not registry.contract.functions.issuers(chain.sender).call():
            raise ChainError(f"{chain.sender} is not an authorised issuer of the registry {params.registry}")
        return chain, registry, []
    registry, deployed = AttestationRegistry.deploy(chain)
    return chain, registry, [deployed, registry.set_issuer(chain.sender, True)]


def impostor_attempt(chain: Chain, registry: AttestationRegistry | EasRegistry) -> tuple[str, str]:
    """An unauthorised account tries to anchor: the registry must refuse (and nothing is recorded)."""
    others = [a for a in chain.unlocked_accounts() if a.lower() != chain.sender.lower()]
    impostor = others[-1] if others else "0x" + "5e" * 20
    if isinstance(registry, EasRegistry):
        return (
            impostor,
            "not attempted: EAS lets any account attest; trust is the attester the verifier trusts",
        )
    if not others:
        return impostor, "not attempted: no second unlocked account on this node"
    try:
        registry.anchor(b"\x5e" * 32, 1, "impostor", sender=impostor)
    except ChainError as exc:
        return impostor, f"refused: {exc}"
    raise PilotError("the registry accepted an anchor from an unauthorised account")
