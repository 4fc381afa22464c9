"""Provenance of a run: code version, library versions, machine — recorded as MLflow tags."""

from __future__ import annotations

import platform
import socket
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from civiclab.store.schema import (
    GIT_DIRTY_TAG,
    GIT_SHA_TAG,
    HOST_TAG,
    LIBRARY_TAG_PREFIX,
    PLATFORM_TAG,
    PYTHON_TAG,
    RECORDED_LIBRARIES,
    VERSION_TAG,
)


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
        VERSION_TAG: package_version("civiclab"),
        GIT_SHA_TAG: sha,
        GIT_DIRTY_TAG: str(dirty).lower(),
        PYTHON_TAG: platform.python_version(),
        HOST_TAG: socket.gethostname(),
        PLATFORM_TAG: platform.platform(terse=True),
    }
    for lib in RECORDED_LIBRARIES:
        tags[LIBRARY_TAG_PREFIX + lib] = package_version(lib)
    return tags
