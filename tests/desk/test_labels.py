"""Members grade a stratified sample of a judged run in the desk; the judge's agreement with them is shown.

A real judged run (the stand-in assistant, the deterministic lexicon judge on 127.0.0.1) in its own
SQLite store, the real desk over it with the shared accounts and trust file.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import evaluators.assistant_judge  # noqa: F401 - registers the judge where the venv predates its entry point
from civiclab.evidence.labels.agreement import judge_agreement
from civiclab.evidence.labels.grades import check_grade, labels_folder
from civiclab.evidence.labels.sample import load_sample, stratified_sample
from civiclab.stats.agreement import cohen_kappa
from civiclab.store.tracker import Tracker
from tests.desk.conftest import PASSWORDS, DeskStore, csrf_of, login

pytestmark = pytest.mark.slow  # a whole judged experiment

SIZE = 30


@dataclass
class JudgedStore:
    uri: str
    run_id: str
    folder: Path


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory, civiclab_home: Path) -> JudgedStore:
    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment
    from pilots.assistant.standin import serve
    from tests.evaluators.fake_openai import fake_judge
    from tests.pilots.assistant_support import DATA
    from tests.pilots.byo_support import byo_spec, http_system

    root = tmp_path_factory.mktemp("judged")
    uri = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    with serve(DATA / "knowledge_base.yaml") as url, fake_judge() as (judge_url, _):
        judge = {"kind": "openai", "base_url": judge_url, "model": "fake-judge"}
        spec = byo_spec(
            root,
            http_system(url),
            sessions=30,
            evaluators=["assistant", {"name": "assistant_judge", "params": {"judge": judge}}],
        )
        result = run_experiment(load_experiment(spec), tracking_uri=uri)
    return JudgedStore(uri=uri, run_id=result.run_id, folder=Path(result.artifact_dir))


@pytest.fixture
def labels_app(judged: JudgedStore, desk_store: DeskStore) -> Any:
    """The real desk over the judged run's store, with the shared accounts and trust file, no grades yet."""
    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.app import create_app

    folder = labels_folder(Tracker(judged.uri), judged.run_id)
    for old in folder.glob("*") if folder.is_dir() else []:
        old.unlink()  # each test starts with no grades
    return create_app(
        Tracker(judged.uri), AccountStore(desk_store.db), trust=desk_store.trust, background_verify=False
    )


@pytest.fixture
def labels_client(labels_app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(labels_app, base_url="http://127.0.0.1") as c:
        yield c


def judge_grades(folder: Path) -> dict[str, str]:
    """The judge's handling grade per sampled item id, read from its own file (turn-N is line N)."""
    lines = (folder / "judge_grades.jsonl").read_text(encoding="utf-8").splitlines()
    return {f"turn-{n}": json.loads(line).get("handling", "") for n, line in enumerate(lines, start=1)}


def post_grade(client: Any, run_id: str, i: int, grade: str, name: str = "alice") -> tuple[str, Any]:
    page = client.get(f"/runs/{run_id}/labels?i={i}")
    item = re.search(r'name="item" value="([^"]+)"', page.text)
    assert item, "the labelling page has no grade form"
    response = client.post(
        f"/runs/{run_id}/labels",
        data={
            "csrf_token": csrf_of(page.text),
            "item": item.group(1),
            "i": str(i),
            "grade": grade,
            "comment": "vu",
            "password": PASSWORDS[name],
        },
        follow_redirects=False,
    )
    return item.group(1), response


def test_the_sample_is_stratified_by_the_judges_grade_and_drawn_again_the_same(judged: JudgedStore) -> None:
    tracker = Tracker(judged.uri)
    run, sample = load_sample(tracker, judged.run_id, SIZE)
    assert load_sample(tracker, judged.run_id, SIZE)[1] == sample  # seeded by the run id
    population = Counter(i.judge_grade for i in run.items)
    assert len(run.items) == 60 and len(population) == 2  # 30 sessions x 2 questions, both grades given
    drawn = Counter(i.judge_grade for i in sample)
    assert len(sample) == SIZE == sum(drawn.values()) and len({i.item for i in sample}) == SIZE
    for grade, count in population.items():
        # Proportional allocation: each grade within one turn of its share of the sample, never absent.
        assert abs(drawn[grade] - SIZE * count / len(run.items)) < 1 and drawn[grade] >= 1
    other = stratified_sample(run.model_copy(update={"run_id": "0" * 32}), SIZE)
    assert {i.item for i in other} != {i.item for i in sample}  # another run, another draw
    text = (judged.folder / "sessions.jsonl").read_text(encoding="utf-8")
    assert all(i.question in text for i in sample)  # the redacted texts of the run, nothing else


def test_a_grade_posted_is_signed_by_the_member_and_leaves_the_run_verifying(
    judged: JudgedStore, desk_store: DeskStore, labels_client: Any
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from civiclab.evidence.signing.envelope import pae, read_envelope
    from civiclab.evidence.signing.trust import load_trust
    from civiclab.evidence.verify.manifestcheck import verify_run_manifest

    tracker = Tracker(judged.uri)
    assert login(labels_client, "alice").status_code == 303
    item, response = post_grade(labels_client, judged.run_id, 1, "inappropriate")
    assert response.status_code == 303 and "graded=1" in response.headers["location"]
    files = list(labels_folder(tracker, judged.run_id).glob("*.dsse.json"))
    assert len(files) == 1
    envelope = read_envelope(files[0].read_bytes())
    predicate = envelope.statement()["predicate"]
    assert (predicate["item"], predicate["grade"], predicate["grader"]) == (item, "inappropriate", "alice")
    # Verified here with alice's public key as the trust file lists it, not through civiclab's checker.
    trust = yaml.safe_load(desk_store.trust.read_text())
    x = next(m["public_key"] for m in trust["committee"] if m["name"] == "alice")
    raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
    Ed25519PublicKey.from_public_bytes(raw).verify(
        base64.b64decode(envelope.signatures[0].sig), pae(envelope.payload_type, envelope.payload_bytes())
    )
    loaded = load_trust(desk_store.trust)
    assert loaded is not None
    check = check_grade(
        files[0],
        run_id=judged.run_id,
        statement_sha256=read_envelope((judged.folder / "statement.dsse.json").read_bytes()).digest(),
        items={item},
        trust=loaded[0],
    )
    assert check.counted and check.grader == "alice"
    assert verify_run_manifest(tracker, judged.run_id).ok  # the run's signed files are untouched


def test_the_kappa_shown_is_cohens_kappa_of_the_judge_and_members_and_a_tampered_grade_is_named(
    judged: JudgedStore, desk_store: DeskStore, labels_client: Any
) -> None:
    assert login(labels_client, "alice").status_code == 303
    judge = judge_grades(judged.folder)
    before = labels_client.get(f"/runs/{judged.run_id}/report.html")
    assert before.status_code == 200 and "The judge checked against people" not in before.text
    people = {}
    # Up to three turns of each judge grade; the member disagrees with the judge on the second one.
    _, sample = load_sample(Tracker(judged.uri), judged.run_id, SIZE)
    chosen: list[int] = []
    for g in ("appropriate", "inappropriate"):
        chosen += [n for n, i in enumerate(sample, 1) if i.judge_grade == g][:3]
    other = {"appropriate": "inappropriate", "inappropriate": "appropriate"}
    for k, n in enumerate(chosen):
        grade = other[sample[n - 1].judge_grade] if k == 1 else sample[n - 1].judge_grade
        item, response = post_grade(labels_client, judged.run_id, n, grade)
        assert response.status_code == 303 and item == sample[n - 1].item
        people[item] = grade
    # One grade altered after signing (its payload re-encoded, the signature kept) and one unsigned file.
    folder = labels_folder(Tracker(judged.uri), judged.run_id)
    first = sample[chosen[0] - 1].item
    (victim,) = folder.glob(f"{first}.*.dsse.json")
    envelope = json.loads(victim.read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    flipped = "appropriate" if statement["predicate"]["grade"] == "inappropriate" else "inappropriate"
    statement["predicate"]["grade"] = flipped
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    victim.write_text(json.dumps(envelope))
    del people[statement["predicate"]["item"]]
    (folder / "turn-1.unsigned.dsse.json").write_text(json.dumps({"item": "turn-1", "grade": "appropriate"}))

    items = sorted(people)
    expected = cohen_kappa([judge[i] for i in items], [people[i] for i in items], seed=0)
    shown = judge_agreement(Tracker(judged.uri), judged.run_id, desk_store.trust)
    assert shown is not None and shown.n == len(people) >= 3
    assert expected.kappa.value is not None and 0 < expected.kappa.value < 1  # a telling case, not 0 or 1
    assert shown.kappa == pytest.approx(expected.kappa.value)
    assert shown.confusion == expected.confusion and shown.categories == expected.categories
    assert {g.file for g in shown.ignored} == {victim.name, "turn-1.unsigned.dsse.json"}

    page = labels_client.get(f"/runs/{judged.run_id}")
    kappa = re.search(r'id="judge-kappa">[^<]*?: (-?[0-9.]+) .*?n = (\d+)', page.text)
    assert kappa and float(kappa.group(1)) == pytest.approx(expected.kappa.value, abs=0.005)
    assert kappa.group(2) == str(len(people))
    table = page.text.split('id="judge-confusion"')[1].split("</table>")[0]
    assert [int(v) for v in re.findall(r"<td>(\d+)</td>", table)] == [
        v for row in expected.confusion for v in row
    ]
    ignored = page.text.split('id="judge-ignored"')[1].split("</ul>")[0]
    assert victim.name in ignored and "signature does not verify" in ignored
    assert "turn-1.unsigned.dsse.json" in ignored

    # `civiclab report` shows the same figure, table and ignored grades.
    from civiclab.reporting.document import load_document
    from civiclab.reporting.html import render_html
    from civiclab.reporting.markdown import render_markdown

    doc = load_document(Tracker(judged.uri), judged.run_id, desk_store.trust)
    markdown = render_markdown(doc)
    assert f"Cohen's kappa of the judge and committee members: {expected.kappa.value:.2f}" in markdown
    assert f"n = {len(people)} grades of a sample of 30" in markdown and victim.name in markdown
    rows = [
        line for line in markdown.splitlines() if line.startswith(("| appropriate |", "| inappropriate |"))
    ]
    assert [[int(v) for v in r.strip("|").split("|")[1:]] for r in rows] == expected.confusion
    assert f"{expected.kappa.value:.2f}" in render_html(doc, plots=[])
    import io

    import pypdf

    from civiclab.reporting.pdf import render_pdf

    pdf_text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(render_pdf(doc, []))).pages)
    assert "The judge checked against people" in pdf_text
    assert f"members: {expected.kappa.value:.2f}" in " ".join(pdf_text.split())
    # The desk's report frame is drawn again once grades changed, with the desk's trust file.
    frame = labels_client.get(f"/runs/{judged.run_id}/report.html").text
    assert f"kappa of the judge and committee members: {expected.kappa.value:.2f}" in frame


@pytest.mark.parametrize("name", ["vera", "bob"])
def test_a_viewer_or_lab_staff_cannot_grade(judged: JudgedStore, labels_client: Any, name: str) -> None:
    assert login(labels_client, name).status_code == 303
    page = labels_client.get(f"/runs/{judged.run_id}/labels")
    assert page.status_code == 200 and 'name="grade"' not in page.text
    refused = labels_client.post(
        f"/runs/{judged.run_id}/labels",
        data={
            "csrf_token": csrf_of(page.text),
            "item": "turn-1",
            "grade": "appropriate",
            "password": PASSWORDS[name],
        },
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert not labels_folder(Tracker(judged.uri), judged.run_id).is_dir() or not any(
        labels_folder(Tracker(judged.uri), judged.run_id).iterdir()
    )


def test_the_labelling_page_shows_the_redacted_turn_and_rubric_but_not_the_judges_grade(
    judged: JudgedStore, labels_client: Any
) -> None:
    tracker = Tracker(judged.uri)
    _, sample = load_sample(tracker, judged.run_id, SIZE)
    assert login(labels_client, "carol").status_code == 303
    page = labels_client.get(f"/runs/{judged.run_id}/labels?i=2")
    from markupsafe import escape

    assert str(escape(sample[1].question)) in page.text and "Tu évalues" in page.text
    assert "lexicon judge" not in page.text and "labelled_appropriate" not in page.text
    assert '<label for="grade-appropriate">' in page.text and 'for="grade-password"' in page.text


@pytest.mark.browser
def test_a_member_grades_from_the_keyboard_and_axe_finds_no_violation(
    judged: JudgedStore, labels_app: Any
) -> None:
    from tests.browser import axe_violations, chromium, served

    problems: dict[str, list[str]] = {}
    with served(labels_app, "desk") as base, chromium() as browser:
        page = browser.new_context(bypass_csp=True).new_page()  # lets the test inject axe
        page.goto(f"{base}/login")
        page.fill("#username", "alice")
        page.fill("#password", PASSWORDS["alice"])
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/runs")
        page.goto(f"{base}/runs/{judged.run_id}/labels")
        problems["labels"] = axe_violations(page)
        page.focus("#grade-appropriate")
        page.keyboard.press("Space")
        for _ in range(6):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.id") == "grade-password":
                break
        page.keyboard.type(PASSWORDS["alice"])
        page.keyboard.press("Enter")
        page.wait_for_url("**graded=1")
        assert page.locator("[role=status]").inner_text().strip() in (
            "Note signée et enregistrée.",
            "Grade signed and recorded.",
        )
        problems["labels after grading"] = axe_violations(page)
        page.goto(f"{base}/runs/{judged.run_id}")
        assert page.locator("#judge-kappa").count() == 1
        problems["run with the judge check"] = axe_violations(page)
    assert problems == {k: [] for k in problems}
