"""The registry contract: its Vyper source, the committed compiled artifact, and how to rebuild it.

civiclab only ever loads the committed JSON artifact, so nothing compiles (or downloads a compiler)
at run time. `python -m civiclab.evm.contract` recompiles the source with the pinned Vyper and
rewrites the artifact; a test checks that the committed artifact is what the source compiles to.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from civiclab.errors import ChainError

CONTRACTS = Path(__file__).parent / "contracts"
SOURCE = CONTRACTS / "AttestationRegistry.vy"
ARTIFACT = CONTRACTS / "AttestationRegistry.json"
VYPER_VERSION = "0.4.3"
# Cancun is accepted by py-evm (EthereumTesterProvider) and by anvil; it is also pinned in the source.
EVM_VERSION = "cancun"


@dataclass(frozen=True)
class Artifact:
    """A compiled contract: what deploying and calling it needs, and what it was built from."""

    abi: list[dict[str, Any]]
    bytecode: str
    source_sha256: str
    compiler: str
    evm_version: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "contract": "AttestationRegistry",
            "compiler": self.compiler,
            "evm_version": self.evm_version,
            "source": SOURCE.name,
            "source_sha256": self.source_sha256,
            "abi": self.abi,
            "bytecode": self.bytecode,
        }


def source_sha256() -> str:
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()


def compile_source() -> Artifact:
    """Compile the Vyper source with the installed compiler (tests and maintainers only)."""
    import vyper
    from vyper.compiler.settings import Settings

    if not vyper.__version__.startswith(VYPER_VERSION):
        raise ChainError(
            f"vyper {VYPER_VERSION} is required to rebuild the registry, found {vyper.__version__}"
        )
    out = vyper.compile_code(
        SOURCE.read_text(encoding="utf-8"),
        output_formats=["abi", "bytecode"],
        settings=Settings(evm_version=EVM_VERSION),
    )
    return Artifact(
        abi=out["abi"],
        bytecode=out["bytecode"],
        source_sha256=source_sha256(),
        compiler=f"vyper {VYPER_VERSION}",
        evm_version=EVM_VERSION,
    )


@cache
def load_artifact() -> Artifact:
    """The committed artifact; raises if it is missing or was built from another source."""
    try:
        data = json.loads(ARTIFACT.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ChainError(f"{ARTIFACT}: cannot read the compiled registry: {exc}") from None
    if data.get("source_sha256") != source_sha256():
        raise ChainError(
            f"{ARTIFACT.name} was not built from the current {SOURCE.name}: "
            "run `python -m civiclab.evm.contract` to rebuild it"
        )
    return Artifact(
        abi=data["abi"],
        bytecode=data["bytecode"],
        source_sha256=data["source_sha256"],
        compiler=data["compiler"],
        evm_version=data["evm_version"],
    )


def write_artifact(artifact: Artifact) -> Path:
    ARTIFACT.write_text(json.dumps(artifact.as_dict(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return ARTIFACT


if __name__ == "__main__":
    print(write_artifact(compile_source()))
