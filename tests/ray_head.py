"""A real Ray head started apart from the tests, as a lab would start its cluster (`ray start --head`).

The head runs in the foreground (`--block`) in its own process group, with its own short temp folder,
so stopping it kills exactly its processes (raylet, GCS, workers, client server) and never another
user's cluster: `ray stop` would stop every Ray process on the machine.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.tools import RAY, require

VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class RayHead:
    port: int
    client_port: int
    temp_dir: Path
    token: str

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def client_address(self) -> str:
        return f"ray://127.0.0.1:{self.client_port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bare_python(folder: Path) -> Path:
    """A Python that has every installed library but not civiclab, pilots nor evaluators: a venv whose
    only site folder points at the shared venv's packages, without running its `.pth` files (the
    editable install of civiclab is one), as on a node where civiclab was never installed."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    site = next((folder / "lib").glob("python3*/site-packages"))
    shared = next(p for p in sys.path if p.endswith("site-packages") and p.startswith(str(VENV_BIN.parent)))
    (site / "shared_libraries.pth").write_text(shared + "\n", encoding="utf-8")
    return folder / "bin" / "python"


@contextmanager
def ray_head(cwd: Path, *, python: Path | None = None, cpus: int = 2) -> Iterator[RayHead]:
    """Start a Ray head on 127.0.0.1 from `cwd` with PYTHONPATH unset; stop its processes after.

    The head requires a token of its own (Ray's token authentication, on by default since Ray turns it
    on when `~/.ray/auth_token` exists): a driver joins it with RAY_AUTH_MODE=token and RAY_AUTH_TOKEN.
    """
    require(RAY)
    # Ray's socket paths must stay under 107 characters: pytest's tmp_path is too long.
    temp_dir = Path(tempfile.mkdtemp(prefix="rh", dir="/tmp"))
    head = RayHead(free_port(), free_port(), temp_dir, secrets.token_hex(32))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RAY_ADDRESS")}
    env.update(RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=head.token)
    command = [str(python or sys.executable), "-m", "ray.scripts.scripts", "start", "--head", "--block"]
    command += ["--node-ip-address", "127.0.0.1", "--port", str(head.port)]
    command += ["--ray-client-server-port", str(head.client_port), "--num-cpus", str(cpus)]
    command += ["--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", str(temp_dir)]
    log = (temp_dir / "head.log").open("w")
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_listening(head.client_port, process, temp_dir / "head.log")
        yield head
    finally:
        stop(process)
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)


def wait_listening(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ray start exited {process.returncode}: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise RuntimeError(f"the Ray head did not listen on {port} within {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the head's process group (`ray start --block` then stops what it started), then
    SIGKILL to whatever of that group is left."""
    group = process.pid  # start_new_session: the group id is the leader's pid
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        process.poll()  # reap the leader, or the group never looks empty
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)
