"""Property-based tests of the spec loader (issue 15): random or malformed YAML and random field
values never give a traceback: either a valid experiment or a one-line CivicLabError naming the file."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from civiclab.errors import CivicLabError
from civiclab.plugins.experiment import load_experiment

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BASE: dict[str, Any] = yaml.safe_load((ROOT / "experiments" / "journey.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lab folder with the journey experiment's data (personas, journey graph, survey export)."""
    root = tmp_path_factory.mktemp("spec-props")
    for part in ("journey", "survey/journey"):
        shutil.copytree(ROOT / "experiments" / "data" / part, root / "data" / part)
    shutil.copy(ROOT / "experiments" / "data" / "personas.yaml", root / "data" / "personas.yaml")
    return root


def _load_or_one_line_error(spec: Path) -> None:
    try:
        load_experiment(spec)
    except CivicLabError as exc:
        text = str(exc)
        assert "\n" not in text, text
        assert str(spec) in text, text
    # Any other exception type fails the test with its traceback: that is the bug to find.


YAML_TOKENS = st.sampled_from(
    [
        "name:",
        "pilot:",
        "  kind:",
        " journey",
        "population:",
        "  sessions:",
        " -1",
        " 1e999",
        "&a",
        "*a",
        "!!python/object:os.system",
        "[",
        "]",
        "{",
        "}",
        "- ",
        ": ",
        "'",
        '"',
        "\n",
        "\t",
        "%YAML 1.2",
        "---",
        "? ",
        "|",
        ">",
        "#",
        "\x00",
        "\ufeff",
        "~",
        "null",
        ".nan",
        "2026-13-45",
        "0x1F",
        "evaluators:",
    ]
)


@SETTINGS
@given(st.lists(YAML_TOKENS | st.text(max_size=12), max_size=40).map("".join))
@example("population: {start: 2026-13-45}\n")  # found by Hypothesis: ValueError from PyYAML
def test_random_yaml_text_is_a_spec_or_one_line_error(folder: Path, text: str) -> None:
    spec = folder / "random.yaml"
    spec.write_text(text, encoding="utf-8")
    _load_or_one_line_error(spec)


PATHS = [
    ("name",),
    ("version",),
    ("pilot",),
    ("pilot", "kind"),
    ("pilot", "params"),
    ("population",),
    ("population", "sessions"),
    ("population", "seed"),
    ("population", "personas"),
    ("population", "start"),
    ("evaluators",),
    ("channels",),
    ("scorecard", "criteria"),
    ("privacy", "k_anonymity"),
    ("energy", "country"),
    ("survey",),
    ("survey", "responses"),
    ("audit",),
    ("audit", "anchor"),
    ("tracking", "uri"),
    ("governance",),
]
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["/etc/passwd", "/dev/zero", "../../x.yaml", "data", "http://u:p@127.0.0.1:1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(PATHS), VALUES), min_size=1, max_size=3))
def test_random_field_values_are_a_spec_or_one_line_error(
    folder: Path, changes: list[tuple[tuple[str, ...], Any]]
) -> None:
    raw = copy.deepcopy(BASE)
    for path, value in changes:
        node = raw
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[path[-1]] = value
    spec = folder / "mutated.yaml"
    spec.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    _load_or_one_line_error(spec)
