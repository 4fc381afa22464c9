"""The lab's own secrets: created once, kept under CIVICLAB_HOME (default ~/.config/civiclab), mode 0600.

Invitation codes are stored as keyed hashes: with a public salt (the experiment's name, as before)
anyone holding a copy of the store could test every code offline. The key is a random secret of
this lab, created the first time it is needed, never logged, never in the store or in a run.
Back it up with the store: without it, codes handed out cannot be checked.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from civiclab.errors import CivicLabError

HOME_ENV = "CIVICLAB_HOME"
log = logging.getLogger(__name__)


def lab_home() -> Path:
    """$CIVICLAB_HOME, else ~/.config/civiclab."""
    configured = os.environ.get(HOME_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".config" / "civiclab"


def lab_secret(name: str) -> bytes:
    """The secret `name` of this lab (32 random bytes), created with mode 0600 on first use.

    Raises:
        CivicLabError: the folder or file cannot be created or read (names the path, never the secret).
    """
    home = lab_home()
    path = home / f"{name}.key"
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # created earlier, or by a concurrent process: read it below
        else:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_hex(32) + "\n")
            log.info("created the lab secret %s (keep it with the survey store)", path)
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("%s is readable by other users (mode %o): chmod 600 it", path, mode)
        text = path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise CivicLabError(f"{path}: cannot create or read the lab secret: {exc.strerror or exc}") from None
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) < 16:
        raise CivicLabError(f"{path}: not a lab secret (expected 64 hex characters)")
    return value
