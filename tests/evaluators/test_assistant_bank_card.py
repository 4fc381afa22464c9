"""The adversarial bank asked inside a run: one census per category, judged by the scorecard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import run_experiment
from evaluators.assistant_bank import CATEGORIES
from pilots.assistant.bank import BANK
from pilots.assistant.bank import CATEGORIES as BANK_CATEGORIES
from tests.pilots.assistant_support import write_spec

pytestmark = pytest.mark.slow  # whole runs of the built-in pipeline


def test_the_evaluator_knows_every_category_of_the_bank() -> None:
    assert tuple(CATEGORIES) == BANK_CATEGORIES


def small_bank(folder: Path, keep: set[str]) -> Path:
    """civiclab's bank cut to the probes `keep` names (same version, same texts and checks)."""
    bank = yaml.safe_load(BANK.read_text(encoding="utf-8"))
    bank["probes"] = [p for p in bank["probes"] if p["id"] in keep]
    path = folder / "bank.yaml"
    path.write_text(yaml.safe_dump(bank, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def bank_run(folder: Path, **params: object):  # type: ignore[no-untyped-def]
    spec = write_spec(folder, adversarial_scan=True, **params)
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    data["population"]["sessions"] = 10
    data["evaluators"] = ["assistant"]
    data.pop("survey", None)
    data["scorecard"]["criteria"] = [
        c for c in data["scorecard"]["criteria"] if c["metric"].startswith("human_centered.bank_")
    ]
    spec.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{folder}/mlflow.db")


def test_each_category_is_the_scan_reports_own_count_and_a_criterion(tmp_path: Path) -> None:
    result = bank_run(tmp_path)
    assert result.artifact_dir is not None
    report = json.loads((result.artifact_dir / "scan.json").read_text(encoding="utf-8"))
    assert len(report["probes"]) == len(yaml.safe_load(BANK.read_text(encoding="utf-8"))["probes"])
    metrics = {m.name: m for m in result.metrics if m.name.startswith("human_centered.bank_")}
    assert set(metrics) == {f"human_centered.bank_{c}" for c in BANK_CATEGORIES}
    for category in report["categories"]:
        name = category["category"]
        # Recounted from the report's probes (groups for discrimination): the same counts.
        probes = [p for p in report["probes"] if p["category"] == name]
        if name != "discrimination":
            assert category["units"] == len(probes)
            assert category["passed"] == sum(p["passed"] is True for p in probes)
        metric = metrics[f"human_centered.bank_{name}"]
        assert metric.value == pytest.approx(category["passed"] / category["units"])
        assert metric.n == category["units"] and metric.census is not None
        assert f"{category['passed']} passed, {category['failed']} failed" in (metric.note or "")
    verdicts = {c.metric: c for c in result.scorecard.criteria}
    for c in BANK_CATEGORIES:
        verdict = verdicts[f"human_centered.bank_{c}"]
        share = metrics[f"human_centered.bank_{c}"].value
        assert verdict.verdict == ("pass" if share == 1.0 else "fail") and verdict.census
    # Blocking where safety demands it.
    for c in ("injection_direct", "injection_retrieved", "extraction", "invented"):
        assert verdicts[f"human_centered.bank_{c}"].severity == "blocking"
    # The report is a signed artifact of the run; answers in it are redacted.
    manifest = json.loads((result.artifact_dir / "manifest.json").read_text(encoding="utf-8"))
    assert "scan.json" in manifest["artifacts"] and "scan.md" in manifest["artifacts"]


def test_one_failing_probe_fails_its_category_exactly(tmp_path: Path) -> None:
    # The built-in pipeline answers this one itself although a child in danger needs a person
    # (seen in the scan of the whole bank), and resists these two injections.
    bank = small_bank(tmp_path, {"hum-fr-2", "hum-fr-1", "inj-d-fr-1", "inj-d-fr-2"})
    result = bank_run(tmp_path, adversarial_bank=str(bank))
    metrics = {m.name: m for m in result.metrics if m.name.startswith("human_centered.bank_")}
    handover = metrics["human_centered.bank_handover_required"]
    assert (handover.value, handover.n) == (0.5, 2)
    assert metrics["human_centered.bank_injection_direct"].value == 1.0
    assert metrics["human_centered.bank_extraction"].value is None  # no probe of it in this bank
    verdicts = {c.metric: c for c in result.scorecard.criteria}
    failed = verdicts["human_centered.bank_handover_required"]
    assert failed.verdict == "fail" and failed.census and failed.observed == 0.5
    assert verdicts["human_centered.bank_injection_direct"].verdict == "pass"
    assert verdicts["human_centered.bank_extraction"].verdict == "missing"


def test_a_labs_own_system_is_asked_the_bank_inside_its_run(tmp_path: Path) -> None:
    from pilots.assistant.standin import serve
    from tests.pilots.assistant_support import DATA
    from tests.pilots.byo_support import byo_spec, http_system

    bank = small_bank(tmp_path, {"inj-d-fr-1", "hum-fr-2", "eq-fr-1a", "eq-fr-1b", "eq-fr-1c"})
    with serve(DATA / "knowledge_base.yaml") as url:
        spec = byo_spec(
            tmp_path, http_system(url), sessions=6, adversarial_scan=True, adversarial_bank=str(bank)
        )
        result = run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{tmp_path}/m.db")
    assert result.artifact_dir is not None
    report = json.loads((result.artifact_dir / "scan.json").read_text(encoding="utf-8"))
    assert report["system"] != "builtin" and len(report["probes"]) == 5
    metrics = {m.name: m for m in result.metrics if m.name.startswith("human_centered.bank_")}
    for category in report["categories"]:
        metric = metrics[f"human_centered.bank_{category['category']}"]
        assert metric.value == pytest.approx(category["passed"] / category["units"])
    assert metrics["human_centered.bank_discrimination"].n == 1  # one group of three variants
