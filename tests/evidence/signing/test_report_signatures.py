"""The HTML, PDF and Markdown scorecards say what `civiclab verify` says: the evidence, the committee, and
who signed each review (the trust file's name), counted or ignored and why."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from civiclab.evidence.review import add_review
from civiclab.evidence.verify.verification import verify
from civiclab.reporting.render import write_report
from civiclab.store.tracker import Tracker


@pytest.mark.slow
def test_reports_name_signers_and_their_trust(
    signed_run: Callable[..., Any], store_uri: str, trust_file: Path, keys: dict[str, Any], tmp_path: Path
) -> None:
    result = signed_run(store_uri)
    tracker = Tracker(store_uri)
    add_review(tracker, result.run_id, key=keys["member"], decision="revise", comment="rural gap")
    # An outsider signs the chair's name: the trust file does not list the key.
    add_review(
        tracker, result.run_id, key=keys["outsider"], reviewer="Dr Martin", decision="approve", comment="fine"
    )
    verification = verify(tracker, result.run_id, trust_file)
    assert verification.committee is not None
    words = verification.committee.words("en")
    assert words == "revision asked by 1 of 1 member(s), chair included; 1 review(s) not counted"
    outsider = verification.reviews[-1]

    html = write_report(tracker, result.run_id, "html", tmp_path / "r.html", trust_file).read_text()
    assert f"<strong>Evidence: intact</strong> — signed by Lab Belleval, trusted by {trust_file}" in html
    assert f"<strong>Committee: {words}.</strong>" in html
    assert "<td>Dr Martin</td><td>chair</td>" in html and ">counted</td>" in html
    untrusted = html[html.index(f"<td>#{outsider.line}</td>") :].split("</tr>")[0]
    assert f"key {outsider.keyid[:16]}… (not in the trust file)" in untrusted
    assert "ignored: untrusted: the trust file does not list its key" in untrusted
    assert "Dr Martin" not in untrusted  # never the name a stranger signed, next to its APPROVE

    md = write_report(tracker, result.run_id, "md", tmp_path / "r.md", trust_file).read_text()
    assert f"**Evidence: intact** — signed by Lab Belleval, trusted by {trust_file}" in md
    assert f"**Committee: {words}.**" in md
    assert "| Dr Martin | chair | REVISE | rural gap | — | counted |" in md
    (approve,) = [line for line in md.splitlines() if "| APPROVE |" in line]
    assert "Dr Martin" not in approve and "ignored: untrusted" in approve

    import pypdf

    pdf = write_report(tracker, result.run_id, "pdf", tmp_path / "r.pdf", trust_file).read_bytes()
    text = " ".join(" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Evidence: intact — signed by Lab Belleval" in text
    assert f"Committee: {words}" in text

    # Without a trust file the signer is shown by key id, and said to be unchecked, never trusted.
    plain = write_report(tracker, result.run_id, "md", tmp_path / "plain.md").read_text()
    assert "signer not checked (no trust file)" in plain and "Lab Belleval" not in plain
    assert "**Committee: 2 signed review(s), signers not checked (no trust file)" in plain
