"""Every surface gives `civiclab verify`'s two answers, whatever was done to the run.

For each attack of the tamper matrix (SQLite store) and for an outsider's review signed with the
chair's name, four surfaces are read: `civiclab verify --json` (`evidence_ok`, `committee`), the
Markdown report's header, the desk's run page (a logged-in viewer) and MLflow's tags. They must
give the same evidence verdict and the same committee state.

MLflow's tags hold no evidence verdict, and their committee status is a cache computed, when the
last review was recorded, with the trust file of whoever recorded it (`civiclab.review.trust_sha256`):
it must equal verify's state when it was computed with the same trust file and the copies of the
reviews verify; otherwise verify names it (the "reviews" row) or marks it not comparable.

One journey run is made once; each case works on a copy of its store (database and artifacts).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.evidence.signing.attacks import sqlite_store
from tests.evidence.signing.conftest import LAB, MEMBER, OUTSIDER, verify_cli
from tests.evidence.signing.matrix import ATTACKS, Attack, write_trust

pytestmark = pytest.mark.slow

VIEWER, VIEWER_PASSWORD = "vera", "vera-viewer-pass"
CHAIR_DESK, CHAIR_DESK_PASSWORD = "martin-desk", "martin-desk-password"
NOT_READ = "skipped"  # civiclab.reporting.answers.NOT_READ: verify read no review


@dataclass
class Base:
    folder: Path  # the store of the one run: mlflow.db and artifacts/
    run_id: str
    keys: dict[str, Any]
    committee_trust: Path  # Dr Martin (chair) and Mme Mallory (member) review
    chair_trust: Path  # Dr Martin (chair) alone: Mallory is an outsider
    accounts: Path


def _journey_spec(folder: Path) -> Path:
    import yaml

    from tests.conftest import EXPERIMENTS

    shutil.copytree(EXPERIMENTS / "data" / "journey", folder / "data" / "journey")
    shutil.copytree(EXPERIMENTS / "data" / "survey" / "journey", folder / "data" / "survey" / "journey")
    shutil.copy(EXPERIMENTS / "data" / "personas.yaml", folder / "data" / "personas.yaml")
    raw = yaml.safe_load((EXPERIMENTS / "journey.yaml").read_text(encoding="utf-8"))
    if raw.get("survey"):
        raw["survey"]["store"] = f"sqlite:///{folder / 'survey.db'}"
    spec = folder / "journey.yaml"
    spec.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return spec


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, civiclab_home: Path) -> Iterator[Base]:
    """The journey run (60 sessions), its lab's and reviewers' keys, two trust files, desk accounts."""
    import yaml

    from civiclab.desk.accounts import AccountStore
    from civiclab.evidence.signing.keys import export_public, init_key, keys_dir, load_signer
    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment
    from tests.reviewer_keys import reviewer_key

    root = tmp_path_factory.mktemp("agree")
    if not (keys_dir() / f"{LAB}.key").exists():
        init_key(LAB)
    for name in (MEMBER, OUTSIDER):
        reviewer_key(name)
    attacker_home = root / "attacker-home"
    init_key("attacker", home=attacker_home)
    keys = {
        "lab": LAB,
        "member": MEMBER,
        "outsider": OUTSIDER,
        "attacker": load_signer("attacker", home=attacker_home),
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CIVICLAB_KEY", LAB)
        spec = _journey_spec(root / "experiments")
        experiment = load_experiment(spec, {"population.sessions": 60, "energy.tracker": "none"})
        run_id = run_experiment(experiment, tracking_uri=f"sqlite:///{root / 'base' / 'mlflow.db'}").run_id
    chair_trust = write_trust(root / "chair-trust.yaml", LAB, MEMBER)
    both = yaml.safe_load(chair_trust.read_text())
    both["committee"].append(
        {
            "name": "Mme Mallory",
            "role": "member",
            "public_key": json.loads(export_public(OUTSIDER, "jwk"))["x"],
        }
    )
    committee_trust = root / "committee-trust.yaml"
    committee_trust.write_text(yaml.safe_dump(both, sort_keys=False))
    accounts = AccountStore(root / "desk.db")
    accounts.add_user(VIEWER, "viewer", VIEWER_PASSWORD)
    accounts.add_user(CHAIR_DESK, "member", CHAIR_DESK_PASSWORD)
    yield Base(root / "base", run_id, keys, committee_trust, chair_trust, root / "desk.db")


def _copy(base: Base, name: str) -> str:
    """A copy of the run's store (database and artifacts) under `name`; returns its tracking URI."""
    folder = base.folder.parent / re.sub(r"[^a-z0-9]+", "-", name.lower())
    shutil.copytree(base.folder, folder, symlinks=True)
    with sqlite3.connect(folder / "mlflow.db") as db:
        for table, column in (("runs", "artifact_uri"), ("experiments", "artifact_location")):
            db.execute(
                f"UPDATE {table} SET {column} = replace({column}, ?, ?)", (str(base.folder), str(folder))
            )
    return f"sqlite:///{folder / 'mlflow.db'}"


@dataclass(frozen=True)
class Answers:
    """What one surface says: is the evidence intact, the committee's state, its sentence."""

    evidence_ok: bool | None
    state: str
    words: str | None


def _cli(
    uri: str, run_id: str, trust: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Answers, dict[str, Any]]:
    _, table, _ = verify_cli(uri, run_id, trust, capsys)
    committee = table["committee"]
    if committee is None:
        from civiclab.reporting.answers import NOT_READ_WORDS

        return Answers(table["evidence_ok"], NOT_READ, NOT_READ_WORDS["en"]), table
    return Answers(table["evidence_ok"], committee["state"], committee["summary"]), table


def _report(uri: str, run_id: str, trust: Path) -> tuple[Answers, str]:
    from civiclab.reporting.document import load_document
    from civiclab.reporting.render import render
    from civiclab.store.tracker import Tracker

    md = render(load_document(Tracker(uri), run_id, trust), "md").decode()
    lines = md.splitlines()
    evidence, committee = lines[2], lines[4]
    assert evidence.startswith(("**Evidence: intact** — ", "**Evidence: DOES NOT VERIFY — ")), evidence
    found = re.match(r"\*\*Committee: (.*)\.\*\*", committee)
    assert found, committee
    return Answers(evidence.startswith("**Evidence: intact**"), "", found.group(1)), md


class DeskSurface:
    """The desk over one store, as a logged-in viewer (or a member who uploads) reads it."""

    def __init__(self, uri: str, base: Base, trust: Path) -> None:
        from fastapi.testclient import TestClient

        from civiclab.desk.accounts import AccountStore
        from civiclab.desk.app import create_app
        from civiclab.store.tracker import Tracker

        app = create_app(Tracker(uri), AccountStore(base.accounts), trust=trust, background_verify=False)
        self.client = TestClient(app, base_url="http://127.0.0.1")
        self.client.__enter__()

    def login(self, name: str, password: str) -> None:
        from tests.desk.conftest import csrf_of

        self.client.cookies.clear()
        page = self.client.get("/login")
        data = {"csrf_token": csrf_of(page.text), "username": name, "password": password}
        assert self.client.post("/login", data=data, follow_redirects=False).status_code == 303

    def answers(self, run_id: str) -> tuple[Answers, str]:
        page = self.client.get(f"/runs/{run_id}?lang=en")
        assert page.status_code == 200, page.text[:300]
        verify_class = re.search(r'<span class="status status-([a-z-]+)" id="evidence-state">', page.text)
        state = re.search(r'<span class="status status-([a-z-]+)" id="committee-state">', page.text)
        words = re.search(r'<span id="committee-words">([^<]*)</span>', page.text)
        assert verify_class and state and words, page.text[:2000]
        intact = verify_class.group(1) not in ("tampered", "incomplete")
        return Answers(intact, state.group(1).replace("-", " "), html.unescape(words.group(1))), page.text

    def close(self) -> None:
        self.client.__exit__(None, None, None)


def _tags(uri: str, run_id: str) -> dict[str, str]:
    from civiclab.store.tracker import Tracker

    return Tracker(uri).get_run(run_id).tags


def _agree(
    name: str, uri: str, base: Base, trust: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Answers, dict[str, Any], str, str]:
    """The four surfaces' answers, asserted equal; returns verify's, its JSON, the report and the page."""
    from civiclab.evidence.signing.trust import load_trust
    from civiclab.store.schema import REVIEW_STATUS_TAG, REVIEW_TRUST_TAG, REVIEWS_TAG

    cli, table = _cli(uri, base.run_id, trust, capsys)
    report, md = _report(uri, base.run_id, trust)
    desk = DeskSurface(uri, base, trust)
    try:
        desk.login(VIEWER, VIEWER_PASSWORD)
        shown, page = desk.answers(base.run_id)
    finally:
        desk.close()
    assert (report.evidence_ok, report.words) == (cli.evidence_ok, cli.words), name
    assert shown == cli, name
    # MLflow's tags: the status cache agrees with verify when it was computed with this trust file and
    # the copies of the reviews verify; otherwise verify's "reviews" row says why.
    tags = _tags(uri, base.run_id)
    loaded = load_trust(trust)
    assert loaded is not None
    written_with = tags.get(REVIEW_TRUST_TAG, loaded[0].sha256)
    cached = tags.get(REVIEW_STATUS_TAG, "awaiting" if tags.get(REVIEWS_TAG, "0") == "0" else "?")
    rows = {c["name"]: c for c in table["checks"]}
    if cli.state == NOT_READ:
        assert rows.get("reviews", {"status": "skipped"})["status"] == "skipped", name
    elif not table["reviews_ok"]:
        assert rows["reviews"]["status"] == "failed", name  # named, e.g. a tag or a copy that differs
    elif written_with == loaded[0].sha256:
        assert cached == cli.state, (name, cached, cli.state)
    elif written_with:
        assert "computed with another trust file" in rows["reviews"]["detail"], name
    else:  # computed without a trust file: verify compared it with the signers-unchecked status
        assert cached == "not checked", (name, cached)
    return cli, table, md, page


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_every_surface_says_what_verify_says_after_an_attack(
    attack: Attack, base: Base, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = _copy(base, attack.name)
    # Reviews the attacks record are recorded under the committee's trust file, as members would.
    monkeypatch.setenv("CIVICLAB_TRUST", str(base.committee_trust))
    attack.apply(sqlite_store(uri), base.run_id, base.keys)
    monkeypatch.delenv("CIVICLAB_TRUST")
    answers, table, md, _ = _agree(attack.name, uri, base, base.committee_trust, capsys)
    assert not table["ok"]  # every attack is caught by one row or another
    failed = [c for c in table["checks"] if c["status"] == "failed"]
    if answers.evidence_ok:
        assert {c["name"] for c in failed} <= {"reviews", "pending review"}, failed
        assert "The record of reviews does not verify: " in md
    else:
        first = next(c for c in failed if c["name"] not in ("reviews", "pending review"))
        assert f"**Evidence: DOES NOT VERIFY — {first['name']}: " in md


def test_an_outsider_signing_the_chairs_name_is_ignored_everywhere_and_the_chair_still_reviews(
    base: Base, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from civiclab.cli import main
    from civiclab.store.schema import REVIEW_STATUS_TAG, REVIEW_TRUST_TAG

    uri = _copy(base, "untrusted review")
    run = base.run_id
    review = ["--tracking-uri", uri, "review", run]
    # Mallory's key is not in the chair's trust file; she signs "Dr Martin" without a trust file.
    assert main([*review, "--key", OUTSIDER, "--reviewer", "Dr Martin", "--decision", "approve"]) == 0
    answers, table, md, page = _agree("untrusted review", uri, base, base.chair_trust, capsys)
    assert answers.evidence_ok and answers.state == "awaiting"
    assert answers.words == "awaiting: no counted review yet; 1 review(s) not counted"
    rows = {c["name"]: c for c in table["checks"]}
    assert rows["reviews"]["status"] == "ok" and "1 untrusted, ignored" in rows["reviews"]["detail"]
    (approve,) = [line for line in md.splitlines() if "| APPROVE |" in line]
    assert "Dr Martin" not in approve and "(not in the trust file)" in approve
    assert "ignored: untrusted" in approve
    desk_row = page[page.index("<td>Approve</td>") :].split("</tr>")[0]
    assert "Dr Martin" not in desk_row and "not in the trust file" in desk_row
    # The tags were computed without a trust file: not comparable, and no surface shows them.
    tags = _tags(uri, run)
    assert (tags[REVIEW_STATUS_TAG], tags[REVIEW_TRUST_TAG]) == ("not checked", "")
    assert "not checked" not in answers.words

    # The real chair reviews from the command line...
    chair = [*review, "--key", MEMBER, "--trust", str(base.chair_trust)]
    assert main([*chair, "--decision", "revise", "--comment", "explain the rural gap"]) == 0
    answers, *_ = _agree("chair, command line", uri, base, base.chair_trust, capsys)
    assert (answers.evidence_ok, answers.state) == (True, "revise")
    assert _tags(uri, run)[REVIEW_STATUS_TAG] == "revise"

    # ... and from the desk: signed offline on the chair's machine, uploaded by a member.
    signed = tmp_path / "review.json"
    assert (
        main([*chair, "--decision", "approve", "--condition", "publish the gap", "--out", str(signed)]) == 0
    )
    desk = DeskSurface(uri, base, base.chair_trust)
    try:
        desk.login(CHAIR_DESK, CHAIR_DESK_PASSWORD)
        from tests.desk.conftest import csrf_of

        token = csrf_of(desk.client.get(f"/runs/{run}").text)
        landed = desk.client.post(
            f"/runs/{run}/review/upload",
            data={"csrf_token": token},
            files={"review": ("review.json", signed.read_bytes(), "application/json")},
            follow_redirects=False,
        )
        assert landed.status_code == 303, landed.text[:500]
    finally:
        desk.close()
    answers, table, md, _ = _agree("chair, desk upload", uri, base, base.chair_trust, capsys)
    assert (answers.evidence_ok, answers.state) == (True, "approved")
    assert answers.words == "approved by 1 of 1 member(s), chair included; 2 review(s) not counted"
    assert _tags(uri, run)[REVIEW_STATUS_TAG] == "approved"
    assert "| Dr Martin | chair | APPROVE | — | publish the gap | counted |" in md
