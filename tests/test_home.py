"""The lab's home and its settings: one table of every `CIVICLAB_*` variable, one number parser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civiclab.cli import main
from civiclab.errors import SettingError
from civiclab.home import SETTINGS, int_setting, lab_home, parse_number, settings_table

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "civiclab"
TEXT_FILES = ("*.py", "*.md", "*.j2", "*.html", "*.js", "*.yaml")
NAME = re.compile(r"CIVICLAB_[A-Z0-9_]+")


def _names_in_source() -> dict[str, set[str]]:
    """Every `CIVICLAB_…` name written in civiclab/ outside the table itself, and where."""
    found: dict[str, set[str]] = {}
    for pattern in TEXT_FILES:
        for path in SOURCE.rglob(pattern):
            if path == SOURCE / "home.py":
                continue
            for name in NAME.findall(path.read_text(encoding="utf-8")):
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def _listed(name: str) -> bool:
    for setting in SETTINGS:
        family, sep, _ = setting.name.partition("<")  # CIVICLAB_DESK_KEY_<KEY>: one variable per key
        if name == setting.name or (sep and name.startswith(family)):
            return True
    return False


def test_the_table_lists_every_civiclab_variable_the_source_names() -> None:
    found = _names_in_source()
    assert len(found) >= len(SETTINGS) - 1  # the scan finds names at all (the family counts once)
    missing = {name: sorted(where) for name, where in found.items() if not _listed(name)}
    assert not missing, f"add them to civiclab.home.SETTINGS: {missing}"


def test_every_setting_of_the_table_is_used_somewhere() -> None:
    found = _names_in_source()
    family = {s.name: s.name.partition("<")[0] if "<" in s.name else None for s in SETTINGS}
    unused = [
        name
        for name, prefix in family.items()
        if not any(n == name or (prefix and n.startswith(prefix)) for n in found)
    ]
    assert not unused, f"no longer read anywhere: {unused}"


def test_the_readme_shows_the_same_table_as_the_module(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    assert table == settings_table()
    assert main(["settings"]) == 0
    assert capsys.readouterr().out.strip() == settings_table()
    assert len(table.splitlines()) == len(SETTINGS) + 2


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("12x", "'12x' is not a whole number"),
        ("2.5", "'2.5' is not a whole number"),
        ("-3", "must not be negative"),
    ],
)
def test_a_bad_number_is_refused_in_one_line_naming_the_variable(
    value: str, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIVICLAB_SURVEY_RATE_LIMIT", value)
    with pytest.raises(SettingError) as info:
        int_setting("CIVICLAB_SURVEY_RATE_LIMIT")
    assert str(info.value) == f"$CIVICLAB_SURVEY_RATE_LIMIT: {problem}"
    assert info.value.exit_code == 2


def test_the_parser_reads_floats_and_refuses_what_is_not_a_number() -> None:
    assert parse_number("SOME_VARIABLE", "2.5", float) == 2.5
    for text in ("nan", "-0.5", "fast"):
        with pytest.raises(SettingError, match=r"^\$SOME_VARIABLE: "):
            parse_number("SOME_VARIABLE", text, float)


def test_unset_or_empty_means_the_default_of_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    default = next(s.default for s in SETTINGS if s.name == "CIVICLAB_MAX_YAML_ALIASES")
    monkeypatch.delenv("CIVICLAB_MAX_YAML_ALIASES", raising=False)
    assert int_setting("CIVICLAB_MAX_YAML_ALIASES") == default
    monkeypatch.setenv("CIVICLAB_MAX_YAML_ALIASES", "")
    assert int_setting("CIVICLAB_MAX_YAML_ALIASES") == default
    monkeypatch.setenv("CIVICLAB_MAX_YAML_ALIASES", "7")
    assert int_setting("CIVICLAB_MAX_YAML_ALIASES") == 7
    with pytest.raises(KeyError, match="CIVICLAB_NOT_A_SETTING"):
        int_setting("CIVICLAB_NOT_A_SETTING")


def test_a_bad_setting_stops_a_command_in_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIVICLAB_MAX_SPEC_BYTES", "five megabytes")
    assert main(["validate", str(ROOT / "experiments" / "journey.yaml")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == ["civiclab: error: $CIVICLAB_MAX_SPEC_BYTES: 'five megabytes' is not a whole number"]


def test_keys_and_secrets_live_in_the_one_lab_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from civiclab.evidence.signing.keys import keys_dir
    from civiclab.privacy.secrets import lab_secret

    monkeypatch.setenv("CIVICLAB_HOME", str(tmp_path / "lab"))
    assert lab_home() == tmp_path / "lab"
    assert keys_dir() == lab_home() / "keys"
    lab_secret("probe")
    assert (lab_home() / "secrets" / "probe").is_file()
    monkeypatch.delenv("CIVICLAB_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "someone"))
    assert lab_home() == tmp_path / "someone" / ".config" / "civiclab"
