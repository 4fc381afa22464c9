"""civiclab: responsible experimentation with emerging technologies in public services.

The public API for pilot and evaluator authors is this module's `__all__`, plus the public
modules below; every other module of civiclab is the engine and may change without notice.
The built-in pilots (`pilots/`) and evaluators (`evaluators/`) import only from these:

- `civiclab`: registering (`pilot`, `evaluator`), the pilot's side (`Pilot`, `PilotContext`,
  `PilotFacts`, `EventLog`, `sample_plans`, `iter_plans`, `replay_plans`; `bound_replies` and `PagedFeed` for what it reads from
  an external system over HTTP), what a run produces (`Event`, `SessionPlan`,
  `SessionRecord` and its typed `data_as`, `Metric`), the evaluator's side (`RunData`,
  `per_segment`, `metric_from`), intervals (`Estimate`, `proportion`, `rate`, `mean`, `quantile`...),
  what may be shown (k-anonymous groups: `group_records`, `group_keys`, `GroupTally`...; CSV cells
  a spreadsheet cannot run: `neutralise_cell`), the audit
  log (`verify_audit_log`) and the errors.
- `civiclab.text`: words, sentences, readability and knowledge bases.
- `civiclab.survey`: gathering and scoring survey responses.
- `civiclab.evm`: the EVM client and the attestation registry contract.
- `civiclab.privacy.redaction`: finding and redacting personal data.

Importing `civiclab` stays light (`civiclab --help` does it): the names that need numpy, YAML or
the EVM libraries are imported on first use (`__getattr__` below).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from civiclab import errors as _errors
from civiclab.errors import (
    AuditError,
    ChainError,
    CivicLabError,
    EvaluatorError,
    HarnessFault,
    PilotError,
    RegistryError,
    ReplyRefused,
    SigningError,
    SpecError,
    SurveyError,
    TrackingError,
)
from civiclab.plugins.datafiles import data_file_check
from civiclab.plugins.evaluation import RunData, group_intersections, group_records, metric_from, per_segment
from civiclab.plugins.paging import PagedFeed
from civiclab.plugins.piloting import EventLog, Pilot, PilotContext, PilotFacts
from civiclab.plugins.registry import evaluator, pilot
from civiclab.plugins.replies import bound_replies
from civiclab.plugins.tracing import Conversation, Feedback, TraceSpan
from civiclab.plugins.unit_values import record_unit_values
from civiclab.privacy import credentials as _credentials
from civiclab.privacy.credentials import strip_credentials, strip_url_credentials
from civiclab.privacy.grouping import (
    INTERSECTIONS,
    OVERALL,
    GroupKey,
    GroupTally,
    group_keys,
    group_name,
    hidden_crossings,
    hidden_segments,
    shown_groups,
)
from civiclab.privacy.spreadsheet import neutralise_cell
from civiclab.records import (
    OUTCOMES,
    SEGMENT_ATTRIBUTES,
    AuditSummary,
    EnergyReading,
    Event,
    Metric,
    Outcome,
    SessionPlan,
    SessionRecord,
    canonical_json,
)
from civiclab.spec.paths import DataFile

if TYPE_CHECKING:
    from civiclab.evidence.audit import verify_audit_log
    from civiclab.plugins.experiment import Experiment, load_experiment, read_yaml, validation_to_spec_error
    from civiclab.plugins.population import iter_plans, replay_plans, sample_plans
    from civiclab.privacy.probe import PersonalValueProbe
    from civiclab.privacy.pseudonyms import pseudonym_salt
    from civiclab.reporting.plots import funnel_plot
    from civiclab.scoring.equity import equity
    from civiclab.stats.aggregates import QuantileSketch, SegmentValues
    from civiclab.stats.agreement import Agreement, cohen_kappa
    from civiclab.stats.clustered import clustered_mean, clustered_rate, clustered_statistic, unit_totals
    from civiclab.stats.intervals import (
        METHODS,
        Estimate,
        census,
        difference,
        mean,
        proportion,
        quantile,
        rate,
        ratio,
        statistic,
    )

__version__ = "0.1.0"

# No error message shows a password (a tracking or node URL with credentials), wherever it is printed.
_errors.redact_messages_with(_credentials.strip_credentials)

_LAZY: dict[str, str] = {
    # numpy
    "Estimate": "civiclab.stats.intervals",
    "METHODS": "civiclab.stats.intervals",
    "census": "civiclab.stats.intervals",
    "difference": "civiclab.stats.intervals",
    "mean": "civiclab.stats.intervals",
    "proportion": "civiclab.stats.intervals",
    "quantile": "civiclab.stats.intervals",
    "rate": "civiclab.stats.intervals",
    "ratio": "civiclab.stats.intervals",
    "statistic": "civiclab.stats.intervals",
    "clustered_mean": "civiclab.stats.clustered",
    "clustered_rate": "civiclab.stats.clustered",
    "clustered_statistic": "civiclab.stats.clustered",
    "unit_totals": "civiclab.stats.clustered",
    "Agreement": "civiclab.stats.agreement",
    "cohen_kappa": "civiclab.stats.agreement",
    "QuantileSketch": "civiclab.stats.aggregates",
    "SegmentValues": "civiclab.stats.aggregates",
    "equity": "civiclab.scoring.equity",
    "sample_plans": "civiclab.plugins.population",
    "iter_plans": "civiclab.plugins.population",
    "replay_plans": "civiclab.plugins.population",
    # YAML and the registry of experiments
    "Experiment": "civiclab.plugins.experiment",
    "load_experiment": "civiclab.plugins.experiment",
    "read_yaml": "civiclab.plugins.experiment",
    "validation_to_spec_error": "civiclab.plugins.experiment",
    # what evaluators of the evidence read
    "verify_audit_log": "civiclab.evidence.audit",
    "PersonalValueProbe": "civiclab.privacy.probe",
    # a pilot serving participants names them as its runs will (the same salted pseudonyms)
    "pseudonym_salt": "civiclab.privacy.pseudonyms",
    # drawing (matplotlib)
    "funnel_plot": "civiclab.reporting.plots",
}


def __getattr__(name: str) -> Any:
    """The public names whose modules are heavy to import, imported on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'civiclab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Agreement",
    "AuditError",
    "AuditSummary",
    "ChainError",
    "CivicLabError",
    "Conversation",
    "DataFile",
    "EnergyReading",
    "Estimate",
    "EvaluatorError",
    "Event",
    "EventLog",
    "Experiment",
    "Feedback",
    "GroupKey",
    "GroupTally",
    "HarnessFault",
    "INTERSECTIONS",
    "METHODS",
    "Metric",
    "OUTCOMES",
    "OVERALL",
    "Outcome",
    "PagedFeed",
    "PersonalValueProbe",
    "Pilot",
    "PilotContext",
    "PilotError",
    "PilotFacts",
    "QuantileSketch",
    "RegistryError",
    "ReplyRefused",
    "RunData",
    "SEGMENT_ATTRIBUTES",
    "SegmentValues",
    "SessionPlan",
    "SessionRecord",
    "SigningError",
    "SpecError",
    "SurveyError",
    "TraceSpan",
    "TrackingError",
    "__version__",
    "bound_replies",
    "canonical_json",
    "census",
    "clustered_mean",
    "clustered_rate",
    "clustered_statistic",
    "cohen_kappa",
    "data_file_check",
    "difference",
    "equity",
    "evaluator",
    "funnel_plot",
    "group_intersections",
    "group_keys",
    "group_name",
    "group_records",
    "hidden_crossings",
    "hidden_segments",
    "iter_plans",
    "load_experiment",
    "mean",
    "metric_from",
    "neutralise_cell",
    "per_segment",
    "pilot",
    "proportion",
    "pseudonym_salt",
    "quantile",
    "rate",
    "ratio",
    "read_yaml",
    "record_unit_values",
    "replay_plans",
    "sample_plans",
    "shown_groups",
    "statistic",
    "strip_credentials",
    "strip_url_credentials",
    "unit_totals",
    "validation_to_spec_error",
    "verify_audit_log",
]
