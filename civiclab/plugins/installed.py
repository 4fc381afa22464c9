"""What the installed packages declare (their entry points), read once per process.

Reading every installed package's metadata is the slow part of finding plugins (≈15 ms with the
packages civiclab needs), and three readers in a `civiclab` command want it: pydantic (its own
plugins, the first time any model class is built), civiclab's registry of pilots and evaluators,
and the command line (commands a plugin adds). This module reads it for all three.
"""

from __future__ import annotations

import functools
import os
from importlib.metadata import EntryPoints, entry_points
from typing import Any

PYDANTIC_PLUGINS = "PYDANTIC_DISABLE_PLUGINS"


@functools.cache
def all_entry_points() -> Any:
    """Every installed entry point, read once: `SelectableGroups` on Python 3.11, `EntryPoints` from
    3.12; both answer `select(group=...)`."""
    return entry_points()


def installed(group: str) -> EntryPoints:
    found: EntryPoints = all_entry_points().select(group=group)
    return found


def spare_pydantic_its_plugin_search() -> None:
    """When no installed package declares a pydantic plugin, tell pydantic so (its documented
    `PYDANTIC_DISABLE_PLUGINS`), so that it does not read every package's metadata a second time.
    A setting the lab made is kept; a package that does declare one keeps it loaded as before."""
    if PYDANTIC_PLUGINS in os.environ:
        return
    if not list(installed("pydantic")):
        os.environ[PYDANTIC_PLUGINS] = "__all__"
