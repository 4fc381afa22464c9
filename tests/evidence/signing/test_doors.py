"""The doors `civiclab verify` keeps shut on a run's evidence: a signed run rewritten as legacy, a run
moved or renamed in the store, a statement re-signed with another conclusion than its metrics give,
a run's statement anchored twice, and a desk that shows a verification older than the run or the
trust file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from civiclab.evidence.manifest import Manifest
from civiclab.evidence.signing.envelope import read_envelope
from civiclab.store.tracker import Tracker
from tests import anvil_node
from tests.evidence.signing import attacks as a
from tests.evidence.signing import matrix
from tests.evidence.signing.conftest import verify_cli

anvil_url = anvil_node.anvil_url


@pytest.fixture(scope="module")
def store_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('doors') / 'mlflow.db'}"


def _rows(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in table["checks"]}


def _failed(table: dict[str, Any]) -> list[str]:
    return [c["name"] for c in table["checks"] if c["status"] == "failed"]


def _statement(store_uri: str, run_id: str) -> dict[str, Any]:
    folder = a.sqlite_store(store_uri).artifacts(run_id)
    return read_envelope((folder / "statement.dsse.json").read_bytes()).statement()


# --- 1. a signed run is never legacy -------------------------------------------------------------


@pytest.mark.slow
def test_a_signed_run_rewritten_as_legacy_is_refused_without_a_trust_file(
    signed_run: Callable[..., Any], store_uri: str, keys: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Statement deleted, manifest and tags rewritten, a metric and the recommendation changed: without a
    trust file this verified as "unsigned (legacy)"; the run's version tag says its civiclab signs."""
    result = signed_run(store_uri)
    version = Tracker(store_uri).get_run(result.run_id).tags["civiclab.version"]
    matrix._downgraded_to_legacy(a.sqlite_store(store_uri), result.run_id, keys)
    code, table, err = verify_cli(store_uri, result.run_id, None, capsys)
    assert code == 1, table
    assert table["kind"] == "signed"
    assert table["checks"] == [
        {
            "name": "signature",
            "status": "failed",
            "detail": f"statement.dsse.json: this run was made by civiclab {version}, which signs every "
            "run: its signed statement is missing",
        }
    ]
    assert "which signs every run" in err


def _manifest(**changes: Any) -> Manifest:
    base: dict[str, Any] = {
        "run_id": "r1",
        "experiment": "journey",
        "spec_digest": "0" * 64,
        "audit_root": "1" * 64,
        "audit_events": 3,
        "artifacts": {"audit.jsonl": "2" * 64, "metrics.json": "3" * 64},
    }
    return Manifest.model_validate({**base, **changes})


@pytest.mark.parametrize(
    ("tags", "files", "manifest", "reason"),
    [
        ({"civiclab.version": "0.0.9"}, [], _manifest(), None),
        ({"civiclab.version": "0.0.9", "civiclab.pseudonym_key_id": "k"}, [], _manifest(), None),
        ({"civiclab.version": "0.1.0"}, [], _manifest(), "made by civiclab 0.1.0, which signs every run"),
        ({"civiclab.version": "0.1"}, [], None, "made by civiclab 0.1, which signs every run"),
        ({"civiclab.version": "0.2.0rc1"}, [], None, "made by civiclab 0.2.0rc1, which signs every run"),
        (
            {"civiclab.version": "absent"},
            [],
            None,
            "is 'absent', which does not show a civiclab older than 0.1.0",
        ),
        ({}, [], None, "has no civiclab.version tag"),
        (
            {"civiclab.version": "0.0.9", "civiclab.executor": "serial"},
            [],
            None,
            "tagged civiclab.executor, which only a civiclab that signs runs sets",
        ),
        (
            {"civiclab.version": "0.0.9", "civiclab.signer": "abc"},
            [],
            None,
            "tagged civiclab.signer",
        ),
        (
            {"civiclab.version": "0.0.9"},
            ["run_inputs.json"],
            None,
            "run_inputs.json is among the run's files",
        ),
        (
            {"civiclab.version": "0.0.9"},
            [],
            _manifest(artifacts={"statement.dsse.json": "4" * 64}),
            "manifest.json lists statement.dsse.json",
        ),
        (
            {"civiclab.version": "0.0.9"},
            [],
            _manifest(anchor={"anchors": "statement", "statement_sha256": "0x" + "5" * 64}),
            "records an anchor of the run's signed statement",
        ),
    ],
)
def test_what_shows_a_run_without_a_statement_was_signed(
    tmp_path: Path, tags: dict[str, str], files: list[str], manifest: Manifest | None, reason: str | None
) -> None:
    from civiclab.evidence.verify.signing_era import why_signed

    for name in files:
        (tmp_path / name).write_text("{}")
    found = why_signed(tmp_path, tags, manifest)
    if reason is None:
        assert found is None
    else:
        assert found is not None and reason in found and found.endswith("its signed statement is missing")


# --- 2. the store files the run where it was signed, under its signed name -----------------------


@pytest.mark.slow
def test_a_run_moved_or_renamed_in_the_store_fails_naming_both_values(
    signed_run: Callable[..., Any], store_uri: str, trust_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = signed_run(store_uri)
    run = Tracker(store_uri).get_run(result.run_id)
    predicate = _statement(store_uri, result.run_id)["predicate"]
    assert (predicate["tracking_experiment"], predicate["run_name"]) == (run.experiment, run.run_name)
    assert run.run_name == "housing-benefit-journey-seed42"
    code, table, _ = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert code == 0 and _rows(table)["store: run"]["detail"] == (
        "experiment 'housing-benefit-journey' and run name 'housing-benefit-journey-seed42' match"
    )

    store = a.sqlite_store(store_uri)
    a.move_run(store, result.run_id, "approved-pilots")
    code, table, _ = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert code == 1 and _failed(table) == ["store: run"]
    assert _rows(table)["store: run"]["detail"] == (
        "experiment: the store files the run under 'approved-pilots', the signed one is 'housing-benefit-journey'"
    )

    original = Tracker(store_uri).client.get_experiment_by_name("housing-benefit-journey")
    assert original is not None
    store.execute(
        "UPDATE runs SET experiment_id = ? WHERE run_uuid = ?", (int(original.experiment_id), result.run_id)
    )
    Tracker(store_uri).client.update_run(result.run_id, name="journey-approved")  # as MLflow's UI renames
    code, table, _ = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert code == 1 and _failed(table) == ["store: run"]
    assert _rows(table)["store: run"]["detail"] == (
        "run name: store has 'journey-approved', the signed name is 'housing-benefit-journey-seed42'"
    )

    store.execute(
        "UPDATE runs SET name = ? WHERE run_uuid = ?", ("housing-benefit-journey-seed42", result.run_id)
    )
    code, table, _ = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert (
        code == 1 and "mlflow.runName: store has 'journey-approved'" in _rows(table)["store: run"]["detail"]
    )


@pytest.mark.slow
def test_a_statement_signed_before_names_were_signed_is_compared_on_its_experiment(
    signed_run: Callable[..., Any],
    journey_spec: Path,
    store_uri: str,
    keys: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Older statements sign the spec's name and its params: the store experiment is the spec's
    `tracking.experiment` when set, and the run's name is not compared."""
    import yaml

    from civiclab.evidence.signing.keys import load_signer

    spec = yaml.safe_load(journey_spec.read_text())
    spec["tracking"] = {"experiment": "belleval-pilots"}
    journey_spec.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = signed_run(store_uri)
    store = a.sqlite_store(store_uri)
    folder = store.artifacts(result.run_id)

    def older(statement: dict[str, Any]) -> None:
        del statement["predicate"]["tracking_experiment"], statement["predicate"]["run_name"]

    digest = a.resign_statement(folder, older, load_signer(keys["lab"]))
    a.rewrite_manifest(store, result.run_id, folder)
    store.tracker.set_tags(result.run_id, {"civiclab.statement_sha256": digest})
    code, table, err = verify_cli(store_uri, result.run_id, None, capsys)
    assert code == 3, err  # intact; no trust file given
    assert _rows(table)["store: run"]["detail"] == (
        "experiment 'belleval-pilots' matches (this run's statement does not sign its name)"
    )
    a.rename_run(store, result.run_id, "anything")
    assert verify_cli(store_uri, result.run_id, None, capsys)[0] == 3
    a.move_run(store, result.run_id, "housing-benefit-journey-approved")
    code, table, _ = verify_cli(store_uri, result.run_id, None, capsys)
    assert code == 1 and _rows(table)["store: run"]["detail"] == (
        "experiment: the store files the run under 'housing-benefit-journey-approved', "
        "the signed one is 'belleval-pilots'"
    )


# --- 3. the conclusion follows from the signed metrics and spec ----------------------------------


@pytest.mark.slow
def _signed_as_version_1(store_uri: str, run_id: str, keys: dict[str, Any], recommendation: str) -> None:
    """The run's scorecard re-signed as a version 1 scorecard stating `recommendation` (as a run
    signed before the version 2 rules would be)."""
    from civiclab.evidence.manifest import sha256_file
    from civiclab.evidence.signing.keys import load_signer

    store = a.sqlite_store(store_uri)
    folder = store.artifacts(run_id)
    card = json.loads((folder / "scorecard.json").read_text())
    card["version"], card["recommendation"] = 1, recommendation
    (folder / "scorecard.json").write_text(json.dumps(card, indent=2))
    scorecard_sha = sha256_file(folder / "scorecard.json")

    def mutate(statement: dict[str, Any]) -> None:
        statement["predicate"]["scorecard"]["recommendation"] = recommendation
        statement["predicate"]["tags"]["civiclab.recommendation"] = recommendation
        for subject in statement["subject"]:
            if subject["name"] == "scorecard.json":
                subject["digest"]["sha256"] = scorecard_sha

    digest = a.resign_statement(folder, mutate, load_signer(keys["lab"]))
    a.rewrite_manifest(store, run_id, folder)
    store.tracker.set_tags(
        run_id, {"civiclab.recommendation": recommendation, "civiclab.statement_sha256": digest}
    )


def test_a_run_signed_under_version_1_rules_is_re_judged_under_them(
    signed_run: Callable[..., Any],
    store_uri: str,
    trust_file: Path,
    keys: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """400 simulated sessions fail 'a human is within reach' with the whole interval: version 1 stopped
    on it, version 2 and later say the model predicts it (iterate). Each signed scorecard verifies by its rules."""
    result = signed_run(store_uri, sessions=400)
    reach = next(
        c for c in result.scorecard.criteria if c.metric == "human_centered.human_reachable_on_failure"
    )
    assert (reach.verdict, reach.confident, reach.synthetic) == ("fail", True, True)
    assert (result.scorecard.version, result.scorecard.recommendation) == (3, "iterate")
    code, table, _ = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert code == 0 and _rows(table)["verdicts"]["detail"].startswith("ITERATE: ")

    _signed_as_version_1(store_uri, result.run_id, keys, "stop")
    code, table, _ = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert code == 0 and _rows(table)["verdicts"]["detail"].startswith("STOP: ")
    # Declaring version 1 is no way around the re-judging: its rules give STOP, not ITERATE.
    _signed_as_version_1(store_uri, result.run_id, keys, "iterate")
    code, table, _ = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert code == 1 and _failed(table) == ["verdicts"]
    assert _rows(table)["verdicts"]["detail"] == "the signed metrics give STOP, the statement says ITERATE"


def test_the_lab_key_re_signing_a_flipped_recommendation_fails_the_verdicts(
    signed_run: Callable[..., Any],
    store_uri: str,
    trust_file: Path,
    keys: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Everything consistent and signed by the trusted lab key: only re-judging the metrics shows it."""
    result = signed_run(store_uri)
    real = result.scorecard.recommendation
    assert real != "go"
    code, table, _ = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert code == 0 and _rows(table)["verdicts"]["detail"].startswith(
        f"{real.upper()}: {len(result.scorecard.criteria)} criteria and {len(result.scorecard.dimensions)} dim"
    )

    matrix._insider_flips_the_recommendation(a.sqlite_store(store_uri), result.run_id, keys)
    code, table, err = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert code == 1 and table["trusted"] is True
    assert _failed(table) == ["verdicts"]
    assert (
        _rows(table)["verdicts"]["detail"] == f"the signed metrics give {real.upper()}, the statement says GO"
    )
    assert f"verdicts: the signed metrics give {real.upper()}, the statement says GO" in err


@pytest.mark.slow
def test_a_criterion_re_signed_with_another_verdict_or_threshold_is_named(
    signed_run: Callable[..., Any],
    store_uri: str,
    trust_file: Path,
    keys: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from civiclab.evidence.manifest import sha256_file
    from civiclab.evidence.signing.keys import load_signer

    result = signed_run(store_uri)
    store = a.sqlite_store(store_uri)
    folder = store.artifacts(result.run_id)
    lab = load_signer(keys["lab"])
    failing = next(c for c in result.scorecard.criteria if c.verdict == "fail")

    def passed(statement: dict[str, Any]) -> None:
        for c in statement["predicate"]["scorecard"]["criteria"]:
            if c["label"] == failing.label:
                c["verdict"] = "pass"

    digest = a.resign_statement(folder, passed, lab)
    a.rewrite_manifest(store, result.run_id, folder)
    store.tracker.set_tags(result.run_id, {"civiclab.statement_sha256": digest})
    code, table, _ = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert code == 1 and _failed(table) == ["verdicts"]
    assert _rows(table)["verdicts"]["detail"] == (
        f"criterion {failing.label!r}: the signed metrics give fail, the statement says pass"
    )

    # The threshold loosened in the stored spec and re-signed: the spec no longer is the one run.
    spec = (folder / "spec.yaml").read_text()
    first = result.scorecard.criteria[0].threshold
    text = spec.replace(f"at_least: {first}", "at_least: 0.01", 1)
    assert text != spec
    (folder / "spec.yaml").write_text(text)
    spec_sha = sha256_file(folder / "spec.yaml")

    def loosened(statement: dict[str, Any]) -> None:
        passed(statement)
        for subject in statement["subject"]:
            if subject["name"] == "spec.yaml":
                subject["digest"]["sha256"] = spec_sha

    digest = a.resign_statement(folder, loosened, lab)
    a.rewrite_manifest(store, result.run_id, folder)
    store.tracker.set_tags(result.run_id, {"civiclab.statement_sha256": digest})
    code, table, _ = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert code == 1 and _failed(table) == ["verdicts"]
    assert _rows(table)["verdicts"]["detail"] == (
        f"spec.yaml: scorecard.criteria.0.at_least is '0.01', the run was made with '{first}'"
    )


# --- 4. a run's statement is anchored once -------------------------------------------------------


def _anchor_trust(registry: Any) -> Any:
    from civiclab.evidence.signing.trust import AnchorTrust

    chain = registry.chain
    return AnchorTrust(
        chain_id=chain.chain_id, registry=registry.address, issuer=chain.sender, max_delay_s=3600
    )


@pytest.mark.slow
def test_an_earlier_anchor_of_the_same_run_fails_a_re_signed_statement(
    signed_run: Callable[..., Any], store_uri: str, keys: dict[str, Any]
) -> None:
    """On the in-process chain: the lab anchors its run's statement, then someone holding the lab's key
    and the issuer's account re-signs the run with GO and anchors that statement too, in time."""
    from civiclab.evidence.anchoring import anchor_uri
    from civiclab.evidence.verify.anchorcheck import check_anchor_on
    from civiclab.evm import AttestationRegistry, Chain

    result = signed_run(store_uri)
    chain = Chain.connect(None)
    registry, _ = AttestationRegistry.deploy(chain)
    registry.set_issuer(chain.sender, True)
    trust = _anchor_trust(registry)
    signed = Tracker(store_uri).get_run(result.run_id).tags["civiclab.statement_sha256"]
    statement = _statement(store_uri, result.run_id)
    first = registry.anchor(bytes.fromhex(signed), 1, anchor_uri(result.run_id))

    # Another issuer the registry authorised anchors something under the run's name: it is not the
    # trusted issuer, so it neither counts nor disturbs the run's own anchor.
    other = chain.w3.eth.accounts[1]
    registry.set_issuer(other, True)
    registry.anchor(b"\x07" * 32, 1, anchor_uri(result.run_id), sender=other)
    row = check_anchor_on(chain, signed, statement, trust)
    assert row.status == "ok", row
    assert f"block {first.block_number}," in row.detail
    assert row.detail.endswith("the only statement of this run its issuer anchored")

    matrix._insider_flips_the_recommendation(a.sqlite_store(store_uri), result.run_id, keys)
    resigned = Tracker(store_uri).get_run(result.run_id).tags["civiclab.statement_sha256"]
    restatement = _statement(store_uri, result.run_id)
    assert resigned != signed

    # Not anchored yet: it is not, and the earlier one is named.
    row = check_anchor_on(chain, resigned, restatement, trust)
    assert row.status == "failed"
    assert row.detail.endswith(
        f"is not anchored on the trusted registry {registry.address}; another statement of this run was "
        f"anchored at block {first.block_number}: re-signed"
    )

    second = registry.anchor(bytes.fromhex(resigned), 1, anchor_uri(result.run_id))
    row = check_anchor_on(chain, resigned, restatement, trust)
    assert row.status == "failed"
    assert row.detail.startswith(
        f"an earlier statement of this run was anchored at block {first.block_number}: re-signed (statement "
        f"{signed[:12]}… then, this one {resigned[:12]}… at block {second.block_number})"
    )
    # And the first statement, put back, is no better: the run was signed again after it.
    row = check_anchor_on(chain, signed, statement, trust)
    assert row.status == "failed"
    assert row.detail.startswith(f"a later statement of this run was anchored at block {second.block_number}")


def test_anchors_are_read_by_issuer_and_run() -> None:
    """`AttestationRegistry.anchored_by`: every root one issuer anchored under one URI, oldest first."""
    from civiclab.evm import AttestationRegistry, Chain

    chain = Chain.connect(None)
    registry, _ = AttestationRegistry.deploy(chain)
    registry.set_issuer(chain.sender, True)
    other = chain.w3.eth.accounts[1]
    registry.set_issuer(other, True)
    one = registry.anchor(b"\x01" * 32, 1, "civiclab:run:a")
    registry.anchor(b"\x02" * 32, 1, "civiclab:run:b")
    registry.anchor(b"\x03" * 32, 1, "civiclab:run:a", sender=other)
    three = registry.anchor(b"\x04" * 32, 1, "civiclab:run:a")
    assert registry.anchored_by(chain.sender, "civiclab:run:a") == [
        (b"\x01" * 32, one.block_number),
        (b"\x04" * 32, three.block_number),
    ]
    assert registry.anchored_by(other, "civiclab:run:a") == [(b"\x03" * 32, three.block_number - 1)]
    assert registry.anchored_by(chain.sender, "civiclab:run:c") == []


@pytest.mark.integration
@pytest.mark.evm_node
def test_verify_names_a_re_signed_and_re_anchored_run_on_a_node(
    journey_spec: Path,
    store_uri: str,
    keys: dict[str, Any],
    anvil_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """End to end on anvil with the trust file's anchoring: the run anchors itself through its spec;
    the insider re-signs, anchors the new statement on the same registry in time, and verify names
    the earlier anchor (and the verdicts)."""
    from civiclab.evidence.anchoring import anchor_statement
    from civiclab.evm import AttestationRegistry, Chain
    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment

    chain = Chain.connect(anvil_url)
    registry, _ = AttestationRegistry.deploy(chain)
    registry.set_issuer(chain.sender, True)
    overrides = {
        "population.sessions": 60,
        "energy.tracker": "none",
        "audit.anchor": {"chain": anvil_url, "contract": registry.address},
    }
    result = run_experiment(load_experiment(journey_spec, overrides), tracking_uri=store_uri)
    trust = matrix.write_trust(
        tmp_path / "trust.yaml",
        keys["lab"],
        keys["member"],
        {
            "rpc_url": anvil_url,
            "chain_id": chain.chain_id,
            "registry": registry.address,
            "issuer": chain.sender,
            "max_delay_s": 3600,
        },
    )
    code, table, err = verify_cli(store_uri, result.run_id, trust, capsys)
    assert code == 0, err
    first_block = int(str(_rows(table)["anchor"]["detail"]).split(" block ")[1].split(",")[0])

    store = a.sqlite_store(store_uri)
    matrix._insider_flips_the_recommendation(store, result.run_id, keys)
    resigned = Tracker(store_uri).get_run(result.run_id).tags["civiclab.statement_sha256"]
    folder = store.artifacts(result.run_id)
    record = anchor_statement(
        {"chain": anvil_url, "contract": registry.address}, resigned, result.run_id, None
    )
    a.rewrite_manifest(store, result.run_id, folder, anchor=record)
    code, table, _ = verify_cli(store_uri, result.run_id, trust, capsys)
    assert code == 1
    assert _failed(table) == ["verdicts", "anchor"]
    assert _rows(table)["anchor"]["detail"].startswith(
        f"an earlier statement of this run was anchored at block {first_block}: re-signed"
    )


# --- 5. the desk never shows a verification older than the run or the trust file ----------------


@pytest.mark.slow
def test_the_desks_cache_sees_a_revoked_key_and_any_changed_artifact(
    signed_run: Callable[..., Any], store_uri: str, tmp_path: Path, keys: dict[str, Any]
) -> None:
    """The real desk cache over a real store: the trust file edited under a running desk (the lab's key
    revoked), then scorecard.json edited to GO, then a file planted in a sub-folder: each is seen by
    the next verification and the runs page never shows the old status."""
    from civiclab.desk.pages import VerifyCache, run_rows

    result = signed_run(store_uri)
    trust = matrix.write_trust(tmp_path / "trust.yaml", keys["lab"], keys["member"])
    tracker = Tracker(store_uri)
    cache = VerifyCache(tracker, trust, background=False)

    def listed() -> str:
        return {r.run_id: r.verify for r in run_rows(tracker, cache)[0]}[result.run_id]

    try:
        assert listed() == "unchecked"
        assert cache.verify(result.run_id).trusted is True
        assert listed() == "trusted"

        # The committee revokes the lab's key: the same run is no longer signed by a trusted lab.
        revoked = matrix.write_trust(tmp_path / "revoked.yaml", keys["outsider"], keys["member"])
        trust.write_bytes(revoked.read_bytes())
        assert listed() == "unchecked"  # never the status verified under the old trust file
        after = cache.verify(result.run_id)
        assert not after.ok and after.first_failure() is not None
        assert "untrusted" in after.first_failure().detail  # type: ignore[union-attr]
        assert listed() == "tampered"

        matrix.write_trust(trust, keys["lab"], keys["member"])
        assert cache.verify(result.run_id).ok
        assert listed() == "trusted"

        folder = a.sqlite_store(store_uri).artifacts(result.run_id)
        signed_card = (folder / "scorecard.json").read_bytes()
        card = json.loads(signed_card)
        card["recommendation"] = "go"
        (folder / "scorecard.json").write_text(json.dumps(card, indent=2))
        assert listed() == "unchecked"
        edited = cache.verify(result.run_id)
        assert edited.first_failure() is not None
        assert edited.first_failure().detail == "scorecard.json: sha256 differs from the signed statement"  # type: ignore[union-attr]
    finally:
        cache.close()

    # A fresh cache on the restored run, then a file planted two folders down.
    (folder / "scorecard.json").write_bytes(signed_card)
    cache = VerifyCache(tracker, trust, background=False)
    planted = folder / "plots" / "extra"
    try:
        cache.verify(result.run_id)
        planted.mkdir(parents=True)
        (planted / "note.txt").write_text("not signed")
        assert listed() == "unchecked"
        check = cache.verify(result.run_id).first_failure()
        assert check is not None and "plots/extra/note.txt" in check.detail
    finally:
        cache.close()
