"""A real OpenID Connect provider for the desk's sign-in tests: tests/desk/oidc_provider.mjs, run by node.

It is panva's oidc-provider from npm (`npm install` in the repository): without it, or without node, the
tests that need it are skipped on a laptop and fail in CI, naming it (tests/tools.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from tests import tools
from tests.tools import require

SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID = "civiclab-desk"
CLIENT_SECRET = "desk-client-secret-for-tests"


@contextlib.contextmanager
def oidc_provider(redirect_uris: list[str], host: str = "127.0.0.1") -> Iterator[str]:
    """A fresh provider on a free port of `host` that knows the desk's client; yields its issuer URL."""
    require(tools.OIDC_PROVIDER)
    node = shutil.which("node")
    assert node is not None
    command = [node, str(SCRIPT), "--host", host, "--client-id", CLIENT_ID]
    for uri in redirect_uris:
        command += ["--redirect-uri", uri]
    with tempfile.TemporaryFile(mode="w+") as errors:  # its warnings; read when it fails to start
        process = subprocess.Popen(
            command,
            cwd=tools.ROOT,
            env={**os.environ, "OIDC_TEST_CLIENT_SECRET": CLIENT_SECRET},
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            line = _first_line(process, timeout=20)
            if not line.startswith("ready "):
                process.kill()
                process.wait()
                errors.seek(0)
                raise RuntimeError(f"the OIDC provider did not start: {line!r} {errors.read()[-800:]}")
            yield line.split()[1]
        finally:
            if process.stdout is not None:
                process.stdout.close()
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    got: list[str] = []
    reader = threading.Thread(
        target=lambda: got.append(process.stdout.readline() if process.stdout else ""), daemon=True
    )
    reader.start()
    reader.join(timeout)
    return got[0].strip() if got else ""
