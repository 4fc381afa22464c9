"""The HTML, PDF and Markdown scorecards show who signed the run and each review, and whether trusted."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from civiclab.evidence.review import add_review
from civiclab.reporting.render import write_report
from civiclab.store.tracker import Tracker


@pytest.mark.slow
def test_reports_name_signers_and_their_trust(
    signed_run: Callable[..., Any], store_uri: str, trust_file: Path, keys: dict[str, Any], tmp_path: Path
) -> None:
    result = signed_run(store_uri)
    tracker = Tracker(store_uri)
    add_review(tracker, result.run_id, key=keys["member"], decision="revise", comment="rural gap")
    add_review(tracker, result.run_id, key=keys["outsider"], decision="approve", comment="fine")

    html = write_report(tracker, result.run_id, "html", tmp_path / "r.html", trust_file).read_text()
    assert f"Run signed by <strong>Lab Belleval</strong>: trusted by {trust_file}." in html
    assert "<td>Dr Martin</td><td>chair</td>" in html
    assert "not list as a committee member: untrusted" in html  # mallory's review

    md = write_report(tracker, result.run_id, "md", tmp_path / "r.md", trust_file).read_text()
    assert f"**Signature:** run signed by Lab Belleval, trusted by {trust_file}." in md
    assert "REVISE signed by Dr Martin (chair)" in md

    import pypdf

    pdf = write_report(tracker, result.run_id, "pdf", tmp_path / "r.pdf", trust_file).read_bytes()
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Run signed by Lab Belleval" in " ".join(text.split())

    # Without a trust file the signer is shown by key id, and said to be unchecked, never trusted.
    plain = write_report(tracker, result.run_id, "md", tmp_path / "plain.md").read_text()
    assert "trust not checked (no trust file)" in plain and "Lab Belleval" not in plain
