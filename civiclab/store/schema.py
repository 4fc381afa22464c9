"""The names civiclab writes into a store: run tags, run statuses and artifact file names.

A public module: evaluators read tags and files by these names. Every reader and writer spells a
name through these constants, never as a literal, so a name is
changed in one place or not at all. The values are the stored format: runs already written must keep
reading, so a value here never changes; a new name is added beside the old one. Each group ends with a
tuple of its names, documented.
"""

from __future__ import annotations

from typing import Final, Literal

TAG_PREFIX = "civiclab."
"""What every civiclab tag starts with; other tags belong to MLflow or to the user."""

VERSION_TAG = "civiclab.version"  # every civiclab run has it: listings keep only runs that do
GIT_SHA_TAG = "civiclab.git_sha"
GIT_DIRTY_TAG = "civiclab.git_dirty"
PYTHON_TAG = "civiclab.python"
HOST_TAG = "civiclab.host"
PLATFORM_TAG = "civiclab.platform"
LIBRARY_TAG_PREFIX = "civiclab.lib."  # + a library's name: its version
RECORDED_LIBRARIES = (
    "mlflow",
    "codecarbon",
    "shap",
    "transformers",
    "langchain",
    "web3",
    "pydantic",
    "numpy",
)
"""The libraries whose version every run records (a `LIBRARY_TAG_PREFIX` tag each)."""
PROVENANCE_TAGS = (VERSION_TAG, GIT_SHA_TAG, GIT_DIRTY_TAG, PYTHON_TAG, HOST_TAG, PLATFORM_TAG)
"""Where and with what a run was made: set when it opens, signed in its statement."""

SPEC_SHA256_TAG = "civiclab.spec_sha256"  # the spec and its data files: a resume must match it
SPEC_FILE_TAG = "civiclab.spec_file"
PILOT_TAG = "civiclab.pilot"
EXECUTOR_TAG = "civiclab.executor"
PSEUDONYM_KEY_ID_TAG = "civiclab.pseudonym_key_id"  # the key id of the pseudonyms' salt, never the salt
EXPERIMENT_TAGS = (SPEC_SHA256_TAG, SPEC_FILE_TAG, PILOT_TAG, EXECUTOR_TAG, PSEUDONYM_KEY_ID_TAG)
"""What experiment a run carries out: set when it opens, signed."""

PID_TAG = "civiclab.pid"
PID_STARTED_TAG = "civiclab.pid_started"  # with the pid, tells a live process from a reused pid
STATUS_TAG = "civiclab.status"
ERROR_TAG = "civiclab.error"  # why a run stopped; dropped when it is resumed
RESUMED_TAG = "civiclab.resumed"  # how many times the run was resumed
STATE_TAGS = (PID_TAG, PID_STARTED_TAG, STATUS_TAG, ERROR_TAG, RESUMED_TAG)
"""Whether a run's process is alive, how the run ended and why it stopped (see `civiclab.store.status`)."""

RECOMMENDATION_TAG = "civiclab.recommendation"
SESSIONS_TAG = "civiclab.sessions"
ENERGY_METHOD_TAG = "civiclab.energy_method"
ENERGY_SOURCE_TAG = "civiclab.energy_source"
SYNTHETIC_TAG = "civiclab.synthetic"
"""The dimensions whose evidence was computed from generated data, comma-separated ("" for none)."""
RESULT_TAGS = (RECOMMENDATION_TAG, SESSIONS_TAG, ENERGY_METHOD_TAG, ENERGY_SOURCE_TAG, SYNTHETIC_TAG)
"""What a finished run concluded: set at its end, signed in its statement."""

AUDIT_ROOT_TAG = "civiclab.audit_root"
MANIFEST_SHA256_TAG = "civiclab.manifest_sha256"
STATEMENT_SHA256_TAG = "civiclab.statement_sha256"
SIGNER_TAG = "civiclab.signer"
ANCHOR_TX_TAG = "civiclab.anchor_tx"
REVIEWS_TAG = "civiclab.reviews"
REVIEW_HEAD_TAG = "civiclab.review.head"
"""The sha256 of the last signed review's envelope: the head of the run's review sequence."""
REVIEW_STATUS_TAG = "civiclab.review.status"
"""The committee's status (the decision rule's outcome) when the last review was recorded."""
REVIEW_TRUST_TAG = "civiclab.review.trust_sha256"
"""The trust file the status tag was computed with ("" when there was none: signers not checked)."""
REVIEW_TAGS = (REVIEWS_TAG, REVIEW_HEAD_TAG, REVIEW_STATUS_TAG, REVIEW_TRUST_TAG)
"""Caches of the signed reviews, for MLflow's UI and fast listings; `verify` compares each with them."""
EVIDENCE_TAGS = (
    AUDIT_ROOT_TAG,
    MANIFEST_SHA256_TAG,
    STATEMENT_SHA256_TAG,
    SIGNER_TAG,
    ANCHOR_TX_TAG,
    *REVIEW_TAGS,
)
"""What points at a run's evidence. They change after the run is signed (a review moves the root; the
statement's and manifest's digests cannot be inside what they digest), so `verify` derives each."""

RunStatus = Literal["RUNNING", "FINISHED", "FAILED", "KILLED"]
RUNNING: Final = "RUNNING"
FINISHED: Final = "FINISHED"
FAILED: Final = "FAILED"
KILLED: Final = "KILLED"
RUN_STATUSES = (RUNNING, FINISHED, FAILED, KILLED)
"""MLflow's status of a run: what the MLflow UI and API filter on."""

RESUMABLE = (FAILED, KILLED)
"""The statuses of a run that stopped before its end and can be resumed."""

STATUS_TAG_VALUES = {RUNNING: "running", FINISHED: "finished", FAILED: "failed", KILLED: "killed"}
"""The `civiclab.status` tag that goes with each MLflow status; the two never disagree."""

FINISHED_VALUE = STATUS_TAG_VALUES[FINISHED]
"""`civiclab.status` of a finished run (a run without the tag is read as finished)."""

AUDIT_FILE = "audit.jsonl"  # the hash chain of the run's events
SESSIONS_FILE = "sessions.jsonl"  # one redacted record per session, in plan order
METRICS_FILE = "metrics.json"
SCORECARD_FILE = "scorecard.json"
SCORECARD_TEXT_FILE = "scorecard.md"
SPEC_COPY_FILE = "spec.yaml"  # the spec as written, minus passwords in URLs
INPUTS_FILE = "run_inputs.json"  # what `verify` needs to re-run the evaluators
TRACES_FILE = "traces.json"  # session id -> MLflow trace id (signed with the other files)
MANIFEST_FILE = "manifest.json"  # written last, over every other file
STATEMENT_FILE = "statement.dsse.json"  # the signed statement (a DSSE envelope)
PLOTS_INDEX_FILE = "plots/index.json"  # the report's plots drawn when the run ended: titles, texts, files
RUN_FILES = (
    AUDIT_FILE,
    SESSIONS_FILE,
    METRICS_FILE,
    SCORECARD_FILE,
    SCORECARD_TEXT_FILE,
    SPEC_COPY_FILE,
    INPUTS_FILE,
    MANIFEST_FILE,
    STATEMENT_FILE,
)
"""The files civiclab writes in every run's artifact folder; pilots and evaluators add their own."""
