"""Committee members' signing keys as members make them: encrypted, the passphrase in a variable."""

from __future__ import annotations

import os
import re
from pathlib import Path

PASSPHRASE = "a member's long passphrase"


def passphrase_variable(name: str) -> str:
    return "CIVICLAB_TEST_PASS_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def reviewer_key(name: str, home: Path | None = None) -> str:
    """Make (once) an encrypted key `name` and set its passphrase variable for this test process."""
    from civiclab.evidence.signing.keys import init_key, keys_dir

    variable = passphrase_variable(name)
    os.environ[variable] = PASSPHRASE
    if not (keys_dir(home) / f"{name}.key").exists():
        init_key(name, passphrase_env=variable, passphrase=PASSPHRASE, home=home)
    return name
