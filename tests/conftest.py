"""Shared fixtures (a real SQLite MLflow store per test, the repository's experiments, offline models) and
the test tiers: their timeouts, the tools they need, and a summary line of the tiers a run skipped."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.mlflow_schema import copy_schema_from
from tests.tools import TIER_TOOLS, ci_is_set, missing_tool_of, require, set_strict
from tests.workers import group_by_file

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"

# A unit test has the ini's `timeout` (pyproject); a test of a slower tier has this, unless it sets its own.
TIERS = ("integration", "browser", "evm_node", "lrs", "ray", "slow", "packaging")
TIER_TIMEOUT_S = 600


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-tools",
        action="store_true",
        help="fail, never skip, a test whose tool (PostgreSQL, Chromium, anvil, the LRS, Ray, node packages) is missing; "
        "on whenever CI is set",
    )


def pytest_configure(config: pytest.Config) -> None:
    set_strict(bool(config.getoption("--require-tools")) or ci_is_set())
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # One thread per worker for torch's and numpy's math: the workers already fill the cores, and a
        # pool per worker on top of them makes each wait for the other (a lab's own setting is kept).
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ.setdefault(name, "1")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is None and any(item.get_closest_marker(t) for t in TIERS):
            item.add_marker(pytest.mark.timeout(TIER_TIMEOUT_S))
    # Before xdist names each test's group (tests/workers.py).
    group_by_file(config, items)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for tier, tools in TIER_TOOLS.items():
        if item.get_closest_marker(tier) is not None:
            require(*tools)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per missing tool with the number of tests it skipped: a green run says what it left out."""
    skipped: dict[tuple[str, str], int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        tool = missing_tool_of(reason)
        if tool is not None:
            skipped[tool] = skipped.get(tool, 0) + 1
    if not skipped:
        return
    total = sum(skipped.values())
    terminalreporter.write_sep("=", f"skipped because a tool is missing: {total} tests", yellow=True)
    for (tool, install), count in sorted(skipped.items()):
        tests = "test" if count == 1 else "tests"
        terminalreporter.write_line(f"  {tool}: {count} {tests} skipped; install it with: {install}")


@pytest.fixture(scope="session", autouse=True)
def civiclab_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One lab folder (secrets) for the whole test session, so no test writes to the developer's home.

    Session-wide like a real lab's: runs built by module fixtures and the tests that re-derive their
    pseudonyms share one salt. A test that needs a fresh lab sets CIVICLAB_HOME itself.
    """
    home = tmp_path_factory.mktemp("civiclab-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CIVICLAB_HOME", str(home))
        patch.delenv("CIVICLAB_PSEUDONYM_SALT", raising=False)
        # Signing: runs are signed with the session's demo key; no trust file unless a test gives one.
        patch.delenv("CIVICLAB_KEY", raising=False)
        patch.delenv("CIVICLAB_TRUST", raising=False)
        yield home


@pytest.fixture(scope="session", autouse=True)
def mlflow_schema(tmp_path_factory: pytest.TempPathFactory) -> None:
    """MLflow's migrations run once per worker; each new SQLite store gets their result (tests/mlflow_schema.py)."""
    copy_schema_from(tmp_path_factory.mktemp("mlflow-schema") / "mlflow.db")


@pytest.fixture
def lab_home(civiclab_home: Path) -> Path:
    """The lab's secrets folder (CIVICLAB_HOME) of this test session, never the developer's."""
    return civiclab_home


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    """A fresh SQLite MLflow store in the test's own folder."""
    return f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"


@pytest.fixture
def journey_spec(tmp_path: Path) -> Path:
    """A copy of the journey experiment (and its data) that a test may edit freely."""
    return copy_journey(tmp_path)


def copy_journey(tmp_path: Path) -> Path:
    """Copy the journey experiment and its data under `tmp_path`/experiments; the spec's path."""
    folder = tmp_path / "experiments"
    shutil.copytree(EXPERIMENTS / "data" / "journey", folder / "data" / "journey")
    shutil.copytree(EXPERIMENTS / "data" / "survey" / "journey", folder / "data" / "survey" / "journey")
    shutil.copy(EXPERIMENTS / "data" / "personas.yaml", folder / "data" / "personas.yaml")
    spec = folder / "journey.yaml"
    raw = yaml.safe_load((EXPERIMENTS / "journey.yaml").read_text(encoding="utf-8"))
    if raw.get("survey"):
        # The web form's store of this test, not the developer's mlruns/survey.db.
        raw["survey"]["store"] = f"sqlite:///{tmp_path / 'survey.db'}"
    spec.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return spec
