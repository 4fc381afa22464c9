"""A third-party plugin, built as its own distribution from the README's example, run through the real CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow  # whole experiments: left out of `make test-fast`

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Writing your own pilot or evaluator"


def readme_blocks(language: str) -> list[str]:
    """The code blocks of the README's plugin section, as a plugin author would copy them."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


def build_distribution(tmp_path: Path, name: str, module: str, source: str, entry_points: str) -> Path:
    """Write a distribution (pyproject + one module) and install it, with its dist-info, into a folder."""
    project = tmp_path / f"{name}-src"
    project.mkdir()
    (project / f"{module}.py").write_text(source, encoding="utf-8")
    (project / "pyproject.toml").write_text(
        f"""[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "1.0.0"

[tool.setuptools]
py-modules = ["{module}"]

{entry_points}""",
        encoding="utf-8",
    )
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(project)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert list(target.glob(f"{name.replace('-', '_')}-1.0.0.dist-info/entry_points.txt"))
    return target


def civiclab(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", "civiclab.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def kiosk_spec(journey_spec: Path, wait_s: float, at_most_s: float) -> Path:
    data = yaml.safe_load(journey_spec.read_text(encoding="utf-8"))
    data["name"] = "town-hall-kiosk"
    data["pilot"] = {"kind": "kiosk", "params": {"wait_s": wait_s}}
    data["evaluators"] = ["waiting"]
    data["population"]["sessions"] = 40
    data["energy"] = {"country": "FRA", "tracker": "none"}
    data.pop("survey", None)
    data["scorecard"] = {
        "criteria": [
            {"metric": "human_centered.mean_wait_s", "label": "Wait at the kiosk", "at_most": at_most_s}
        ]
    }
    spec = journey_spec.with_name("kiosk.yaml")
    spec.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return spec


@pytest.fixture(scope="module")
def kiosk_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    (source,) = readme_blocks("python")
    (entry_points,) = readme_blocks("toml")
    return build_distribution(
        tmp_path_factory.mktemp("dist"), "kiosk-plugin", "kiosk_plugin", source, entry_points
    )


def test_the_readme_plugin_is_listed_validated_and_run_through_the_cli(
    kiosk_site: Path, journey_spec: Path, tmp_path: Path
) -> None:
    listed = civiclab(kiosk_site, "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "kiosk" in listed.stdout and "waiting" in listed.stdout
    assert "failed to load" not in listed.stderr

    spec = kiosk_spec(journey_spec, wait_s=60, at_most_s=120)
    checked = civiclab(kiosk_site, "validate", str(spec), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr

    store = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    ran = civiclab(kiosk_site, "run", str(spec), "--tracking-uri", store, "--json", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "failed to load" not in ran.stderr
    summary = json.loads(ran.stdout)
    assert summary["sessions"] == 40
    assert summary["metrics"]["human_centered.mean_wait_s"] == 60.0
    assert summary["criteria"] == {"Wait at the kiosk": "pass"}
    assert summary["recommendation"] == "go"


def test_the_plugin_s_own_evaluator_can_stop_a_pilot(
    kiosk_site: Path, journey_spec: Path, tmp_path: Path
) -> None:
    spec = kiosk_spec(journey_spec, wait_s=300, at_most_s=120)
    store = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    ran = civiclab(kiosk_site, "run", str(spec), "--tracking-uri", store, "--json", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    summary = json.loads(ran.stdout)
    assert summary["metrics"]["human_centered.mean_wait_s"] == 300.0
    assert summary["criteria"] == {"Wait at the kiosk": "fail"}
    assert summary["recommendation"] != "go"


def test_a_broken_plugin_is_one_warning_and_the_rest_still_runs(
    kiosk_site: Path, journey_spec: Path, tmp_path: Path
) -> None:
    broken = build_distribution(
        tmp_path,
        "broken-plugin",
        "broken_plugin",
        'raise ImportError("needs a kiosk SDK that is not installed")\n',
        '[project.entry-points."civiclab.pilots"]\nbroken = "broken_plugin"\n',
    )
    site = Path(f"{broken}{os.pathsep}{kiosk_site}")
    spec = kiosk_spec(journey_spec, wait_s=60, at_most_s=120)
    store = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    ran = civiclab(site, "run", str(spec), "--tracking-uri", store, "--json", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    # A run loads the plugins its spec names: the broken one, not named, is not even imported.
    assert "failed to load" not in ran.stderr
    assert json.loads(ran.stdout)["recommendation"] == "go"
    # Listing the plugins loads them all: the broken one is one warning, the others are listed.
    listed = civiclab(site, "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    warnings = [line for line in listed.stderr.splitlines() if "failed to load" in line]
    assert len(warnings) == 1, listed.stderr
    assert "pilot plugin 'broken'" in warnings[0] and "needs a kiosk SDK" in warnings[0]
    assert "kiosk" in listed.stdout
