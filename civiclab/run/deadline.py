"""A session's time limit (`executor.session_timeout_s`): past it, the session is stopped and recorded as
failed ("session timed out after N s"), and the run goes on with the next one.

How a session is stopped. Every executor runs a session on the main thread of the process that runs it
(the run's own process for the serial executor, a worker's for a process pool or a Ray actor), under a
real-time interval timer (`setitimer(ITIMER_REAL)`). When the timer expires the kernel sends SIGALRM,
which interrupts a blocking call (a sleep, a socket read, a wait on a child process), and its handler
raises `SessionTimedOut` in the session's own frame. The session is stopped, not abandoned: when its
record says it timed out, none of its code is still running, so nothing of it can reach the run's
records afterwards, and the next session finds the pilot as the stopped one left it (as after a crash).

A watchdog thread could not do this: a thread cannot be killed, and an abandoned one would go on using
the pilot the next session runs on. Running each session in a subprocess would stop it too, but not for
a pilot whose sessions share the run's own process (`Pilot.parallel = False`), and at a process per
session.

`SessionTimedOut` is a BaseException, like KeyboardInterrupt, so that a pilot's `except Exception`
cannot swallow it. Limits: code inside a C extension that holds the interpreter without checking for
signals is stopped when it returns to Python; and signals reach only a process's main thread, so a run
driven from another thread runs its sessions without a limit (and says so once).

An alarm already armed by the caller (pytest-timeout, an application embedding civiclab) is kept: if it
falls due first its handler runs, and after the session its handler is back and its timer re-armed
with the time it had left.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from civiclab.records import SessionRecord

log = logging.getLogger(__name__)

TIMED_OUT = "session timed out after "
"""How the error of a session stopped by its time limit begins (then the limit, in seconds)."""

_warned_off_main_thread = False


class SessionTimedOut(BaseException):
    """The session outlived `executor.session_timeout_s`; raised in the session's own frame.

    A BaseException, not an Exception, so that no `except Exception` in a pilot swallows it.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(f"{TIMED_OUT}{seconds:g} s")


def timed_out(record: SessionRecord) -> bool:
    """Whether the session was stopped by its time limit (its record holds no output of the pilot)."""
    return record.outcome == "failed" and (record.error or "").startswith(TIMED_OUT)


class _Clock:
    """This process's SIGALRM timer while sessions run: the session's deadline and the caller's alarm.

    One timer serves both: it is armed for whichever falls due first. The handler is installed once for
    a batch of sessions (`session_clock`) or, outside one, for each session.
    """

    def __init__(self) -> None:
        self.handler: Any = None  # the caller's SIGALRM handler, restored by `uninstall`
        self.due: float | None = None  # when the caller's alarm falls due (monotonic clock)
        self.interval = 0.0  # and its period, if it repeats
        self.deadline: float | None = None  # the running session's, or None between sessions
        self.seconds = 0.0

    def install(self) -> bool:
        """Install the handler unless it is; returns whether it was installed now."""
        current = signal.getsignal(signal.SIGALRM)
        if current is _on_alarm:
            return False
        left, self.interval = signal.getitimer(signal.ITIMER_REAL)
        self.handler, self.due = current, (time.monotonic() + left if left > 0 else None)
        signal.signal(signal.SIGALRM, _on_alarm)
        return True

    def uninstall(self) -> None:
        """Give SIGALRM back to the caller, with its alarm re-armed for the time it has left."""
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.handler if self.handler is not None else signal.SIG_DFL)
        if self.due is not None:
            signal.setitimer(signal.ITIMER_REAL, max(self.due - time.monotonic(), 1e-4), self.interval)
        self.due = None

    def arm(self) -> None:
        """Set the timer for the next of the session's deadline and the caller's alarm (or stop it)."""
        due = [t for t in (self.deadline, self.due) if t is not None]
        left = max(min(due) - time.monotonic(), 1e-4) if due else 0.0
        signal.setitimer(signal.ITIMER_REAL, left)


_clock = _Clock()
_EARLY = 0.001  # a timer may fire this much before its time


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    clock, now = _clock, time.monotonic()
    deadline = clock.deadline
    if clock.due is not None and now >= clock.due - _EARLY and (deadline is None or clock.due <= deadline):
        clock.due = now + clock.interval if clock.interval > 0 else None
        clock.arm()
        _call(clock.handler, signum, frame)  # the caller's alarm: its handler, as if we were not here
        return
    if deadline is not None and now >= deadline - _EARLY:
        raise SessionTimedOut(clock.seconds)
    clock.arm()  # too early for either: wait on


@contextmanager
def session_deadline(seconds: float | None) -> Iterator[None]:
    """Raise `SessionTimedOut` in the body if it runs longer than `seconds` (None: no limit).

    Raises:
        SessionTimedOut: the body was still running after `seconds`.
    """
    if not seconds or not _on_main_thread():
        yield
        return
    installed = _clock.install()
    try:
        _clock.seconds, _clock.deadline = seconds, time.monotonic() + seconds
        _clock.arm()
        try:
            yield
        finally:
            _clock.deadline = None
    finally:  # also when the alarm fired as the inner block was leaving
        _clock.deadline = None
        _clock.arm()
        if installed:
            _clock.uninstall()


@contextmanager
def session_clock() -> Iterator[None]:
    """Keep the handler installed across the sessions run in the body (installing it costs more
    than a session's own timer); the caller's SIGALRM handler and alarm are back afterwards."""
    installed = threading.current_thread() is threading.main_thread() and _clock.install()
    try:
        yield
    finally:
        if installed:
            _clock.uninstall()


def _call(handler: Any, signum: int, frame: FrameType | None) -> None:
    """Run the caller's own SIGALRM handler, as the signal would have."""
    if callable(handler):
        handler(signum, frame)
    elif handler == signal.SIG_DFL:  # the caller's alarm ends the process: let it
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGALRM)


def _on_main_thread() -> bool:
    global _warned_off_main_thread
    if threading.current_thread() is threading.main_thread():
        return True
    if not _warned_off_main_thread:
        _warned_off_main_thread = True
        log.warning("sessions run outside the main thread: executor.session_timeout_s cannot stop them")
    return False
