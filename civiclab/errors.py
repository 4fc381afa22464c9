"""Typed errors of civiclab, each printed by the CLI in one line.

```
CivicLabError                 any error civiclab raises on purpose
├── SpecError                 an experiment, persona or data file is invalid   (exit 2)
├── RegistryError             an unknown or duplicate pilot / evaluator         (exit 2)
├── PilotError                a pilot could not run                             (exit 1)
│   ├── ReplyRefused          an external system's reply was too large or too slow
│   └── HarnessFault          civiclab itself failed inside a session: the run stops
├── EvaluatorError            an evaluator could not compute its metrics        (exit 1)
├── TrackingError             the MLflow store or a run cannot be used          (exit 1)
├── AuditError                an audit chain or manifest does not verify        (exit 1)
├── ChainError                an EVM node is unreachable or a transaction fails (exit 1)
├── SurveyError               a survey file or submission is invalid            (exit 2)
└── SettingError              a CIVICLAB_* environment setting has a bad value  (exit 2)
```
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def _as_written(text: str) -> str:
    return text


# What the text of every error passes through before it is shown. This ground module cannot know what
# a credential looks like (that is `civiclab.privacy.credentials`): the package root installs the
# redaction when civiclab is imported, which happens before any of its errors can be raised.
_shown: Callable[[str], str] = _as_written


def redact_messages_with(redact: Callable[[str], str]) -> None:
    """Pass the text of every civiclab error through `redact` before it is shown or logged."""
    global _shown
    _shown = redact


class CivicLabError(Exception):
    """Base of every error civiclab raises on purpose.

    Its text never carries a password: a URL in the message (a tracking server, a node) is shown
    without its credentials, wherever the error is printed or logged.
    """

    exit_code: int = 1

    def __str__(self) -> str:
        return _shown(super().__str__())


class SpecError(CivicLabError):
    """An experiment, persona or data file is invalid: `FILE: field.path: what is wrong`."""

    exit_code = 2

    def __init__(self, file: str | Path, field: str, problem: str) -> None:
        self.file = str(file)
        self.field = field
        self.problem = problem
        where = f"{self.file}: {field}: " if field else f"{self.file}: "
        super().__init__(f"{where}{problem}")


class RegistryError(CivicLabError):
    """An unknown or duplicate pilot or evaluator name."""

    exit_code = 2


class PilotError(CivicLabError):
    """A pilot could not set up or run."""


class ReplyRefused(PilotError):
    """An external system's reply was not read to its end: too large, too slow, or oddly encoded.

    `slow` is True when the reply was still arriving at the deadline (another attempt may succeed).
    """

    def __init__(self, message: str, *, slow: bool = False) -> None:
        super().__init__(message)
        self.slow = slow


class HarnessFault(PilotError):
    """civiclab itself failed inside a session (an import, redaction, serialisation) and kept failing when
    tried again: the run stops, marked FAILED, instead of counting the failure against the system under test.
    """


class EvaluatorError(CivicLabError):
    """An evaluator could not compute its metrics."""


class TrackingError(CivicLabError):
    """The MLflow store, or a run in it, cannot be used."""


class AuditError(CivicLabError):
    """An audit chain, an artifact digest or a manifest does not verify."""


class ChainError(CivicLabError):
    """An EVM node is unreachable, or a transaction reverted or was not mined."""


class SigningError(CivicLabError):
    """A signing key cannot be loaded, or an envelope cannot be made or read."""


class SurveyError(CivicLabError):
    """A survey instrument, export or submission is invalid."""

    exit_code = 2


class SettingError(CivicLabError):
    """A `CIVICLAB_*` environment setting has a value civiclab refuses: `$NAME: what is wrong`."""

    exit_code = 2
