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

Importing `civiclab` stays light (every `civiclab` command does it, and most need only part of it): each
public name but the errors is imported on first use (`__getattr__` below), so that `civiclab --help`
or `civiclab verify` never builds the pydantic models of records and pilots it does not read.
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
from civiclab.plugins import installed as _installed
from civiclab.privacy import credentials as _credentials
from civiclab.privacy.credentials import strip_credentials, strip_url_credentials

if TYPE_CHECKING:
    from civiclab.evidence.audit import verify_audit_log
    from civiclab.plugins.datafiles import data_file_check
    from civiclab.plugins.evaluation import (
        RunData,
        group_intersections,
        group_records,
        metric_from,
        per_segment,
    )
    from civiclab.plugins.experiment import Experiment, load_experiment, read_yaml, validation_to_spec_error
    from civiclab.plugins.paging import PagedFeed
    from civiclab.plugins.piloting import EventLog, Pilot, PilotContext, PilotFacts
    from civiclab.plugins.population import iter_plans, replay_plans, sample_plans
    from civiclab.plugins.registry import evaluator, pilot
    from civiclab.plugins.replies import bound_replies
    from civiclab.plugins.tracing import Conversation, Feedback, TraceSpan
    from civiclab.plugins.unit_values import record_unit_values
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
    from civiclab.privacy.probe import PersonalValueProbe
    from civiclab.privacy.pseudonyms import pseudonym_salt
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
    from civiclab.reporting.plots import funnel_plot
    from civiclab.scoring.equity import equity
    from civiclab.spec.paths import DataFile
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

# Before any pydantic model is built: pydantic need not read every package's metadata for its plugins.
_installed.spare_pydantic_its_plugin_search()

# No error message shows a password (a tracking or node URL with credentials), wherever it is printed.
_errors.redact_messages_with(_credentials.strip_credentials)

_LAZY: dict[str, str] = {
    # what pilots and evaluators are written against (pydantic models, the registry): imported on first
    # use, so that a command that needs none of them (`civiclab --help`, `verify`) does not build them
    "data_file_check": "civiclab.plugins.datafiles",
    "RunData": "civiclab.plugins.evaluation",
    "group_intersections": "civiclab.plugins.evaluation",
    "group_records": "civiclab.plugins.evaluation",
    "metric_from": "civiclab.plugins.evaluation",
    "per_segment": "civiclab.plugins.evaluation",
    "PagedFeed": "civiclab.plugins.paging",
    "EventLog": "civiclab.plugins.piloting",
    "Pilot": "civiclab.plugins.piloting",
    "PilotContext": "civiclab.plugins.piloting",
    "PilotFacts": "civiclab.plugins.piloting",
    "evaluator": "civiclab.plugins.registry",
    "pilot": "civiclab.plugins.registry",
    "bound_replies": "civiclab.plugins.replies",
    "Conversation": "civiclab.plugins.tracing",
    "Feedback": "civiclab.plugins.tracing",
    "TraceSpan": "civiclab.plugins.tracing",
    "record_unit_values": "civiclab.plugins.unit_values",
    "INTERSECTIONS": "civiclab.privacy.grouping",
    "OVERALL": "civiclab.privacy.grouping",
    "GroupKey": "civiclab.privacy.grouping",
    "GroupTally": "civiclab.privacy.grouping",
    "group_keys": "civiclab.privacy.grouping",
    "group_name": "civiclab.privacy.grouping",
    "hidden_crossings": "civiclab.privacy.grouping",
    "hidden_segments": "civiclab.privacy.grouping",
    "shown_groups": "civiclab.privacy.grouping",
    "neutralise_cell": "civiclab.privacy.spreadsheet",
    "OUTCOMES": "civiclab.records",
    "SEGMENT_ATTRIBUTES": "civiclab.records",
    "AuditSummary": "civiclab.records",
    "EnergyReading": "civiclab.records",
    "Event": "civiclab.records",
    "Metric": "civiclab.records",
    "Outcome": "civiclab.records",
    "SessionPlan": "civiclab.records",
    "SessionRecord": "civiclab.records",
    "canonical_json": "civiclab.records",
    "DataFile": "civiclab.spec.paths",
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
