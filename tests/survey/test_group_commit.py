"""Group commit: submissions that arrive together share a transaction, each code is still used once,
and a participant is told "stored" only for a response that is in the store."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest

from civiclab.spec.survey import SurveySpec
from civiclab.survey.codes import hash_code
from civiclab.survey.collect import SurveyContext
from civiclab.survey.groupcommit import GroupCommit
from civiclab.survey.store import SurveyStore
from civiclab.survey.submissions import Submission, store_submissions
from civiclab.survey.web import create_app
from tests.survey.conftest import csrf_token, full_answers

EXPERIMENT = "group-commit"


def test_items_arriving_together_are_written_in_few_batches_in_order() -> None:
    batches: list[list[int]] = []

    async def write(batch: list[int]) -> list[int]:
        batches.append(batch)
        await asyncio.sleep(0.01)  # a transaction's round trip: the next batch gathers meanwhile
        return [x * 10 for x in batch]

    async def burst() -> list[int]:
        queue: GroupCommit[int, int] = GroupCommit(write, writers=2, max_batch=50)
        return list(await asyncio.gather(*(queue.submit(i) for i in range(200))))

    assert asyncio.run(burst()) == [i * 10 for i in range(200)]  # each its own outcome
    assert sorted(x for b in batches for x in b) == list(range(200))  # each written once
    assert len(batches) == 4 and max(len(b) for b in batches) == 50


def test_a_failed_batch_fails_each_of_its_submitters_and_the_queue_goes_on() -> None:
    calls = 0

    async def write(batch: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database went away")
        return batch

    async def run() -> tuple[list[object], int]:
        queue: GroupCommit[int, int] = GroupCommit(write, writers=1)
        first = await asyncio.gather(*(queue.submit(i) for i in range(3)), return_exceptions=True)
        return [type(x).__name__ if isinstance(x, Exception) else x for x in first], await queue.submit(7)

    outcomes, later = asyncio.run(run())
    assert outcomes == ["RuntimeError"] * 3 and later == 7


def test_the_queue_works_on_a_new_event_loop_after_the_first_one_closed() -> None:
    async def write(batch: list[int]) -> list[int]:
        return batch

    queue: GroupCommit[int, int] = GroupCommit(write)
    assert asyncio.run(queue.submit(1)) == 1
    assert asyncio.run(queue.submit(2)) == 2  # as a test client runs each request


def _submission(code: str, language: str = "fr") -> Submission:
    return Submission(code, {"SUS[SQ001]": 5, "FB[SQ001]": "très clair"}, language, 4)


def _check_batch_semantics(store: SurveyStore) -> None:
    open_codes = store.create_invitations(EXPERIMENT, 4, {"territory": "rural"})
    [used] = store.create_invitations(EXPERIMENT, 1)
    store.submit(EXPERIMENT, used, {"SUS[SQ001]": 1}, "en", 4)
    batch = [_submission(c) for c in open_codes] + [
        _submission(open_codes[0], "en"),  # the same code twice in one batch
        _submission(used),  # used before
        _submission("NOPE-NOPE-NOPE"),  # unknown
    ]
    outcomes = store_submissions(store, EXPERIMENT, batch)
    uids = [f"web:{hash_code(EXPERIMENT, c)[:32]}" for c in open_codes]
    assert outcomes[1:4] == uids[1:4] and outcomes[5:] == [None, None]
    assert {outcomes[0], outcomes[4]} == {uids[0], None}  # code 0 stored once, by one of its two posts
    stored = {r.uid: r for r in store.responses(EXPERIMENT)}
    assert len(stored) == 5 and set(uids) <= set(stored)
    # A batched response reads back exactly as one submitted alone would.
    one = stored[uids[2]]
    assert (one.answers, one.segment, one.complete, one.lastpage, one.source) == (
        {"SUS[SQ001]": 5, "FB[SQ001]": "très clair"},
        {"territory": "rural", "language": "fr"},
        True,
        4,
        "web",
    )
    assert all(store.invitation(EXPERIMENT, c).state == "used" for c in open_codes)


def test_a_batch_on_sqlite_stores_open_codes_once_and_refuses_the_others(tmp_path: Path) -> None:
    store = SurveyStore(f"sqlite:///{tmp_path / 'survey.db'}")
    try:
        _check_batch_semantics(store)
    finally:
        store.close()


@pytest.mark.integration
def test_a_batch_on_postgresql_stores_open_codes_once_and_concurrent_batches_never_share_a_code() -> None:
    from tests.integration.servers import postgres

    with postgres() as url:
        store = SurveyStore(url)
        try:
            _check_batch_semantics(store)
            # Four writers, each with a batch of the same 300 codes in its own order: 300 stored in all.
            codes = store.create_invitations(EXPERIMENT, 300)
            results: list[list[str | None]] = []
            barrier = threading.Barrier(4)

            def writer(k: int) -> None:
                mine = codes[k * 75 :] + codes[: k * 75]
                barrier.wait()
                results.append(store_submissions(store, EXPERIMENT, [_submission(c) for c in mine]))

            threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            stored_by = Counter(uid for batch in results for uid in batch if uid is not None)
            assert len(stored_by) == 300 and set(stored_by.values()) == {1}
            assert store.count(EXPERIMENT) == 5 + 300
        finally:
            store.close()


def test_the_form_stores_a_burst_in_fewer_transactions_and_refuses_each_second_use(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    ctx = SurveyContext(experiment=EXPERIMENT, spec=SurveySpec(store=url), k=5, source=None)
    store = SurveyStore(url)
    codes = store.create_invitations(EXPERIMENT, 120)
    app = create_app(ctx, store, rate_limit=0)

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            token = csrf_token((await client.get("/fr/")).text)
            posts = [
                {**full_answers(ctx), "csrf_token": token, "code": code, "page": "3"}
                for code in codes + codes[:30]
            ]
            answers = await asyncio.gather(*(client.post("/fr/survey", data=p) for p in posts))
        return [a.status_code for a in answers]

    try:
        statuses = asyncio.run(burst())
        assert Counter(statuses) == {303: 120, 400: 30}
        assert store.count(EXPERIMENT) == 120
        assert {r.uid for r in store.responses(EXPERIMENT)} == {
            f"web:{hash_code(EXPERIMENT, c)[:32]}" for c in codes
        }
        assert app.state.submissions.batches < 150  # shared transactions, not one per post
    finally:
        store.close()
