"""Size and YAML-alias limits on what civiclab reads (issue 15: alias amplification and size)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from civiclab.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _alias_bomb(path: Path) -> None:
    """The red-team spec: one 100 KB string anchored once, aliased 10,000 times (≈143 KB on disk)."""
    aliases = ", ".join(["*b"] * 10_000)
    path.write_text(
        "version: 1\nname: bomb\n"
        f"description: &b {'x' * 100_000}\n"
        "pilot: {kind: journey, params: {}}\n"
        "population: {personas: data/personas.yaml, sessions: 5}\n"
        "evaluators: [human_centered]\n"
        f"channels: [{aliases}]\n",
        encoding="utf-8",
    )


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


# Guards issue 15 "YAML alias amplification": on main this validated (and ran with 4.1 GB peak).
def test_a_yaml_alias_bomb_is_refused_in_one_line_in_under_a_second(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "bomb.yaml"
    _alias_bomb(spec)
    assert 130_000 < spec.stat().st_size < 160_000
    started = time.perf_counter()
    code = main(["validate", str(spec)])
    elapsed = time.perf_counter() - started
    err = _errors(capsys.readouterr().err)
    assert code == 2
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
    assert len(err) == 1 and str(spec) in err[0] and "more than 100 YAML aliases" in err[0]


# Guards issue 15 "limit spec and data file sizes": a 6 MB spec is refused before it is parsed.
def test_a_spec_over_the_size_limit_is_refused_and_the_limit_is_configurable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "huge.yaml"
    spec.write_text("description: '" + "x" * 6_000_000 + "'\n", encoding="utf-8")
    started = time.perf_counter()
    assert main(["validate", str(spec)]) == 2
    assert time.perf_counter() - started < 1.0
    err = _errors(capsys.readouterr().err)
    assert len(err) == 1 and "6.0 MB, over the 5.0 MB limit" in err[0] and "CIVICLAB_MAX_SPEC_BYTES" in err[0]

    monkeypatch.setenv("CIVICLAB_MAX_SPEC_BYTES", "1000")
    small = tmp_path / "small.yaml"
    small.write_text("name: x\n" + "# padding\n" * 200, encoding="utf-8")
    assert main(["validate", str(small)]) == 2
    assert "over the 1 KB limit" in capsys.readouterr().err


def test_a_few_aliases_in_a_real_spec_still_work(tmp_path: Path) -> None:
    folder = tmp_path / "experiments"
    shutil.copytree(ROOT / "experiments" / "data", folder / "data")
    text = (ROOT / "experiments" / "journey.yaml").read_text(encoding="utf-8")
    spec = folder / "journey.yaml"
    # A legitimate use: the description anchored and reused as the tracking experiment's name.
    text = text.replace("name: ", "name: &name ", 1) + "\ntracking:\n  experiment: *name\n"
    spec.write_text(text, encoding="utf-8")
    assert main(["validate", str(spec)]) == 0


def test_a_lab_instrument_file_has_the_same_alias_budget(tmp_path: Path) -> None:
    from civiclab.errors import SurveyError
    from civiclab.spec.instruments import load_instrument

    bomb = tmp_path / "mine.yaml"
    bomb.write_text("name: &n mine\ncode: MINE\nitems: [" + ", ".join(["*n"] * 500) + "]\n", encoding="utf-8")
    with pytest.raises(SurveyError, match="more than 100 YAML aliases"):
        load_instrument(bomb)
