"""Anchors checked against the trust file on a real node (anvil): attacks 5 and 6 of issue 10, and the window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from civiclab.evm import AttestationRegistry, Chain
from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import run_experiment
from civiclab.store.tracker import Tracker
from tests import anvil_node
from tests.evidence.signing import attacks as a
from tests.evidence.signing.conftest import verify_cli
from tests.evidence.signing.matrix import ATTACKS, write_trust

pytestmark = [pytest.mark.integration, pytest.mark.evm_node]
anvil_url = anvil_node.anvil_url


@pytest.fixture(scope="module")
def store_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('anchored') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def registry(anvil_url: str) -> AttestationRegistry:
    """The lab's registry on the node; its sender is the issuer the committee trusts."""
    chain = Chain.connect(anvil_url)
    deployed, _ = AttestationRegistry.deploy(chain)
    deployed.set_issuer(chain.sender, True)
    return deployed


@pytest.fixture
def anchored(
    journey_spec: Path,
    store_uri: str,
    keys: dict[str, Any],
    registry: AttestationRegistry,
    anvil_url: str,
    tmp_path: Path,
) -> Callable[..., Any]:
    def run(anchor: bool = True) -> tuple[Any, Path]:
        overrides: dict[str, Any] = {"population.sessions": 60, "energy.tracker": "none"}
        if anchor:
            overrides["audit.anchor"] = {"chain": anvil_url, "contract": registry.address}
        result = run_experiment(load_experiment(journey_spec, overrides), tracking_uri=store_uri)
        trust = write_trust(
            tmp_path / "trust.yaml",
            keys["lab"],
            keys["member"],
            {
                "rpc_url": anvil_url,
                "chain_id": 31337,
                "registry": registry.address,
                "issuer": registry.chain.sender,
                "max_delay_s": 3600,
            },
        )
        return result, trust

    return run


def _rows(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in table["checks"]}


def test_anchored_run_verifies_against_the_trust_file(
    anchored: Callable[..., Any], store_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result, trust = anchored()
    code, table, err = verify_cli(store_uri, result.run_id, trust, capsys)
    assert code == 0, err
    assert _rows(table)["anchor"]["status"] == "ok"
    assert "chain 31337 registry" in _rows(table)["anchor"]["detail"]


def test_each_review_is_anchored_and_dropping_the_last_one_is_caught(
    anchored: Callable[..., Any], store_uri: str, keys: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """The known limit of unanchored runs: the last review cut, every copy rewritten. Anchored, it is seen."""
    from civiclab.evidence.review import add_review

    result, trust = anchored()
    tracker = Tracker(store_uri)
    add_review(
        tracker, result.run_id, key=keys["member"], decision="revise", comment="rural gap", trust_path=trust
    )
    add_review(
        tracker, result.run_id, key=keys["member"], decision="reject", comment="worse", trust_path=trust
    )
    code, table, err = verify_cli(store_uri, result.run_id, trust, capsys)
    assert code == 0, err
    assert _rows(table)["review anchors"]["detail"] == (
        "2 review(s) anchored by the trusted issuer, none missing from the run"
    )
    assert table["committee"]["state"] == "rejected"

    # The last review (the REJECT) cut consistently: chain, manifest, tags.
    store = a.sqlite_store(store_uri)
    folder = store.artifacts(result.run_id)
    a.write_chain(folder, a.chain_items(folder)[:-1])
    import json

    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["reviews"] = manifest["reviews"][:1]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    a.rewrite_manifest(store, result.run_id, folder)
    first = manifest["reviews"][0]["sha256"]
    tracker.set_tags(
        result.run_id,
        {"civiclab.reviews": "1", "civiclab.review.head": first, "civiclab.review.status": "revise"},
    )
    code, table, _ = verify_cli(store_uri, result.run_id, trust, capsys)
    assert code == 1
    rows = _rows(table)
    assert rows["reviews"]["status"] == "ok"  # every copy agrees: only the chain knows
    assert rows["review anchors"]["status"] == "failed"
    assert "is not in the run's chain: dropped" in rows["review anchors"]["detail"]
    assert table["evidence_ok"] is True and table["reviews_ok"] is False


def test_attack_5_forged_scorecard_with_an_anchor(
    anchored: Callable[..., Any], store_uri: str, keys: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    result, trust = anchored()
    attack = next(x for x in ATTACKS if x.name.startswith("5 "))
    attack.apply(a.sqlite_store(store_uri), result.run_id, keys)
    code, table, _ = verify_cli(store_uri, result.run_id, trust, capsys)
    assert code == 1
    assert "scorecard.json: sha256 differs" in _rows(table)["artifacts"]["detail"]


def test_attack_6_truncated_and_reanchored_on_a_new_registry(
    anchored: Callable[..., Any],
    store_uri: str,
    keys: dict[str, Any],
    anvil_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """40 events cut, a new statement (the attacker's key: the lab's is not theirs) anchored on a
    registry they just deployed, and the run's anchor record rewritten to point at it."""
    result, trust = anchored()
    store = a.sqlite_store(store_uri)
    folder = store.artifacts(result.run_id)
    events = a.chain_items(folder)[:-40]
    a.write_chain(folder, events)
    from civiclab.evidence.anchoring import anchor_statement
    from civiclab.evidence.audit import verify_audit_log

    root = verify_audit_log(folder / "audit.jsonl").root

    def mutate(statement: dict[str, Any]) -> None:
        statement["predicate"]["audit"].update(root=root, events=len(events))

    digest = a.resign_statement(folder, mutate, keys["attacker"])
    chain = Chain.connect(anvil_url)
    rogue, _ = AttestationRegistry.deploy(chain)
    rogue.set_issuer(chain.sender, True)
    record = anchor_statement({"chain": anvil_url, "contract": rogue.address}, digest, result.run_id, None)
    a.rewrite_manifest(store, result.run_id, folder, anchor=record)
    store.tracker.set_tags(
        result.run_id, {"civiclab.statement_sha256": digest, "civiclab.signer": keys["attacker"].keyid}
    )

    code, table, _ = verify_cli(store_uri, result.run_id, trust, capsys)
    assert code == 1
    rows = _rows(table)
    assert rows["signature"]["status"] == "failed" and "untrusted" in rows["signature"]["detail"]
    assert rows["anchor"]["status"] == "failed"
    assert "is not anchored on the trusted registry" in rows["anchor"]["detail"]


def test_an_anchor_made_after_the_window_does_not_count(
    anchored: Callable[..., Any],
    store_uri: str,
    registry: AttestationRegistry,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The trusted issuer anchors a run's statement two hours after the run ended: too late."""
    result, trust = anchored(anchor=False)
    w3 = registry.chain.w3
    w3.provider.make_request("evm_increaseTime", [7200])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    digest = Tracker(store_uri).get_run(result.run_id).tags["civiclab.statement_sha256"]
    registry.anchor(bytes.fromhex(digest), 1, f"civiclab:run:{result.run_id}")
    code, table, _ = verify_cli(store_uri, result.run_id, trust, capsys)
    assert code == 1
    detail = _rows(table)["anchor"]["detail"]
    assert "after the run ended; the trust file allows 3600 s" in detail


def test_a_run_not_anchored_fails_when_the_trust_file_requires_anchors(
    anchored: Callable[..., Any], store_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result, trust = anchored(anchor=False)
    code, table, _ = verify_cli(store_uri, result.run_id, trust, capsys)
    assert code == 1
    assert "is not anchored on the trusted registry" in _rows(table)["anchor"]["detail"]
