"""What a `civiclab` command imports at start: only the module of the command asked for, with the same options."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from civiclab.cli import COMMAND_MODULES, CORE_COMMANDS, asked_command, build_parser


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _shape(parser: argparse.ArgumentParser) -> list[object]:
    """A parser's options and subcommands, recursively (what a user can type)."""
    shape: list[object] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            shape.append({name: _shape(sub) for name, sub in action.choices.items()})
        else:
            shape.append((tuple(action.option_strings), action.dest, action.nargs, action.default))
    return shape


def test_every_command_is_either_core_or_in_the_table_of_command_modules() -> None:
    full = _commands(build_parser())
    mine = set(CORE_COMMANDS) | set(COMMAND_MODULES)
    from importlib.metadata import entry_points

    plugin_made = argparse.ArgumentParser().add_subparsers()
    for point in entry_points().select(group="civiclab.commands"):
        point.load()(plugin_made)
    assert set(full) == mine | set(plugin_made.choices)
    assert not mine & set(plugin_made.choices)


@pytest.mark.parametrize("command", [*CORE_COMMANDS, *COMMAND_MODULES])
def test_a_command_line_naming_a_command_builds_it_exactly_as_the_full_parser_does(command: str) -> None:
    full = _commands(build_parser())[command]
    alone = _commands(build_parser(["-v", "--tracking-uri", "sqlite:///x.db", command, "--help"]))
    assert _shape(alone[command]) == _shape(full)
    expected = (
        {command}
        | set(CORE_COMMANDS)
        | {c for c, m in COMMAND_MODULES.items() if m == COMMAND_MODULES.get(command)}
    )
    assert set(alone) == expected


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["validate", "x.yaml"], "validate"),
        (["-vv", "--tracking-uri", "sqlite:///validate.db", "verify", "RUN"], "verify"),
        (["--tracking-uri=sqlite:///a.db", "desk", "serve"], "desk"),
        (["--help"], None),
        ([], None),
    ],
)
def test_the_command_asked_for_is_the_first_word_that_is_not_a_global_option(
    argv: list[str], command: str | None
) -> None:
    assert asked_command(argv) == command


def test_validate_imports_neither_the_desk_nor_the_survey_server_nor_redaction() -> None:
    code = (
        "import sys\n"
        "from civiclab.cli import main\n"
        "try:\n    main(['validate', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('civiclab'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(out.split("\n")[-2].split())
    assert not {"civiclab.desk.cli", "civiclab.survey.cli", "civiclab.privacy.redaction"} & loaded, loaded
