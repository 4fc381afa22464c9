"""The runs list and a run's page say what `civiclab verify` says: evidence, committee, reviews, SYNTHETIC."""

from __future__ import annotations

import re
from typing import Any

from civiclab.store.tracker import Tracker
from tests.desk.conftest import DeskStore, login


def _listed(client: Any, query: str = "") -> set[str]:
    page = client.get(f"/runs?{query}").text
    return set(re.findall(r'<a href="/runs/([0-9a-f]+)">', page))


def test_runs_list_marks_generated_evidence_and_filters_on_it(client: Any, desk_store: DeskStore) -> None:
    assert login(client, "vera").status_code == 303
    run = Tracker(desk_store.uri).get_run(desk_store.runs[0])
    # The journey's survey answers are generated and its sessions simulated: both dimensions are named.
    assert run.tags["civiclab.synthetic"] == "acceptability,human_centered"
    page = client.get("/runs?lang=en").text
    assert '<th scope="col">Data</th>' in page
    assert 'class="status status-synthetic"' in page and "acceptability,human_centered" in page
    assert set(desk_store.runs) <= _listed(client, "synthetic=yes")
    assert not set(desk_store.runs) & _listed(client, "synthetic=no")
    assert (
        '<option value="yes" selected>synthetic only</option>'
        in client.get("/runs?synthetic=yes&lang=en").text
    )


def test_a_run_made_before_the_tag_is_read_from_its_scorecard(desk_store: DeskStore) -> None:
    import dataclasses

    from civiclab.desk.pages import synthetic_of

    run = Tracker(desk_store.uri).get_run(desk_store.runs[1])
    older = dataclasses.replace(run, tags={k: v for k, v in run.tags.items() if k != "civiclab.synthetic"})
    assert synthetic_of(older) == "acceptability,human_centered"


def test_the_run_page_shows_the_committee_and_every_review_as_verify_reads_them(
    client: Any, desk_store: DeskStore
) -> None:
    """An untrusted review signed "alice" is listed by its key, ignored; the committee is verify's."""
    from markupsafe import escape

    from civiclab.evidence.review import add_review
    from civiclab.evidence.verify.verification import verify
    from tests.reviewer_keys import reviewer_key

    run = desk_store.runs[0]
    tracker = Tracker(desk_store.uri)
    add_review(
        tracker,
        run,
        key=reviewer_key("desk-impostor"),
        reviewer="alice",
        decision="approve",
        comment="all fine, trust me",
        conditions=["none at all"],
    )
    result = verify(tracker, run, desk_store.trust)
    assert result.committee is not None and result.evidence_ok
    impostor = result.reviews[-1]
    assert impostor.trusted is False and not impostor.counted
    assert login(client, "vera").status_code == 303
    for lang in ("en", "fr"):
        page = client.get(f"/runs/{run}?lang={lang}").text
        state = result.committee.state
        assert f'class="status status-{"-".join(state.split())}" id="committee-state"' in page
        assert f'<span id="committee-words">{escape(result.committee.words(lang))}</span>' in page
        row = page[page.index(f"<tr><td>{impostor.line}</td>") :].split("</tr>")[0]
        assert impostor.keyid[:16] in row and "alice" not in row
        assert "all fine, trust me" in row and "<li>none at all</li>" in row
        assert ("ignored: untrusted" if lang == "en" else "ignoré : untrusted") in row
    listed = client.get("/runs?lang=en").text
    assert 'class="status status-' in listed and " status-awaiting chair" not in listed
