"""A copy of the immersive journey experiment in a test's folder, with its own survey and statement stores."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = "journey_immersive"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def immersive_spec(folder: Path, lrs: dict[str, Any] | None = None, k: int | None = None) -> Path:
    """experiments/journey_immersive.yaml copied into `folder`: its store there, or the given LRS."""
    target = folder / "experiments"
    shutil.copytree(ROOT / "experiments/data/journey", target / "data/journey")
    shutil.copy(ROOT / "experiments/data/personas.yaml", target / "data/personas.yaml")
    raw = yaml.safe_load((ROOT / "experiments" / f"{EXPERIMENT}.yaml").read_text())
    raw["pilot"]["params"]["store"] = {"path": str(folder / "statements.db")}
    if lrs is not None:
        raw["pilot"]["params"].pop("store")
        raw["pilot"]["params"]["lrs"] = lrs
    if k is not None:
        raw["privacy"]["k_anonymity"] = k
    raw.setdefault("survey", {})["store"] = f"sqlite:///{folder / 'survey.db'}"
    spec = target / f"{EXPERIMENT}.yaml"
    spec.write_text(yaml.safe_dump(raw, sort_keys=False))
    return spec


def invite(folder: Path, count: int) -> list[str]:
    from civiclab.survey import SurveyStore

    store = SurveyStore(f"sqlite:///{folder / 'survey.db'}")
    try:
        return store.create_invitations(EXPERIMENT, count)
    finally:
        store.close()


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "the page has no form token"
    return found.group(1)
