"""The tools some test tiers need beyond the venv, and what happens when one is missing.

On a laptop a missing tool skips the tests that need it, and the run's summary counts those skips per
tool, so a green run says what it did not test. Where the tools are meant to be installed (CI, which
runs `make test`, or `pytest --require-tools`), a missing tool fails the test, naming the tool and how
to install it: a test tier never disappears silently from CI.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_PREFIX = "tool missing: "
_CI_OFF = ("", "0", "false", "no")


@dataclass(frozen=True)
class Tool:
    name: str
    install: str
    present: Callable[[], bool]


POSTGRES = Tool(
    "PostgreSQL (initdb)",
    "apt-get install postgresql (.ci/run does it)",
    lambda: bool(glob.glob("/usr/lib/postgresql/*/bin/initdb")),
)
CHROMIUM = Tool(
    "Chromium (/usr/bin/chromium)",
    "apt-get install chromium (.ci/run does it)",
    lambda: Path("/usr/bin/chromium").exists(),
)
AXE = Tool(
    "axe-core (node_modules)",
    "npm install, or make node",
    lambda: (ROOT / "node_modules" / "axe-core" / "axe.min.js").exists(),
)
PDFTOPPM = Tool(
    "pdftoppm (poppler-utils)",
    "apt-get install poppler-utils (.ci/run does it)",
    lambda: any(Path(d, "pdftoppm").exists() for d in os.get_exec_path()),
)
ANVIL = Tool(
    "anvil (node_modules/.bin/anvil)",
    "npm install, or make node (package.json pins @foundry-rs/anvil)",
    lambda: (ROOT / "node_modules" / ".bin" / "anvil").exists(),
)
OIDC_PROVIDER = Tool(
    "oidc-provider (node, node_modules/oidc-provider)",
    "npm install, or make node (package.json pins oidc-provider; node 20 or later)",
    lambda: (
        shutil.which("node") is not None
        and (ROOT / "node_modules" / "oidc-provider" / "package.json").exists()
    ),
)
EAS_CONTRACTS = Tool(
    "Ethereum Attestation Service contracts (node_modules/@ethereum-attestation-service/eas-contracts)",
    "npm install, or make node (package.json pins @ethereum-attestation-service/eas-contracts)",
    lambda: (
        ROOT
        / "node_modules"
        / "@ethereum-attestation-service"
        / "eas-contracts"
        / "artifacts"
        / "contracts"
        / "EAS.sol"
        / "EAS.json"
    ).exists(),
)
DATA_INTEGRITY = Tool(
    "Digital Bazaar's Data Integrity verifier (node, node_modules/@digitalbazaar/eddsa-jcs-2022-cryptosuite)",
    "npm install, or make node (package.json pins the eddsa-jcs-2022 cryptosuite, data-integrity, jsonld-signatures "
    "and the did:key driver; node 20 or later)",
    lambda: (
        shutil.which("node") is not None
        and all(
            (ROOT / "node_modules" / package / "package.json").exists()
            for package in (
                "@digitalbazaar/eddsa-jcs-2022-cryptosuite",
                "@digitalbazaar/data-integrity",
                "@digitalbazaar/did-method-key",
                "@digitalbazaar/ed25519-multikey",
                "@digitalbazaar/credentials-context",
                "@digitalbazaar/multikey-context",
                "did-context",
                "jsonld-signatures",
            )
        )
    ),
)
RALPH = Tool(
    "Ralph LRS (.venv-lrs)",
    "make lrs (its own venv: Ralph's pins conflict with civiclab's)",
    lambda: (ROOT / ".venv-lrs" / "bin" / "ralph").exists(),
)
RAY = Tool(
    "Ray",
    "pip install -e '.[dev]', or make install (pyproject's ray extra)",
    lambda: importlib.util.find_spec("ray") is not None,
)

# What each test tier needs, checked before each of its tests (see conftest.py).
TIER_TOOLS: dict[str, tuple[Tool, ...]] = {
    "browser": (CHROMIUM, AXE),
    "evm_node": (ANVIL,),
    "lrs": (RALPH,),
    "ray": (RAY,),
}


class _Mode:
    strict = False


def set_strict(strict: bool) -> None:
    """Fail instead of skipping when a tool is missing (from `--require-tools`, or CI set)."""
    _Mode.strict = strict


def ci_is_set() -> bool:
    """Whether the environment says this run is CI (`CI` set to anything but empty, 0, false or no)."""
    return os.environ.get("CI", "").strip().lower() not in _CI_OFF


def missing_message(tool: Tool) -> str:
    return f"{SKIP_PREFIX}{tool.name}; install it with: {tool.install}"


def require(*tools: Tool) -> None:
    """Skip the test (fail it when tools are required) unless every tool is installed."""
    for tool in tools:
        if tool.present():
            continue
        if _Mode.strict:
            pytest.fail(missing_message(tool) + " (required: CI or --require-tools)", pytrace=False)
        pytest.skip(missing_message(tool))


_REASON = re.compile(re.escape(SKIP_PREFIX) + r"(.+?); install it with: (.+)$")


def missing_tool_of(reason: str) -> tuple[str, str] | None:
    """The (tool, how to install it) a skip reason names, or None for another skip."""
    found = _REASON.search(reason)
    return (found.group(1), found.group(2)) if found else None
