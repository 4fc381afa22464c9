"""Questions to an external system: in flight at most `concurrency` at once, each with a timeout,
retried with exponential backoff (tenacity) on transient failures, started no faster than the rate
limit. A question that still fails is a failed reply, never an exception: one failed session, not a
crashed run. Replies are handed back per question id, so records keep plan order whatever finishes first.

Each failed reply says whose failure it was (`failure_of`): the endpoint's (timeout, connection, HTTP
status, a reply that cannot be read) or civiclab's (an import racing between threads). civiclab's own
failures are tried again too; the pilot stops the run on one that persists instead of recording it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING

from civiclab import strip_credentials
from pilots.assistant.systems.base import AssistantSystem, Question, Reply, TransientError, failure_of
from pilots.assistant.systems.config import Calls

if TYPE_CHECKING:
    from tenacity import RetryCallState

logger = logging.getLogger(__name__)

HARNESS_ATTEMPTS = 3  # a half-imported module is whole a moment later: civiclab's failures get 3 tries


def _civiclab_side(exc: BaseException) -> bool:
    return failure_of(exc)[0] == "civiclab"


class RateLimiter:
    """At most `per_s` starts a second, evenly spaced (a thread-safe next-slot clock)."""

    def __init__(self, per_s: float | None) -> None:
        self.interval = 1.0 / per_s if per_s else 0.0
        self.next_slot = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class Dispatcher:
    """Sends questions to one system with the spec's `calls` policy; one thread pool per run."""

    def __init__(self, system: AssistantSystem, calls: Calls) -> None:
        import tenacity  # noqa: F401 - imported here, on the run's thread, never first by a dispatcher thread

        self.system = system
        self.calls = calls
        self.limiter = RateLimiter(calls.rate_limit_per_s)
        self.pool = ThreadPoolExecutor(max_workers=calls.concurrency, thread_name_prefix="civiclab-ask")
        # Timed-out attempts keep running in their own daemon threads; they never hold a worker slot.
        self.pending: dict[str, Future[Reply]] = {}

    def _stop(self, state: RetryCallState) -> bool:
        """The spec's retries for the endpoint; at least `HARNESS_ATTEMPTS` for civiclab's own failures."""
        outcome = state.outcome
        last = outcome.exception() if outcome is not None else None
        allowed = self.calls.retries + 1
        if last is not None and _civiclab_side(last):
            allowed = max(allowed, HARNESS_ATTEMPTS)
        return state.attempt_number >= allowed

    def _attempt(self, question: Question) -> Reply:
        """One call, bounded by the timeout even for a Python object that never returns."""
        self.limiter.wait()
        box: dict[str, Reply | BaseException] = {}

        def target() -> None:
            try:
                box["reply"] = self.system.ask(question)
            except BaseException as exc:  # handed back to the caller's thread
                box["reply"] = exc

        worker = threading.Thread(target=target, daemon=True, name=f"{threading.current_thread().name}-call")
        worker.start()
        # The client's own timeout normally fires first; this margin only catches a stuck object.
        worker.join(self.calls.timeout_s + 1.0)
        if worker.is_alive():
            raise TransientError(f"no answer within {self.calls.timeout_s:g} s")
        out = box["reply"]
        if isinstance(out, BaseException):
            raise out
        return out

    def ask(self, question: Question) -> Reply:
        """Ask with retries; never raises for a failure of the system."""
        from tenacity import (
            RetryError,
            Retrying,
            retry_if_exception,
            retry_if_exception_type,
            wait_exponential,
        )

        started = time.perf_counter()
        attempts = 0
        retrying = Retrying(
            stop=self._stop,
            wait=wait_exponential(multiplier=self.calls.backoff_s, max=30.0),
            retry=retry_if_exception_type(TransientError) | retry_if_exception(_civiclab_side),
        )
        reply: Reply | None = None
        try:
            for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    reply = self._attempt(question)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            assert last is not None
            return self._failed(question, last, attempts, started)
        except Exception as exc:
            return self._failed(question, exc, attempts, started)
        assert reply is not None
        return Reply(
            answer=reply.answer,
            sources=reply.sources,
            handed_over=reply.handed_over,
            latency_s=reply.latency_s or (time.perf_counter() - started),
            attempts=attempts,
        )

    def _failed(self, question: Question, exc: BaseException, attempts: int, started: float) -> Reply:
        error = f"{type(exc).__name__}: {exc}"
        side, failure = failure_of(exc)
        logger.info(
            "question %s/%s failed after %d attempt(s): %s", question.session, question.turn, attempts, error
        )
        return Reply(
            answer="",
            error=strip_credentials(error)[:300],  # a client's message may quote a URL with its credentials
            attempts=attempts,
            latency_s=time.perf_counter() - started,
            failed_by=side,
            failure=failure,
        )

    def submit(self, key: str, question: Question) -> None:
        """Start asking in the background (at most `concurrency` at once); `result(key)` collects it."""
        if key not in self.pending:
            self.pending[key] = self.pool.submit(self.ask, question)

    def submit_many(self, items: Iterable[tuple[str, Question]]) -> None:
        for key, question in items:
            self.submit(key, question)

    def result(self, key: str, question: Question) -> Reply:
        """The reply to a submitted question (asked now if it was not submitted)."""
        future = self.pending.pop(key, None)
        if future is None:
            return self.ask(question)
        try:
            return future.result()
        except FutureTimeout:  # pragma: no cover - result() without a timeout does not raise it
            return Reply(answer="", error="timeout", failed_by="endpoint", failure="timeout")

    def close(self) -> None:
        for future in self.pending.values():
            future.cancel()
        self.pending.clear()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.system.close()
