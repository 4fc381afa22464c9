"""The redaction cache: same output as redacting afresh, no model on a hit, recomputed when anything changes."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from civiclab.privacy.redaction import cache
from civiclab.privacy.redaction.cache import cache_dir, cached_redaction, entry_name
from evaluators.acceptability import EXPORT_KIND, redacted_export

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "experiments" / "data" / "survey" / "journey" / "responses.csv"
PHONE = b"06 12 34 56 78"


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty lab folder, so that every test starts with an empty cache."""
    home = tmp_path / "home"
    monkeypatch.setenv("CIVICLAB_HOME", str(home))
    return home


def counting(redact: Callable[[bytes], bytes]) -> tuple[Callable[[bytes], bytes], list[bytes]]:
    calls: list[bytes] = []

    def wrapped(raw: bytes) -> bytes:
        calls.append(raw)
        return redact(raw)

    return wrapped, calls


def test_cached_export_is_the_export_redacted_afresh_and_holds_no_raw_answer(fresh_home: Path) -> None:
    raw = DEMO.read_bytes()
    assert PHONE in raw
    redact, calls = counting(redacted_export)
    first = cached_redaction(EXPORT_KIND, raw, redact)
    second = cached_redaction(EXPORT_KIND, raw, redact)
    assert first == second == redacted_export(raw)  # real Presidio + spaCy, no cache
    assert len(calls) == 1  # the second one was read back
    (entry,) = cache_dir().iterdir()
    assert entry.name == entry_name(EXPORT_KIND, raw)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert stat.S_IMODE(entry.parent.stat().st_mode) == 0o700
    kept = entry.read_bytes()
    assert PHONE not in kept and b"[PHONE]" in kept  # only the redacted text is kept


def test_a_changed_file_is_redacted_again(fresh_home: Path) -> None:
    raw = DEMO.read_bytes()
    redact, calls = counting(redacted_export)
    cached_redaction(EXPORT_KIND, raw, redact)
    changed = raw.replace(PHONE, b"07 98 76 54 32")
    out = cached_redaction(EXPORT_KIND, changed, redact)
    assert calls == [raw, changed]
    assert b"07 98 76 54 32" not in out and b"[PHONE]" in out
    assert len(list(cache_dir().iterdir())) == 2


def test_another_redaction_fingerprint_or_kind_is_a_miss(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = b"a,b\n1,Rappelez-moi au 06 12 34 56 78\n"
    redact, calls = counting(redacted_export)
    cached_redaction(EXPORT_KIND, raw, redact)
    cached_redaction("survey-export/other-version", raw, redact)
    monkeypatch.setattr(cache, "fingerprint", lambda: "another spaCy model or civiclab version")
    cached_redaction(EXPORT_KIND, raw, redact)
    assert len(calls) == 3


def test_the_fingerprint_follows_the_model_and_the_redaction_code(monkeypatch: pytest.MonkeyPatch) -> None:
    from civiclab.privacy.redaction import recognizers

    cache.fingerprint.cache_clear()
    before = cache.fingerprint()
    monkeypatch.setattr(recognizers, "SPACY_MODEL", "fr_core_news_sm")
    cache.fingerprint.cache_clear()
    assert cache.fingerprint() != before
    monkeypatch.undo()
    cache.fingerprint.cache_clear()
    assert cache.fingerprint() == before


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data.replace(b"[PHONE]", b"[PHONX]"),  # body altered
        lambda data: b"not an entry at all",
    ],
    ids=["truncated", "altered", "garbage"],
)
def test_a_corrupt_entry_is_ignored_with_a_warning_and_recomputed(
    fresh_home: Path, caplog: pytest.LogCaptureFixture, damage: Callable[[bytes], bytes]
) -> None:
    raw = DEMO.read_bytes()
    redact, calls = counting(redacted_export)
    good = cached_redaction(EXPORT_KIND, raw, redact)
    entry = cache_dir() / entry_name(EXPORT_KIND, raw)
    entry.write_bytes(damage(entry.read_bytes()))
    with caplog.at_level(logging.WARNING, logger="civiclab.privacy.redaction.cache"):
        again = cached_redaction(EXPORT_KIND, raw, redact)
    assert again == good and len(calls) == 2
    assert any("corrupt" in r.getMessage() for r in caplog.records)
    caplog.clear()
    assert cached_redaction(EXPORT_KIND, raw, redact) == good and len(calls) == 2  # rewritten whole
    assert not caplog.records


def test_an_unwritable_cache_costs_time_not_the_run(
    fresh_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fresh_home.mkdir()
    (fresh_home / "cache").write_text("a file where the cache folder should be")
    raw = b"a,b\n1,Rappelez-moi au 06 12 34 56 78\n"
    with caplog.at_level(logging.WARNING, logger="civiclab.privacy.redaction.cache"):
        assert cached_redaction(EXPORT_KIND, raw, redacted_export) == redacted_export(raw)
    assert any("not written" in r.getMessage() for r in caplog.records)


def test_old_entries_are_pruned_past_the_limit(fresh_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    for i in range(5):
        cached_redaction("test/1", f"{i}".encode(), lambda raw: raw)
        os.utime(cache_dir() / entry_name("test/1", f"{i}".encode()), (1000 + i, 1000 + i))
    names = {p.name for p in cache_dir().iterdir()}
    assert len(names) == 3 and entry_name("test/1", b"4") in names and entry_name("test/1", b"0") not in names


_EVALUATE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from civiclab.plugins.evaluation import RunData
    from civiclab.plugins.experiment import load_experiment
    from evaluators.acceptability import AcceptabilityParams, acceptability

    exp = load_experiment(Path(sys.argv[1]))
    out = Path(sys.argv[2])
    run = RunData.for_experiment(exp, records=[], artifact_dir=out)
    metrics = acceptability(run, AcceptabilityParams())
    print(json.dumps({
        "spacy": "spacy" in sys.modules,
        "presidio": "presidio_analyzer" in sys.modules,
        "export": (out / "survey" / "raw" / "responses.csv").read_text(encoding="utf-8"),
        "comments": (out / "survey" / "comments.jsonl").read_text(encoding="utf-8"),
        "sus": next(m.value for m in metrics if m.name == "acceptability.sus" and m.segment is None),
    }))
    """
)


@pytest.mark.slow
def test_a_cache_hit_runs_the_evaluator_without_loading_spacy(
    journey_spec: Path, tmp_path: Path, fresh_home: Path
) -> None:
    def evaluate(out: str) -> dict[str, object]:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "CIVICLAB_HOME": str(fresh_home)}
        done = subprocess.run(
            [sys.executable, "-c", _EVALUATE, str(journey_spec), str(tmp_path / out)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=False,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    cold = evaluate("cold")
    assert cold["spacy"] and cold["presidio"]  # the first run did need the model
    warm = evaluate("warm")
    assert not warm["spacy"] and not warm["presidio"]
    assert warm["export"] == cold["export"] and warm["comments"] == cold["comments"]
    assert warm["sus"] == cold["sus"]
    assert "06 12 34 56 78" not in warm["export"] and "[PHONE]" in str(warm["comments"])


def test_the_fingerprint_reads_every_module_redaction_runs() -> None:
    from civiclab.privacy.redaction import cache

    names = {p.name for p in cache.redaction_sources()}
    assert {"__init__.py", "patterns.py", "recognizers.py", "names.py", "name_recognizers.py"} <= names
    assert not names & {"cache.py", "cli.py"}
