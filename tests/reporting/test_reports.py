"""Reports rendered from real runs: criteria, verdicts, missing evidence, digests, changes, reviews."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdf
import pytest

from civiclab.evidence.review import add_review
from civiclab.reporting.document import load_document
from civiclab.reporting.render import render, write_report
from civiclab.store.tracker import Tracker

from .conftest import REVIEW_KEY, make_runner, toy_spec

IMPACT = {
    "assessed_by": "Lab DPO",
    "risk": [
        {
            "id": "reversible",
            "question": "Can the decision be reversed?",
            "choices": {"yes": 0, "with effort": 2, "no": 4},
            "answer": "with effort",
        },
        {
            "id": "data",
            "question": "Which data?",
            "multiple": True,
            "choices": {"personal": 1, "sensitive": 3},
            "answer": ["personal", "sensitive"],
        },
    ],
    "mitigation": [
        {"id": "human", "question": "Is a human reachable?", "choices": {"yes": 2, "no": 0}, "answer": "yes"},
    ],
}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Tracker]:
    """A first run, then a second with a lower completion and a waiver: verdicts flip (shared, read-only)."""
    folder = tmp_path_factory.mktemp("reports")
    store = f"sqlite:///{folder}/mlflow.db"
    run_toy = make_runner(folder, store)
    first = run_toy(toy_spec(complete_p=0.85))
    spec = toy_spec(complete_p=0.55, rural_penalty=0.3)
    spec["impact_assessment"] = IMPACT
    spec["scorecard"]["criteria"][1]["waiver"] = {
        "justification": "abandonment measured on a toy population",
        "granted_by": "Ethics chair",
    }
    second = run_toy(spec)
    tracker = Tracker(store)
    add_review(
        tracker,
        second.run_id,
        key=REVIEW_KEY,
        reviewer="Dr Martin",
        decision="revise",
        comment="Fix the rural gap",
    )
    return first, second, tracker


def test_document_binds_every_kind_of_evidence(
    two_runs: tuple[Any, Any, Tracker], report_trust: Path
) -> None:
    first, second, tracker = two_runs
    doc = load_document(tracker, second.run_id, report_trust)
    assert doc.verification.ok and doc.verification.committee is not None
    assert doc.verification.committee.state == "revise"
    # The scorecard's committee table is verify's rows: the trust file's name, counted.
    assert [(r["signer"], r["role"], r["decision"], r["status"]) for r in doc.scorecard.reviews] == [
        ("Dr Martin", "chair", "revise", "counted")
    ]
    co = next(d for d in doc.public_dimensions if d.key == "co_construction")
    assert co.status == "gap" and any("oversight of the result, not co-construction" in g for g in co.gaps)
    human = next(r for r in doc.altai if r.key == "human_agency")
    assert "1 committee decision(s) counted by the trust file's rule" in human.evidence
    verdicts = {v.label: v.verdict for v in doc.scorecard.criteria}
    assert verdicts["trust"] == "missing"
    assert verdicts["human_centered.abandonment_rate"] == "waived"
    assert doc.impact is not None and (doc.impact.raw_risk, doc.impact.max_raw_risk) == (6, 8)
    assert doc.impact.mitigation_applied and doc.impact.current == 5 and doc.impact.level_name == "III"
    assert doc.changes is not None and doc.changes.previous_run_id == first.run_id
    assert {(p.key, p.previous, p.current) for p in doc.changes.spec_changes} >= {
        ("pilot.params.complete_p", "0.85", "0.55"),
        ("pilot.params.rural_penalty", None, "0.3"),
    }
    flips = {f.label: (f.previous, f.current) for f in doc.changes.verdict_flips}
    assert flips["completion"] == ("pass", "fail")
    assert flips["human_centered.abandonment_rate"] == ("pass", "waived")
    completion = next(m for m in doc.changes.metric_deltas if m.name == "human_centered.completion_rate")
    assert completion.delta == pytest.approx(completion.current - completion.previous)  # type: ignore[operator]
    assert completion.delta < 0  # type: ignore[operator]
    dims = {d.key: d.status for d in doc.public_dimensions}
    # Declared, but no criterion measures personal data: partial, never covered from declarations alone.
    assert dims["open_outputs"] == "gap" and dims["data_governance"] == "partial"
    assert len(doc.altai) == 7


def test_html_is_self_contained_and_complete(two_runs: tuple[Any, Any, Tracker], report_trust: Path) -> None:
    _, second, tracker = two_runs
    doc = load_document(tracker, second.run_id, report_trust)
    html = render(doc, "html").decode()
    assert '<html lang="en">' in html and "<main" in html
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html)  # no external asset
    assert html.count('src="data:image/png;base64,') == 2
    assert all(alt for alt in re.findall(r'<img [^>]*alt="([^"]*)"', html))
    for text in (
        'Recommendation: <span class="v-stop">STOP</span>',
        "MISSING",
        "WAIVED",
        "Missing evidence",
        "granted by Ethics chair",
        doc.scorecard.spec_digest,
        doc.scorecard.audit_root,
        "<strong>Evidence: intact</strong> — signed by Lab Toy, trusted by",
        "<strong>Committee: revision asked by 1 of 1 member(s), chair included.</strong>",
        "impact level III",
        "Verdicts that flipped",
        "pilot.params.complete_p",
        "Dr Martin",
        "REVISE",
        "Fix the rural gap",
        "Digital never the only way: other channels kept open",
        "7. Accountability",
    ):
        assert text in html, text


def test_markdown_report(two_runs: tuple[Any, Any, Tracker], report_trust: Path) -> None:
    _, second, tracker = two_runs
    md = render(load_document(tracker, second.run_id, report_trust), "md").decode()
    assert md.splitlines()[2].startswith("**Evidence: intact** — signed by Lab Toy, trusted by")
    assert md.splitlines()[4] == "**Committee: revision asked by 1 of 1 member(s), chair included.**"
    assert "**Recommendation: STOP**" in md
    assert "| trust | blocking | — | — | — | ≥ 3.5 | MISSING | no evidence for this metric |" in md
    assert "- completion: pass → **fail**" in md
    assert "| Dr Martin | chair | REVISE | Fix the rural gap | — | counted |" in md
    # Without a trust file nobody is named as the committee would: the signed name is marked unchecked.
    plain = render(load_document(tracker, second.run_id), "md").decode()
    assert (
        "**Committee: 1 signed review(s), signers not checked (no trust file); the last says revise.**"
        in plain
    )
    assert "| Dr Martin (key " in plain and "not checked (no trust file) | — | REVISE |" in plain


def test_pdf_opens_with_its_pages_and_outline(two_runs: tuple[Any, Any, Tracker], tmp_path: Path) -> None:
    _, second, tracker = two_runs
    path = write_report(tracker, second.run_id, "pdf", tmp_path / "card.pdf")
    reader = pypdf.PdfReader(path)
    assert len(reader.pages) >= 4
    assert reader.metadata is not None and reader.metadata.title.startswith("Scorecard — toy-pilot")
    outline = [o.title for o in reader.outline if not isinstance(o, list)]
    assert outline[:3] == ["Scorecard — toy-pilot", "Criteria", "Families of evidence"]
    assert {"Impact assessment", "Changes since the previous run", "Committee reviews"} <= set(outline)
    first_page = " ".join(reader.pages[0].extract_text().split())  # justified lines: spaces vary
    assert "Recommendation: STOP" in first_page and "Evidence: intact" in first_page
    text = "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    card = load_document(tracker, second.run_id).scorecard
    assert card.audit_root in text.replace(" ", "") and card.spec_digest in text.replace(" ", "")
    assert "MISSING" in text and "Dr Martin" in text


@pytest.mark.slow
def test_report_of_a_tampered_run_says_so(run_toy: Callable[..., Any], store: str) -> None:
    run = run_toy()
    tracker = Tracker(store)
    folder = tracker.local_artifact_dir(run.run_id)
    assert folder is not None
    (folder / "scorecard.md").write_text("# all good\n")
    html = render(load_document(tracker, run.run_id), "html").decode()
    assert "<strong>Evidence: DOES NOT VERIFY — artifacts: scorecard.md" in html
    assert "Do not rely on this scorecard." in html


def test_reports_are_written_outside_the_run(
    two_runs: tuple[Any, Any, Tracker], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civiclab.evidence.verify.manifestcheck import verify_run_manifest

    _, second, tracker = two_runs
    monkeypatch.chdir(tmp_path)
    path = write_report(tracker, second.run_id, "html")
    assert path == Path("reports") / second.run_id / "scorecard.html" and path.exists()
    assert verify_run_manifest(tracker, second.run_id).ok


def test_demo_reports_write_three_formats(
    two_runs: tuple[Any, Any, Tracker], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civiclab.reporting.demo import demo_reports

    _, second, tracker = two_runs
    monkeypatch.chdir(tmp_path)
    folder = demo_reports(second.run_id, tracker.uri)
    assert sorted(p.name for p in folder.iterdir()) == ["scorecard.html", "scorecard.md", "scorecard.pdf"]
    assert pypdf.PdfReader(folder / "scorecard.pdf").pages


def test_synthetic_evidence_is_marked_on_every_page_of_every_format(
    two_runs: tuple[Any, Any, Tracker],
) -> None:
    import io

    _, second, tracker = two_runs
    doc = load_document(tracker, second.run_id)
    from civiclab.scoring.equity import LeftBehind

    doc.scorecard.synthetic = ["acceptability: 12 metric values computed from generated data"]
    doc.scorecard.left_behind = [
        LeftBehind(label="A human is within reach", metric="human_centered.human_reachable_on_failure",
                   segment="device=none", observed=0.0, ci_low=0.0, ci_high=0.021, n=179, threshold=0.95,
                   kind="at_least", confident=True, severity="blocking")
    ]  # fmt: skip
    md = render(doc, "md").decode()
    head = md.splitlines()[:8]  # title, evidence and committee lines, then the warning, before any figure
    assert any(line.startswith("**SYNTHETIC DATA — not real people:**") for line in head), head
    assert md.count("SYNTHETIC DATA") == 2  # and again at the end
    html = render(doc, "html").decode()
    assert '<div class="synthetic" role="alert"><strong>SYNTHETIC DATA' in html
    reader = pypdf.PdfReader(io.BytesIO(render(doc, "pdf")))
    assert len(reader.pages) >= 4
    assert all("SYNTHETIC DATA" in page.extract_text() for page in reader.pages)
    # Every format names the group left behind, with its interval and n; its whole interval fails a
    # blocking criterion, so it blocks a GO.
    row = "| device=none | A human is within reach | 0 | [0, 0.021] | 179 | ≥ 0.95 | yes (whole interval) — blocks GO |"
    assert row in md
    assert "<h3>Groups left behind</h3>" in html and "device=none" in html and "blocks GO" in html
    assert "Groups left behind" in "".join(p.extract_text() for p in reader.pages)
