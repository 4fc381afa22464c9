"""Whether a run without a signed statement may be verified as legacy (made before runs were signed).

Deleting `statement.dsse.json` and the tags that name it must not turn a signed run into an
"unsigned (legacy)" one, which is checked only against its own manifest (which anyone who can write
the store can rewrite). A run is legacy only if nothing about it says a signing civiclab made it:
its `civiclab.version` names a civiclab older than `SIGNING_SINCE`, it carries no tag that only
signing civiclabs set, its manifest names no statement, and its folder holds no file that only
signing civiclabs write.
"""

from __future__ import annotations

import re
from pathlib import Path

from civiclab.evidence.manifest import Manifest
from civiclab.store.schema import (
    EXECUTOR_TAG,
    INPUTS_FILE,
    MANIFEST_FILE,
    RESUMED_TAG,
    SIGNER_TAG,
    STATEMENT_FILE,
    STATEMENT_SHA256_TAG,
    VERSION_TAG,
)

SIGNING_SINCE = "0.1.0"
"""The first civiclab version that signs every run (runs were signed from within 0.1.0 on: the
version was never raised). Every run whose `civiclab.version` is this or later must be signed."""

SIGNING_ERA_TAGS = (STATEMENT_SHA256_TAG, SIGNER_TAG, EXECUTOR_TAG, RESUMED_TAG)
"""Tags that civiclab set only once it signed runs (the statement's digest and signer came with
signing; executors and resumes came after it)."""

SIGNING_ERA_FILES = (STATEMENT_FILE, INPUTS_FILE)
"""Files only a signing civiclab writes in a run's folder (the statement, and what verify re-runs from)."""

_RELEASE = re.compile(r"^\s*v?(\d+(?:\.\d+)*)")


def _release(version: str) -> tuple[int, ...] | None:
    """The release numbers of a version (`0.1.0rc1` -> (0, 1, 0)), or None when it names none."""
    found = _RELEASE.match(version)
    if found is None:
        return None
    numbers = [int(n) for n in found.group(1).split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:  # 0.1 and 0.1.0 are one version
        numbers.pop()
    return tuple(numbers)


def signs_every_run(version: str) -> bool:
    """Does civiclab `version` sign every run? A version that names no release cannot show it does not."""
    release = _release(version)
    since = _release(SIGNING_SINCE)
    assert since is not None
    return release is None or release >= since


def why_signed(folder: Path, tags: dict[str, str], manifest: Manifest | None) -> str | None:
    """Why a run whose statement is missing must have been signed, or None for a legacy run.

    Args:
        folder: the run's artifacts (only file names are looked at).
        tags: the run's tags in the store.
        manifest: the run's manifest when it can be read.

    Returns:
        One sentence ending in "its signed statement is missing", naming what shows the run was signed.
    """
    missing = "its signed statement is missing"
    tagged = next((t for t in SIGNING_ERA_TAGS if t in tags), None)
    if tagged is not None:
        return f"this run is tagged {tagged}, which only a civiclab that signs runs sets: {missing}"
    present = next((f for f in SIGNING_ERA_FILES if (folder / f).exists()), None)
    if present is not None:
        return f"{present} is among the run's files, which only a civiclab that signs runs writes: {missing}"
    if manifest is not None:
        listed = next((f for f in SIGNING_ERA_FILES if f in manifest.artifacts), None)
        if listed is not None:
            return f"{MANIFEST_FILE} lists {listed}, which only a civiclab that signs runs writes: {missing}"
        anchor = manifest.anchor or {}
        if anchor.get("anchors") == "statement" or "statement_sha256" in anchor:
            return f"{MANIFEST_FILE} records an anchor of the run's signed statement: {missing}"
    version = tags.get(VERSION_TAG)
    if version is None:
        return (
            f"the run has no {VERSION_TAG} tag: nothing shows it was made before runs were signed; {missing}"
        )
    if _release(version) is None:
        return (
            f"the run's {VERSION_TAG} is {version!r}, which does not show a civiclab older than "
            f"{SIGNING_SINCE} (the first that signs every run): {missing}"
        )
    if signs_every_run(version):
        return f"this run was made by civiclab {version}, which signs every run: {missing}"
    return None
