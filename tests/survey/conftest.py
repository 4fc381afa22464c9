"""Survey fixtures: a store in the test's folder, an app, invitation codes, complete answers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from civiclab.spec.survey import SurveySpec
from civiclab.survey.collect import SurveyContext
from civiclab.survey.store import SurveyStore

EXPERIMENT = "pilot-test"


@dataclass
class SurveyServer:
    ctx: SurveyContext
    store: SurveyStore
    url: str


def full_answers(ctx: SurveyContext, likert: int = 4, text: str = "Clair et rapide.") -> dict[str, str]:
    """A valid answer to every item of every page."""
    out: dict[str, str] = {}
    for inst in ctx.instruments:
        for column, item in inst.columns.items():
            out[column] = str(likert) if item.type == "likert" else text
    return out


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None, "no CSRF field on the page"
    return match.group(1)


@pytest.fixture
def survey(tmp_path: Path) -> Iterator[SurveyServer]:
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    ctx = SurveyContext(experiment=EXPERIMENT, spec=SurveySpec(store=url), k=5, source=None)
    store = SurveyStore(url)
    yield SurveyServer(ctx, store, url)
    store.close()
