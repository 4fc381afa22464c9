"""What a lab writes in its spec reaches reports as text: never TeX to parse, never HTML to run; and a
report that cannot be written is one line (issue 20, "Messages and passive outputs")."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdf
import pytest

from civiclab.cli import main
from civiclab.reporting.document import load_document
from civiclab.reporting.render import render
from civiclab.store.tracker import Tracker

from .conftest import toy_spec

TEX_LABEL = r"cost in $ per file, $\x^$ budget"
SCRIPT = "<script>alert('spec')</script>"


@pytest.fixture
def written_run(run_toy: Callable[..., Any]) -> Any:
    """A run whose spec holds a lone `$`, broken TeX and raw HTML in the texts reports show."""
    spec = toy_spec("outputs")
    spec["population"]["sessions"] = 30
    spec["description"] = f"A pilot. {SCRIPT} <img src=x onerror=alert(1)>"
    spec["scorecard"]["criteria"][0]["label"] = TEX_LABEL
    spec["scorecard"]["criteria"][2]["label"] = "gap <b>bold</b> $$"
    return run_toy(spec)


# Guards issue 20: a criterion label with `$...$` crashed the HTML and PDF reports (matplotlib mathtext).
def test_a_label_with_dollars_is_drawn_as_plain_text(written_run: Any, store: str) -> None:
    doc = load_document(Tracker(store), written_run.run_id)
    html = render(doc, "html").decode("utf-8")
    assert "cost in $ per file" in html and SCRIPT not in html  # the page escapes it
    pdf = pypdf.PdfReader(io.BytesIO(render(doc, "pdf")))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "cost in $ per file" in text


# Guards issue 20: raw HTML of the spec was copied into scorecard.md and the Markdown report.
def test_markdown_never_carries_raw_html_from_the_spec(written_run: Any, store: str) -> None:
    report = render(load_document(Tracker(store), written_run.run_id), "md").decode("utf-8")
    artifact = (written_run.artifact_dir / "scorecard.md").read_text(encoding="utf-8")
    for markdown in (report, artifact):
        assert "<" not in markdown
        assert "&lt;script>alert('spec')&lt;/script>" in markdown  # shown as written, not run
        assert "gap &lt;b>bold&lt;/b> $$" in markdown


# Guards issue 20: `civiclab report R --output /proc/version` ended in a traceback.
@pytest.mark.parametrize("output", ["/proc/version", "/proc/civiclab/report.html"])
def test_a_report_that_cannot_be_written_is_one_line(
    output: str, run_toy: Callable[..., Any], store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = toy_spec("plain")
    spec["population"]["sessions"] = 30
    run_id = run_toy(spec).run_id
    assert main(["--tracking-uri", store, "report", run_id, "--output", output]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"civiclab: error: {output}: --output: cannot write the report"
    )
    assert not Path("/proc/version.part").exists()
