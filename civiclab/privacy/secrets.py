"""Secrets a lab keeps on its own machine: drawn once at random, stored under CIVICLAB_HOME, mode 0600.

A secret here keys what must not be recomputable by outsiders (participants' pseudonyms, invitation-code
hashes). It is never logged or printed; a run records only its key id (`secret_key_id`), which says
which secret was used without revealing it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets as _random
from pathlib import Path

from civiclab.errors import CivicLabError
from civiclab.home import lab_home

logger = logging.getLogger(__name__)

SECRET_BYTES = 32
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def lab_secret(name: str) -> bytes:
    """The lab's secret called `name`, created at random (0600, atomically) the first time it is asked for.

    Two processes asking at once get the same secret: the file is published with an exclusive link, and
    the loser reads the winner's file.

    Raises:
        CivicLabError: the name is not a simple file name, or the file exists but is not a valid secret.
    """
    if not _NAME.match(name):
        raise CivicLabError(f"secret name {name!r}: use lower-case letters, digits, '.', '_' or '-'")
    folder = lab_home() / "secrets"
    path = folder / name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        _create(path)
    raw = path.read_bytes()
    if len(raw) < 16:
        raise CivicLabError(
            f"{path}: secret file is too short ({len(raw)} bytes); remove it to draw a new one"
        )
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        # Readable by others: tighten it rather than refuse, and say so (never the value).
        logger.warning("%s was readable by other users (mode %o); set to 0600", path, mode)
        path.chmod(0o600)
    return raw


def secret_key_id(secret: bytes | str) -> str:
    """A public identifier of a secret: the first 16 hex digits of its SHA-256."""
    data = secret.encode() if isinstance(secret, str) else secret
    return hashlib.sha256(data).hexdigest()[:16]


def _create(path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{_random.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(_random.token_bytes(SECRET_BYTES))
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)  # fails if another process published first: keep theirs
            logger.info("created the lab secret %s (key id only is ever recorded)", path.name)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
