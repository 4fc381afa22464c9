"""A local anvil node for integration tests: started on 127.0.0.1 with a free port, stopped after.

Import the `anvil_url` fixture into a test module, and mark its tests `evm_node`. The binary comes from
the npm package @foundry-rs/anvil (`npm install` in the repository); without it the tests are skipped on a
laptop and fail in CI, naming it (tests/tools.py).
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import tools
from tests.tools import require

ANVIL = Path(__file__).resolve().parents[1] / "node_modules" / ".bin" / "anvil"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return "result" in json.loads(response.read())
    except OSError:
        return False


@pytest.fixture(scope="module")
def anvil_url() -> Iterator[str]:
    """The JSON-RPC URL of a fresh anvil chain, alive for the test module."""
    require(tools.ANVIL)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while not _answers(url):
            if process.poll() is not None:
                raise RuntimeError(
                    f"anvil exited with {process.returncode}: {process.stderr.read().decode()[:500]}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError("anvil did not answer within 20 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
