"""The tamper matrix of issue 10: each attack, and the check `civiclab verify` must name."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.evidence.signing import attacks as a


@dataclass(frozen=True)
class Attack:
    name: str
    apply: Callable[[a.Store, str, dict[str, Any]], None]
    expect: tuple[tuple[str, str], ...]  # (check, words its detail must contain), every one failing
    # Plants a link or special file in the artifact folder civiclab reads directly. Behind an MLflow
    # server civiclab receives downloaded copies (regular files), so these apply to local stores only.
    local_files: bool = False
    # What verify names instead in a format-2 audit log (a session is one line), where it differs.
    expect_format2: tuple[tuple[str, str], ...] | None = None

    def expected(self, audit_format: int) -> tuple[tuple[str, str], ...]:
        return self.expect_format2 if audit_format == 2 and self.expect_format2 is not None else self.expect


def _metric_value(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    a.set_metric(store, run_id, "human_centered.completion_rate", 0.99)


def _metric_deleted(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    a.delete_metric(store, run_id, "human_centered.abandonment_rate")


def _param(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    a.set_param(store, run_id, "population.seed", "7")


def _recommendation(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    a.set_tag(store, run_id, "civiclab.recommendation", "go")


def _keyless_consistent(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    folder = store.artifacts(run_id)
    events = a.chain_items(folder)[:-10]
    a.write_chain(folder, events)
    a.forge_metric_file(folder, "human_centered.completion_rate", 0.99)
    a.rewrite_manifest(store, run_id, folder)
    a.set_metric(store, run_id, "human_centered.completion_rate", 0.99)
    store.tracker.set_tags(run_id, {"civiclab.recommendation": "go"})


def _scorecard_go(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    folder = store.artifacts(run_id)
    card = json.loads((folder / "scorecard.json").read_text())
    card["recommendation"] = "go"
    (folder / "scorecard.json").write_text(json.dumps(card, indent=2))
    a.rewrite_manifest(store, run_id, folder)
    store.tracker.set_tags(run_id, {"civiclab.recommendation": "go"})


def _truncate_40(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    folder = store.artifacts(run_id)
    a.write_chain(folder, a.chain_items(folder)[:-40])
    a.rewrite_manifest(store, run_id, folder)


def _no_run_close(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    folder = store.artifacts(run_id)
    events = a.chain_items(folder)
    assert events[-1].get("kind") == "run.close"
    a.write_chain(folder, events[:-1])
    a.rewrite_manifest(store, run_id, folder)


def _unclosed_session(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    folder = store.artifacts(run_id)
    events = a.chain_items(folder)
    # Format 1: a session.close dropped; format 2 has no such event: a whole session line is dropped.
    first_close = next(i for i, e in enumerate(events) if e.get("kind") == "session.close" or "session" in e)
    a.write_chain(folder, events[:first_close] + events[first_close + 1 :])
    a.rewrite_manifest(store, run_id, folder)


def _sessions_file(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    folder = store.artifacts(run_id)
    lines = (folder / "sessions.jsonl").read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if json.loads(line)["outcome"] != "completed")
    record = json.loads(lines[i])
    record["outcome"] = "completed"
    lines[i] = json.dumps(record, sort_keys=True)
    (folder / "sessions.jsonl").write_text("\n".join(lines) + "\n")
    a.forge_metric_file(folder, "human_centered.completion_rate", 0.99)
    a.rewrite_manifest(store, run_id, folder)


def _review_removed(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    from civiclab.evidence.review import add_review

    add_review(store.tracker, run_id, key=ctx["member"], decision="reject", comment="too many abandon")
    folder = store.artifacts(run_id)
    a.write_chain(folder, a.chain_items(folder)[:-1])
    a.rewrite_manifest(store, run_id, folder, reviews=[])


def _resigned_by_attacker(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    """Key-less (no lab key) consistent rewrite: store, files, manifest, and a statement re-signed
    with a key the attacker made."""
    folder = store.artifacts(run_id)
    a.forge_metric_file(folder, "human_centered.completion_rate", 0.99)
    a.set_metric(store, run_id, "human_centered.completion_rate", 0.99)
    from civiclab.evidence.manifest import sha256_file

    metrics_sha = sha256_file(folder / "metrics.json")

    def mutate(statement: dict[str, Any]) -> None:
        statement["predicate"]["metrics"]["human_centered.completion_rate"] = 0.99
        statement["predicate"]["scorecard"]["recommendation"] = "go"
        statement["predicate"]["tags"]["civiclab.recommendation"] = "go"
        for subject in statement["subject"]:
            if subject["name"] == "metrics.json":
                subject["digest"]["sha256"] = metrics_sha

    digest = a.resign_statement(folder, mutate, ctx["attacker"])
    a.rewrite_manifest(store, run_id, folder)
    store.tracker.set_tags(
        run_id,
        {
            "civiclab.recommendation": "go",
            "civiclab.statement_sha256": digest,
            "civiclab.signer": ctx["attacker"].keyid,
        },
    )


def _statement_edited(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    folder = store.artifacts(run_id)

    def mutate(statement: dict[str, Any]) -> None:
        statement["predicate"]["scorecard"]["recommendation"] = "go"

    digest = a.resign_statement(folder, mutate, None)
    a.rewrite_manifest(store, run_id, folder)
    store.tracker.set_tags(run_id, {"civiclab.statement_sha256": digest})


def _status_tag_flipped(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    from civiclab.evidence.review import add_review

    add_review(store.tracker, run_id, key=ctx["member"], decision="reject", comment="too many abandon")
    a.set_tag(store, run_id, "civiclab.review.status", "approved")  # one SQL update


def _manifest_reviews_rewritten(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    from civiclab.evidence.review import add_review

    add_review(
        store.tracker,
        run_id,
        key=ctx["member"],
        decision="approve",
        comment="only if the counter stays",
        conditions=["keep the counter open"],
    )
    folder = store.artifacts(run_id)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["reviews"][0]["conditions"] = []
    manifest["reviews"][0]["comment"] = "Looks great"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    a.rewrite_manifest(store, run_id, folder)


def _actor_renamed(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    from civiclab.evidence.review import add_review

    add_review(store.tracker, run_id, key=ctx["member"], decision="reject", comment="too many abandon")
    folder = store.artifacts(run_id)
    events = a.chain_items(folder)
    events[-1]["actor"] = "Pr Chair"
    a.write_chain(folder, events)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["reviews"][0]["reviewer"] = "Pr Chair"
    manifest["reviews"][0]["hash"] = a.read_chain(folder)[-1]["hash"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    a.rewrite_manifest(store, run_id, folder)


def _two_reviews(store: a.Store, run_id: str, ctx: dict[str, Any]) -> Path:
    from civiclab.evidence.review import add_review

    add_review(store.tracker, run_id, key=ctx["member"], decision="reject", comment="too many abandon")
    add_review(store.tracker, run_id, key=ctx["outsider"], decision="approve", comment="fine")
    return store.artifacts(run_id)


def _rechain_reviews(store: a.Store, run_id: str, folder: Path, reviews: list[dict[str, Any]]) -> None:
    """Write the run's events followed by `reviews`, and make the manifest and tags agree with them."""
    events = a.chain_items(folder)
    run_events = [e for e in events if e.get("kind") != "review"]
    a.write_chain(folder, run_events + reviews)
    chain = a.read_chain(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    by_digest = {r["sha256"]: r for r in manifest["reviews"]}
    listed = []
    for line in chain[len(run_events) :]:
        entry = dict(by_digest[line["event"]["payload"]["envelope_sha256"]])
        entry["audit_seq"], entry["hash"] = line["seq"], line["hash"]
        listed.append(entry)
    manifest["reviews"] = listed
    (folder / "manifest.json").write_text(json.dumps(manifest))
    a.rewrite_manifest(store, run_id, folder)
    last = reviews[-1]["payload"]["envelope_sha256"]
    store.tracker.set_tags(run_id, {"civiclab.reviews": str(len(reviews)), "civiclab.review.head": last})


def _first_review_dropped(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    folder = _two_reviews(store, run_id, ctx)
    reviews = [e for e in a.chain_items(folder) if e.get("kind") == "review"]
    _rechain_reviews(store, run_id, folder, reviews[1:])


def _reviews_reordered(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    folder = _two_reviews(store, run_id, ctx)
    reviews = [e for e in a.chain_items(folder) if e.get("kind") == "review"]
    _rechain_reviews(store, run_id, folder, reviews[::-1])


def _review_replayed(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    folder = _two_reviews(store, run_id, ctx)
    reviews = [e for e in a.chain_items(folder) if e.get("kind") == "review"]
    _rechain_reviews(store, run_id, folder, [*reviews, reviews[0]])


def _statement_links_to_the_lab_key(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    from civiclab.evidence.signing.keys import keys_dir

    statement = store.artifacts(run_id) / "statement.dsse.json"
    statement.unlink()
    statement.symlink_to(keys_dir() / f"{ctx['lab']}.key")


def _fifo_planted(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    import os

    os.mkfifo(store.artifacts(run_id) / "notes.txt")


def _folder_link_planted(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    from civiclab.evidence.signing.keys import keys_dir

    (store.artifacts(run_id) / "evidence").symlink_to(keys_dir(), target_is_directory=True)


def _downgraded_to_legacy(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    """A signed run rewritten as a run of the civiclab before signing: its statement, run inputs and
    signing tags gone, a metric and the recommendation changed, the manifest and its tag rewritten."""
    folder = store.artifacts(run_id)
    (folder / "statement.dsse.json").unlink()
    (folder / "run_inputs.json").unlink()
    for tag in ("civiclab.statement_sha256", "civiclab.signer", "civiclab.executor"):
        a.delete_tag(store, run_id, tag)
    a.forge_metric_file(folder, "human_centered.completion_rate", 0.99)
    a.set_metric(store, run_id, "human_centered.completion_rate", 0.99)
    card = json.loads((folder / "scorecard.json").read_text())
    card["recommendation"] = "go"
    (folder / "scorecard.json").write_text(json.dumps(card, indent=2))
    a.rewrite_manifest(store, run_id, folder)
    store.tracker.set_tags(run_id, {"civiclab.recommendation": "go"})


def _moved(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    a.move_run(store, run_id, f"approved-pilots-{run_id[:8]}")


def _renamed(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    a.rename_run(store, run_id, "journey-final-approved")


def _insider_flips_the_recommendation(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    """Someone holding the lab's key re-signs the run with GO, everywhere it is stated; the metrics
    and the spec, which give the real recommendation, are left as they were."""
    from civiclab.evidence.manifest import sha256_file
    from civiclab.evidence.signing.keys import load_signer

    folder = store.artifacts(run_id)
    card = json.loads((folder / "scorecard.json").read_text())
    card["recommendation"] = "go"
    (folder / "scorecard.json").write_text(json.dumps(card, indent=2))
    scorecard_sha = sha256_file(folder / "scorecard.json")

    def mutate(statement: dict[str, Any]) -> None:
        statement["predicate"]["scorecard"]["recommendation"] = "go"
        statement["predicate"]["tags"]["civiclab.recommendation"] = "go"
        for subject in statement["subject"]:
            if subject["name"] == "scorecard.json":
                subject["digest"]["sha256"] = scorecard_sha

    digest = a.resign_statement(folder, mutate, load_signer(ctx["lab"]))
    a.rewrite_manifest(store, run_id, folder)
    store.tracker.set_tags(run_id, {"civiclab.recommendation": "go", "civiclab.statement_sha256": digest})


def _insider_flips_the_scorecard_file(store: a.Store, run_id: str, ctx: dict[str, Any]) -> None:
    """The lab's key re-signs only scorecard.json's new digest (what the desk and reports show) as GO."""
    from civiclab.evidence.manifest import sha256_file
    from civiclab.evidence.signing.keys import load_signer

    folder = store.artifacts(run_id)
    card = json.loads((folder / "scorecard.json").read_text())
    card["recommendation"] = "go"
    (folder / "scorecard.json").write_text(json.dumps(card, indent=2))
    scorecard_sha = sha256_file(folder / "scorecard.json")

    def mutate(statement: dict[str, Any]) -> None:
        for subject in statement["subject"]:
            if subject["name"] == "scorecard.json":
                subject["digest"]["sha256"] = scorecard_sha

    digest = a.resign_statement(folder, mutate, load_signer(ctx["lab"]))
    a.rewrite_manifest(store, run_id, folder)
    store.tracker.set_tags(run_id, {"civiclab.statement_sha256": digest})


ATTACKS: tuple[Attack, ...] = (
    Attack("1 metric value edited in the store", _metric_value,
           (("store: metrics", "human_centered.completion_rate: store has 0.99"),)),
    Attack("1 metric rows deleted from the store", _metric_deleted,
           (("store: metrics", "human_centered.abandonment_rate: signed but missing"),)),
    Attack("2 param edited in the store", _param, (("store: params", "population.seed: store has '7'"),)),
    Attack("3 recommendation tag iterate->go", _recommendation,
           (("store: tags", "civiclab.recommendation: store has 'go'"),)),
    Attack("4 consistent rewrite without a key", _keyless_consistent,
           (("artifacts", "metrics.json: sha256 differs"), ("audit chain", "no run.close"),
            ("store: metrics", "completion_rate"), ("store: tags", "civiclab.recommendation"))),
    Attack("5 scorecard forged to go, manifest and tag rewritten", _scorecard_go,
           (("artifacts", "scorecard.json: sha256 differs"), ("store: tags", "civiclab.recommendation"))),
    Attack("6 audit log truncated by 40 events, manifest rewritten", _truncate_40,
           (("audit chain", "no run.close"),)),
    Attack("7 chain without run.close", _no_run_close, (("audit chain", "no run.close"),)),
    Attack("7 a session opened but never closed", _unclosed_session, (("audit chain", "opened inside another"),),
           # format 2 cannot hold half a session: a whole session line is dropped, and the chain comes up short
           expect_format2=(("audit chain", "line 61: run.close is not the last event of the signed run"),)),
    Attack("8 sessions.jsonl and metrics.json edited, manifest rewritten", _sessions_file,
           (("sessions", "outcome differs from the audit chain"), ("artifacts", "sha256 differs"),
            ("evaluators re-run", "the records give"))),
    Attack("9 review removed by truncate-and-rewrite", _review_removed, (("reviews", "removed"),)),
    Attack("key-less rewrite re-signed with the attacker's own key", _resigned_by_attacker,
           (("signature", "untrusted"),)),
    Attack("signed statement edited, old signature kept", _statement_edited,
           (("signature", "no signature verifies"),)),
    Attack("review status tag flipped reject->approved", _status_tag_flipped,
           (("reviews", "civiclab.review.status says 'approved'"),)),
    Attack("manifest's copy of a review rewritten (conditions dropped)", _manifest_reviews_rewritten,
           (("reviews", "manifest.json: reviews[0].comment differs from the signed review"),)),
    Attack("reviewer renamed in the audit log", _actor_renamed,
           (("reviews", "reviewer in the audit log differs from the signed review"),)),
    Attack("first of two reviews dropped, the rest rewritten", _first_review_dropped,
           (("reviews", "dropped, moved or replayed"),)),
    Attack("two reviews swapped", _reviews_reordered, (("reviews", "dropped, moved or replayed"),)),
    Attack("a review replayed at the end", _review_replayed, (("reviews", "replayed"),)),
    Attack("statement replaced by a link to the lab's private key", _statement_links_to_the_lab_key,
           (("signature", "symbolic link or special file"),), local_files=True),
    Attack("a FIFO planted among the artifacts", _fifo_planted,
           (("artifacts", "notes.txt: a symbolic link or special file"),), local_files=True),
    Attack("a link to a folder planted among the artifacts", _folder_link_planted,
           (("artifacts", "evidence: a symbolic link or special file"),), local_files=True),
    Attack("signed run rewritten as unsigned (legacy), metric and recommendation changed", _downgraded_to_legacy,
           (("signature", "which signs every run: its signed statement is missing"),)),
    Attack("run moved to another experiment", _moved,
           (("store: run", "the store files the run under 'approved-pilots-"),)),
    Attack("run renamed", _renamed, (("store: run", "store has 'journey-final-approved'"),)),
    Attack("lab key re-signs the run with the recommendation flipped to go", _insider_flips_the_recommendation,
           (("verdicts", "the statement says GO"),)),
    Attack("lab key re-signs scorecard.json flipped to go", _insider_flips_the_scorecard_file,
           (("verdicts", "scorecard.json says GO"),)),
)  # fmt: skip


def write_trust(path: Path, lab: str, member: str, anchoring: dict[str, Any] | None = None) -> Path:
    """A trust file naming the lab's key and one committee member's (exported as a user would)."""
    import yaml

    from civiclab.evidence.signing.keys import export_public

    data: dict[str, Any] = {
        "version": 1,
        "labs": [{"name": "Lab Belleval", "public_key": export_public(lab, "pem")}],
        "committee": [
            {
                "name": "Dr Martin",
                "role": "chair",
                "public_key": json.loads(export_public(member, "jwk"))["x"],
            }
        ],
    }
    if anchoring:
        data["anchoring"] = anchoring
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
