"""civiclab as a lab installs it: the wheel built from this checkout, installed in a fresh venv outside the
checkout, serves the committee's desk and the survey form, with every file they read at start-up.

The new venv has no pip and no libraries of its own: its one `.pth` line names a folder of links to the
project venv's libraries, civiclab's editable install left out, so civiclab, pilots and evaluators can
only come from the wheel. Built offline (`--no-build-isolation`, `--no-index`) from a copy of the sources,
so the checkout gets no build folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "civiclab", "pilots", "evaluators")
OURS = ("civiclab", "pilots", "evaluators", "__editable__")  # what the wheel must bring itself


def run(*command: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, env=env, cwd=cwd)
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return str(done.stdout)


def runtime_files() -> set[str]:
    """Every file of the civiclab package that is not a module nor documentation: read at run time."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "civiclab").rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc", ".md") and "__pycache__" not in path.parts
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str, bytes]:
    """Status, content type and body of a GET (redirects followed)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read()


@contextlib.contextmanager
def serving(command: list[str], url: str, env: dict[str, str], cwd: Path, log: Path) -> Iterator[None]:
    """Start a civiclab server, wait until `url` answers, and stop its whole process group after."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                assert process.poll() is None, f"{command[1:3]} exited: {log.read_text()[-3000:]}"
                with contextlib.suppress(OSError):
                    get(url)
                    break
                assert time.monotonic() < deadline, f"{url} did not answer: {log.read_text()[-3000:]}"
                time.sleep(0.3)
            yield
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def stylesheets_served(base: str, page: bytes, installed: Path) -> list[str]:
    """The stylesheets a page links to, each checked to be served as the installed file's bytes."""
    links = re.findall(r'<link rel="stylesheet" href="(/static/[^"]+)"', page.decode())
    assert links, "the page links no stylesheet"
    for link in links:
        status, kind, body = get(base + link)
        assert status == 200 and kind.startswith("text/css"), (link, status, kind)
        [file] = [p for p in installed.rglob(Path(link).name) if p.parent.name == "static"]
        assert body == file.read_bytes(), link
    return links


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the checkout's sources."""
    folder = tmp_path_factory.mktemp("build")
    (folder / "src").mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / "src" / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, folder / "src" / name)
    run(sys.executable, "-m", "pip", "wheel", folder / "src", "--no-deps", "--no-build-isolation",
        "--no-index", "-q", "-w", folder / "dist")  # fmt: skip
    [built] = (folder / "dist").glob("civiclab-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the checkout with the wheel installed, its libraries lent by the project's."""
    folder = tmp_path_factory.mktemp("installed")
    assert not folder.is_relative_to(ROOT)
    run(sys.executable, "-m", "venv", "--without-pip", folder / "venv")
    libraries = folder / "libraries"
    libraries.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(OURS) and entry.suffix != ".pth":
            (libraries / entry.name).symlink_to(entry)
    [site] = (folder / "venv" / "lib").glob("python3*/site-packages")
    (site / "project_libraries.pth").write_text(f"{libraries}\n", encoding="utf-8")
    python = folder / "venv" / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel)
    return folder / "venv"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a lab's shell: no PYTHONPATH to the checkout, a lab folder of its own."""
    home = tmp_path / "lab"
    home.mkdir()
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**clean, "CIVICLAB_HOME": str(home), "DESK_PASSWORD": "a long desk passphrase"}


def test_the_wheel_carries_every_file_civiclab_reads_at_run_time(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert runtime_files() - names == set()
    assert {"civiclab/py.typed", "civiclab/desk/static/desk.css"} <= names  # what was once left out
    # The served scene fetches nothing: A-Frame and its licence travel in the wheel.
    scene = "pilots/journey/participants/static/"
    assert {scene + "aframe-v1.8.0.min.js", scene + "aframe-LICENSE.txt", scene + "scene.js"} <= names


def test_civiclab_imports_from_the_installed_wheel_not_the_checkout(
    venv: Path, env: dict[str, str], tmp_path: Path
) -> None:
    probe = (
        "import civiclab, pilots, evaluators, importlib.metadata as m\n"
        "print(civiclab.__file__, pilots.__file__, evaluators.__file__)\n"
        "print(len([e for e in m.entry_points(group='civiclab.pilots') if e.name == 'journey']))"
    )
    files, journeys = run(venv / "bin" / "python", "-c", probe, env=env, cwd=tmp_path).split("\n")[:2]
    for file in files.split():
        assert Path(file).resolve().is_relative_to(venv.resolve()), file
    assert journeys == "1"  # one civiclab distribution: the checkout's editable install is not seen


def test_the_installed_desk_serves_its_login_page_and_stylesheets(
    venv: Path, env: dict[str, str], tmp_path: Path
) -> None:
    civiclab = venv / "bin" / "civiclab"
    run(civiclab, "desk", "user", "add", "clerk", "--role", "viewer", "--password-env", "DESK_PASSWORD",
        env=env, cwd=tmp_path)  # fmt: skip
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    store = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    command = [str(civiclab), "desk", "--port", str(port), "--tracking-uri", store]
    with serving(command, f"{base}/healthz", env, tmp_path, tmp_path / "desk.log"):
        status, kind, page = get(f"{base}/login")
        assert status == 200 and kind.startswith("text/html")
        assert b"<form" in page
        links = stylesheets_served(base, page, venv)
    assert "/static/desk.css" in links


def test_the_installed_survey_form_serves_its_page_and_stylesheet(
    venv: Path, env: dict[str, str], tmp_path: Path, journey_spec: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(venv / "bin" / "civiclab"), "survey", "serve", "--experiment", str(journey_spec)]
    command += ["--port", str(port)]
    with serving(command, f"{base}/healthz", env, tmp_path, tmp_path / "survey.log"):
        status, kind, page = get(f"{base}/")  # redirected to the form in the survey's first language
        assert status == 200 and kind.startswith("text/html")
        assert b"<form" in page
        links = stylesheets_served(base, page, venv)
    assert "/static/form.css" in links
