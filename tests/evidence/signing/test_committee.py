"""Which reviews count, and what they decide: the trust file's decision rule over a run's signed reviews.

Real keys (members' keys encrypted, as `civiclab review` requires), a real signed run in a SQLite store,
the real CLI; the rule itself is also exercised alone on review rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from civiclab.errors import SpecError
from civiclab.evidence.review import add_review
from civiclab.evidence.signing.keys import export_public
from civiclab.evidence.signing.trust import TrustFile, load_trust
from civiclab.evidence.verify.committee import decide
from civiclab.evidence.verify.result import ReviewRow
from civiclab.evidence.verify.verification import verify
from civiclab.store.tracker import Tracker
from tests.evidence.signing.conftest import SignedStore, verify_cli
from tests.reviewer_keys import reviewer_key

CHAIR, DIALLO, PETIT = "martin", "diallo", "petit"


def _jwk_x(key: str) -> str:
    return str(json.loads(export_public(key, "jwk"))["x"])


def committee_trust(path: Path, lab: str, decision: dict[str, Any], **member_changes: Any) -> Path:
    """A trust file: the lab's key, and a committee of a chair and two members (each its own key)."""
    for name in (DIALLO, PETIT):
        reviewer_key(name)
    members = [
        {"name": "Dr Martin", "role": "chair", "public_key": _jwk_x(CHAIR)},
        {"name": "Ms Diallo", "role": "member", "public_key": _jwk_x(DIALLO)},
        {"name": "Mr Petit", "role": "member", "public_key": _jwk_x(PETIT)},
    ]
    for member in members:
        member.update(member_changes.get(str(member["name"]), {}))
    data = {
        "version": 1,
        "labs": [{"name": "Lab Belleval", "public_key": export_public(lab, "pem")}],
        "committee": members,
        "decision": decision,
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# --- the rule alone ----------------------------------------------------------------------------------


def _trust(decision: dict[str, Any], keys: dict[str, Any], tmp_path: Path) -> TrustFile:
    loaded = load_trust(committee_trust(tmp_path / "t.yaml", keys["lab"], decision))
    assert loaded is not None
    return loaded[0]


def _row(trust: TrustFile, who: str, decision: str, line: int, **extra: Any) -> ReviewRow:
    member = next(m for m in trust.committee if m.name == who)
    return ReviewRow(
        line=line, decision=decision, ts=f"2026-12-0{line}T10:00:00Z", signer=member.name,
        role=member.role, keyid=member.keyid, trusted=True, **extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("decision", "reviews", "state", "summary"),
    [
        ({"quorum": 2}, [("Ms Diallo", "approve")], "awaiting", "awaiting: 1 of 3 member(s) reviewed, 2 needed"),
        ({"quorum": 2}, [("Ms Diallo", "approve"), ("Mr Petit", "approve")], "approved",
         "approved by 2 of 3 member(s)"),
        ({"quorum": 2, "chair": "required"}, [("Ms Diallo", "approve"), ("Mr Petit", "approve")],
         "awaiting chair", "awaiting the chair (2 of 3 member(s) reviewed)"),
        ({"quorum": 2, "chair": "required"}, [("Ms Diallo", "approve"), ("Dr Martin", "approve")],
         "approved", "approved by 2 of 3 member(s), chair included"),
        ({"quorum": 2}, [("Ms Diallo", "approve"), ("Mr Petit", "reject")], "conflict",
         "no decision: members differ (1 approve, 1 reject)"),
        ({"quorum": 2, "conflicts": "reject_wins"}, [("Ms Diallo", "approve"), ("Mr Petit", "reject")],
         "rejected", "rejected by 2 of 3 member(s)"),
        ({"quorum": 2, "conflicts": "revise_wins"}, [("Ms Diallo", "approve"), ("Mr Petit", "reject")],
         "revise", "revision asked by 2 of 3 member(s)"),
        ({"quorum": 2, "chair": "decisive"}, [("Ms Diallo", "reject"), ("Dr Martin", "approve")],
         "approved", "approved by 2 of 3 member(s), chair included"),
        ({"quorum": 2, "chair": "decisive"}, [("Ms Diallo", "reject"), ("Mr Petit", "approve")],
         "awaiting chair", "awaiting the chair (2 of 3 member(s) reviewed)"),
        # A member who changes their mind: only their latest review counts.
        ({"quorum": 1}, [("Ms Diallo", "reject"), ("Ms Diallo", "approve")], "approved",
         "approved by 1 of 3 member(s); 1 review(s) not counted"),
    ],
)  # fmt: skip
def test_the_decision_rule(
    decision: dict[str, Any],
    reviews: list[tuple[str, str]],
    state: str,
    summary: str,
    keys: dict[str, Any],
    tmp_path: Path,
) -> None:
    trust = _trust(decision, keys, tmp_path)
    rows = [_row(trust, who, d, i + 1) for i, (who, d) in enumerate(reviews)]
    status = decide(rows, trust)
    assert (status.state, status.summary) == (state, summary)
    assert status.summary_fr and status.summary_fr != status.summary


def test_conditions_to_acknowledge_hold_an_approval(keys: dict[str, Any], tmp_path: Path) -> None:
    trust = _trust({"quorum": 1, "acknowledge_conditions": True}, keys, tmp_path)
    approve = _row(trust, "Ms Diallo", "approve", 1, conditions=["keep the counter open"])
    status = decide([approve], trust)
    assert status.state == "awaiting conditions" and status.pending_conditions == ["keep the counter open"]
    ack = _row(trust, "Dr Martin", "approve", 2, acknowledges=["keep the counter open"])
    assert decide([approve, ack], trust).state == "approved"


def test_reviews_by_an_observer_a_former_member_or_an_unknown_key_never_count(
    keys: dict[str, Any], tmp_path: Path
) -> None:
    path = committee_trust(
        tmp_path / "t.yaml", keys["lab"], {"quorum": 1},
        **{"Ms Diallo": {"active": False}, "Mr Petit": {"role": "observer"}},
    )  # fmt: skip
    loaded = load_trust(path)
    assert loaded is not None
    trust = loaded[0]
    rows = [_row(trust, "Ms Diallo", "approve", 1), _row(trust, "Mr Petit", "approve", 2)]
    rows.append(ReviewRow(line=3, decision="approve", ts="x", signer="Dr Martin (key 00…)", trusted=False))
    status = decide(rows, trust)
    assert status.state == "awaiting" and status.counted == 0 and status.ignored == 3
    assert [r.ignored for r in rows] == [
        "Ms Diallo is no longer an active member",
        "Mr Petit is an observer: only the chair and members review",
        "untrusted: the trust file does not list its key in the committee",
    ]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("lab_as_member", "the same key as labs[0] (Lab Belleval)"),
        ("twice", "the same key as committee[0] (Dr Martin)"),
        ("free_role", "committee[0].role: Input should be 'chair', 'member' or 'observer'"),
        ("quorum", "decision.quorum is 4 but only 3 active member(s) may review"),
        ("no_chair", "decision.chair is 'required' but the committee has no active chair"),
    ],
)
def test_a_trust_file_whose_keys_or_rule_can_be_confused_is_refused(
    change: str, words: str, keys: dict[str, Any], tmp_path: Path
) -> None:
    path = committee_trust(tmp_path / "t.yaml", keys["lab"], {"quorum": 1})
    data = yaml.safe_load(path.read_text())
    if change == "lab_as_member":  # the lab approving its own run as "trusted chair"
        data["committee"].append({"name": "Lab", "role": "member", "public_key": _jwk_x(keys["lab"])})
    elif change == "twice":
        data["committee"].append({"name": "Dr Martin again", "role": "member", "public_key": _jwk_x(CHAIR)})
    elif change == "free_role":
        data["committee"][0]["role"] = "president"
    elif change == "quorum":
        data["decision"]["quorum"] = 4
    else:
        data["committee"][0]["role"] = "member"
        data["decision"]["chair"] = "required"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError) as err:
        load_trust(path)
    assert str(path) in str(err.value) and words in str(err.value)
    assert "\n" not in str(err.value)


# --- on a real run -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_untrusted_review_is_listed_ignored_and_the_chair_still_decides(
    signed_copy: SignedStore,
    keys: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from civiclab.cli import main

    trust = committee_trust(tmp_path / "trust.yaml", keys["lab"], {"quorum": 1, "chair": "required"})
    store_uri, run_id = signed_copy.uri, signed_copy.run_id
    # Anyone with a key and write access, posing as the chair, without --trust: recorded, signed by them.
    assert main(["--tracking-uri", store_uri, "review", run_id, "--key", keys["outsider"],
                 "--reviewer", "Dr Martin", "--decision", "approve", "--comment", "Looks great, GO"]) == 0  # fmt: skip
    code, table, err = verify_cli(store_uri, run_id, trust, capsys)
    assert code == 0, err  # the evidence is intact and the record of reviews sound
    assert table["evidence_ok"] and table["reviews_ok"]
    rows = {c["name"]: c for c in table["checks"]}
    assert rows["reviews"]["detail"] == "1 signed review(s) in sequence: 0 counted, 1 untrusted, ignored"
    assert table["committee"]["state"] == "awaiting"
    (review,) = table["reviews"]
    assert review["signer"].startswith("Dr Martin (key ") and review["trusted"] is False
    assert not review["counted"] and review["ignored"].startswith("untrusted")
    assert review["comment"] == "Looks great, GO"
    # MLflow's tags never say the chair approved.
    tags = Tracker(store_uri).get_run(run_id).tags
    assert tags["civiclab.review.status"] == "not checked" and "civiclab.review.decision" not in tags

    # With --trust the outsider is refused before anything is written.
    audit = Tracker(store_uri).local_artifact_dir(run_id) / "audit.jsonl"  # type: ignore[operator]
    before = audit.read_bytes()
    capsys.readouterr()
    assert main(["--tracking-uri", store_uri, "review", run_id, "--key", keys["outsider"],
                 "--decision", "approve", "--trust", str(trust)]) == 2  # fmt: skip
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 1 and "may not review: the trust file does not list it" in err_lines[0]
    assert audit.read_bytes() == before

    # The real chair can still review; the status is the rule's outcome, everywhere.
    assert main(["--tracking-uri", store_uri, "review", run_id, "--key", keys["member"],
                 "--decision", "approve", "--condition", "keep the counter open", "--trust", str(trust)]) == 0  # fmt: skip
    code, table, err = verify_cli(store_uri, run_id, trust, capsys)
    assert code == 0, err
    assert (
        table["committee"]["summary"]
        == "approved by 1 of 3 member(s), chair included; 1 review(s) not counted"
    )
    assert [(r["signer"], r["role"], r["counted"]) for r in table["reviews"]][1] == (
        "Dr Martin",
        "chair",
        True,
    )
    assert table["reviews"][1]["conditions"] == ["keep the counter open"]
    tags = Tracker(store_uri).get_run(run_id).tags
    assert tags["civiclab.review.status"] == "approved"
    assert tags["civiclab.review.head"] == table["reviews"][1]["sha256"]


@pytest.mark.slow
def test_a_quorum_with_the_chair_and_a_member_who_leaves(
    signed_copy: SignedStore, keys: dict[str, Any], tmp_path: Path
) -> None:
    trust = committee_trust(tmp_path / "trust.yaml", keys["lab"], {"quorum": 2, "chair": "required"})
    store_uri, run_id = signed_copy.uri, signed_copy.run_id
    tracker = Tracker(store_uri)
    add_review(tracker, run_id, key=DIALLO, decision="approve", trust_path=trust)
    first = verify(tracker, run_id, trust)
    assert first.committee is not None and first.committee.state == "awaiting"  # 1 of the 2 needed
    add_review(tracker, run_id, key=keys["member"], decision="approve", trust_path=trust)
    done = verify(tracker, run_id, trust)
    assert done.ok and done.committee is not None
    assert done.committee.summary == "approved by 2 of 3 member(s), chair included"
    # Ms Diallo leaves the committee: her review is still listed, no longer counted.
    left = committee_trust(
        tmp_path / "later.yaml",
        keys["lab"],
        {"quorum": 1, "chair": "required"},
        **{"Ms Diallo": {"active": False}},
    )
    later = verify(tracker, run_id, left)
    assert later.committee is not None and later.committee.state == "approved"
    assert [r.ignored for r in later.reviews] == ["Ms Diallo is no longer an active member", ""]
    # Tags computed with the first trust file are not compared with another's.
    row = next(c for c in later.checks if c.name == "reviews")
    assert row.status == "ok" and "computed with another trust file" in row.detail


@pytest.mark.slow
def test_a_review_signed_offline_is_recorded_once_and_only_on_the_state_it_signed(
    signed_copy: SignedStore, keys: dict[str, Any], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from civiclab.cli import main

    trust = committee_trust(tmp_path / "trust.yaml", keys["lab"], {"quorum": 1})
    store_uri, run_id = signed_copy.uri, signed_copy.run_id
    base = ["--tracking-uri", store_uri, "review", run_id, "--trust", str(trust)]
    offline, stale = tmp_path / "review.json", tmp_path / "stale.json"
    assert main([*base, "--key", DIALLO, "--decision", "revise", "--out", str(stale)]) == 0
    assert main([*base, "--key", keys["member"], "--decision", "approve", "--out", str(offline)]) == 0
    audit = Tracker(store_uri).local_artifact_dir(run_id) / "audit.jsonl"  # type: ignore[operator]
    lines = len(audit.read_text().splitlines())
    assert main([*base, "--signed", str(offline)]) == 0  # signing wrote nothing; recording does
    assert len(audit.read_text().splitlines()) == lines + 1
    capsys.readouterr()
    assert main([*base, "--signed", str(offline)]) == 2  # the same envelope again
    assert main([*base, "--signed", str(stale)]) == 2  # signed before the chair's landed
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "another review landed since it was signed" in err[1]
    assert verify(Tracker(store_uri), run_id, trust).committee.state == "approved"  # type: ignore[union-attr]


@pytest.mark.slow
def test_a_corrupt_pending_review_record_is_one_line_naming_it(
    signed_copy: SignedStore, capsys: pytest.CaptureFixture[str]
) -> None:
    from civiclab.cli import main
    from civiclab.evidence.review_record import pending_path

    store_uri, run_id = signed_copy.uri, signed_copy.run_id
    tracker = Tracker(store_uri)
    wal = pending_path(tracker, run_id, tracker.local_artifact_dir(run_id))
    wal.write_text('{"event": ')
    capsys.readouterr()
    assert main(["--tracking-uri", store_uri, "verify", run_id]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(wal) in err[0] and "not a readable pending review record" in err[0]
