"""Provenance of a run: code version, library versions, machine — recorded as MLflow tags."""

from __future__ import annotations

import platform
import socket
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

STACK = ("mlflow", "codecarbon", "shap", "transformers", "langchain", "web3", "pydantic", "numpy")


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def git_state(where: Path) -> tuple[str, bool]:
    """The commit the code and spec come from, and whether the work tree had changes."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=where,
                capture_output=True,
                text=True,
                timeout=5,
                check=True,
            ).stdout.strip()
        )
        return sha, dirty
    except (OSError, subprocess.SubprocessError):
        return "unknown", False


def provenance_tags(where: Path) -> dict[str, str]:
    sha, dirty = git_state(where)
    tags = {
        "civiclab.version": package_version("civiclab"),
        "civiclab.git_sha": sha,
        "civiclab.git_dirty": str(dirty).lower(),
        "civiclab.python": platform.python_version(),
        "civiclab.host": socket.gethostname(),
        "civiclab.platform": platform.platform(terse=True),
    }
    for lib in STACK:
        tags[f"civiclab.lib.{lib}"] = package_version(lib)
    return tags
