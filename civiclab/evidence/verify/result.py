"""What a verification finds, for every kind of run (signed, legacy, killed): one table of checks.

`civiclab verify` prints it, `--json` dumps it, the desk shows it, a report states it, and
`civiclab review` refuses a run whose table has a failed row. Every check module returns rows of it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["ok", "failed", "warning", "skipped"]
RunKind = Literal["signed", "unsigned (legacy)", "incomplete (killed)"]
AnchorStatus = Literal["none", "verified", "unchecked", "failed"]


REVIEW_CHECKS = frozenset({"reviews", "review anchors", "pending review"})
"""The rows that answer "which reviews count?"; every other row answers "is the evidence intact?"."""


class Check(BaseModel):
    """One row of the verify table."""

    model_config = ConfigDict(extra="forbid")

    name: str
    status: Status
    detail: str = ""


def ok(name: str, detail: str = "") -> Check:
    return Check(name=name, status="ok", detail=detail)


def failed(name: str, detail: str) -> Check:
    return Check(name=name, status="failed", detail=detail)


class ReviewRow(BaseModel):
    """A review as every surface lists it, read from its verified envelope only.

    `signer` is the name the trust file gives the key (never an unsigned field); without a trust
    file, or for a key it does not list, the name the review signed followed by its key id.
    """

    model_config = ConfigDict(extra="forbid")

    line: int
    decision: str
    ts: str
    signer: str
    reviewer: str = Field(
        default="", description="the name the review signed (the trust file's name is `signer`)"
    )
    role: str = ""
    keyid: str = ""
    trusted: bool | None = None
    problem: str = Field(default="", description="the record is broken (forged, altered, out of sequence)")
    comment: str = ""
    conditions: list[str] = Field(default_factory=list)
    acknowledges: list[str] = Field(default_factory=list)
    sha256: str = Field(default="", description="the review envelope's digest (what the next review signs)")
    sequence: int | None = None
    counted: bool = False
    ignored: str = Field(default="", description="why the decision rule does not count it")


CommitteeState = Literal[
    "awaiting",
    "awaiting chair",
    "awaiting conditions",
    "approved",
    "revise",
    "rejected",
    "conflict",
    "not checked",
    "broken",
]


class CommitteeStatus(BaseModel):
    """Which reviews count and what they decide, under the trust file's decision rule."""

    model_config = ConfigDict(extra="forbid")

    state: CommitteeState
    counted: int = 0
    ignored: int = 0
    members: int = 0
    quorum: int = 1
    chair_included: bool = False
    pending_conditions: list[str] = Field(default_factory=list)
    summary: str = Field(description="one sentence, in English")
    summary_fr: str = Field(description="the same sentence, in French")

    def words(self, lang: str = "en") -> str:
        return self.summary_fr if lang == "fr" else self.summary


class FolderFacts(BaseModel):
    """What the manifest's consistency check read in a run's folder: the figures a report states."""

    model_config = ConfigDict(extra="forbid")

    experiment: str | None = None
    spec_digest: str | None = None
    audit_root: str | None = None
    run_audit_root: str | None = Field(
        default=None, description="the chain's root when the run closed, before any review was appended"
    )
    audit_events: int = 0
    artifacts: int = 0
    reviews: int = 0
    anchor: AnchorStatus = "none"
    anchor_detail: str = ""

    def lines(self) -> list[str]:
        """One indented line per fact, as `civiclab verify` has always listed a legacy run's."""
        anchor = {
            "none": "not anchored",
            "verified": f"verified {self.anchor_detail}".strip(),
            "unchecked": f"anchor NOT checked: {self.anchor_detail}",
            "failed": f"anchor FAILED: {self.anchor_detail}",
        }[self.anchor]
        return [
            f"  audit chain: {self.audit_events} events, root {self.audit_root}",
            f"  artifacts: {self.artifacts} files match the manifest",
            f"  spec sha256: {self.spec_digest}",
            f"  reviews: {self.reviews} recorded in the chain and the manifest",
            f"  anchor: {anchor}",
        ]


class Verification(BaseModel):
    """What `civiclab verify` prints (as a table) or returns (`--json`)."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    kind: RunKind
    signer: str | None = None
    trusted: bool | None = None
    trust_file: str | None = None
    statement_sha256: str | None = None
    checks: list[Check] = Field(default_factory=list)
    reviews: list[ReviewRow] = Field(default_factory=list)
    committee: CommitteeStatus | None = None
    synthetic: list[str] | None = Field(
        default=None, description="why the data are synthetic ([] when observed; None when unknown)"
    )
    recommendation: str | None = None
    # Not part of the table (nor of `--json`): the manifest check's figures, for reports.
    found: FolderFacts | None = Field(default=None, exclude=True)

    @property
    def ok(self) -> bool:
        return all(c.status != "failed" for c in self.checks)

    @property
    def evidence_ok(self) -> bool:
        """Is the evidence intact? Every check but the reviews' (which answer the other question)."""
        return all(c.status != "failed" for c in self.checks if c.name not in REVIEW_CHECKS)

    @property
    def reviews_ok(self) -> bool:
        """Is the record of reviews sound (whichever of them count)?"""
        return all(c.status != "failed" for c in self.checks if c.name in REVIEW_CHECKS)

    def first_failure(self) -> Check | None:
        return next((c for c in self.checks if c.status == "failed"), None)

    @property
    def problem(self) -> str | None:
        """The first failed check's detail, or None when the run verifies."""
        failure = self.first_failure()
        return failure.detail if failure is not None else None

    def table(self) -> str:
        verdict = ("OK" if self.trust_file else "NOT CHECKED") if self.ok else "FAILED"
        head = f"{verdict}: run {self.run_id} ({self.kind})"
        if self.signer:
            trust = {True: "trusted", False: "UNTRUSTED", None: "trust not checked"}[self.trusted]
            head += f" signed by {self.signer}, {trust}"
        lines = [head, f"  trust file: {self.trust_file or 'none (--trust FILE or CIVICLAB_TRUST)'}"]
        width = max((len(c.name) for c in self.checks), default=8)
        for c in self.checks:
            lines.append(f"  {c.name:<{width}}  {c.status.upper():7}  {c.detail}")
        for r in self.reviews:
            trust = {True: "trusted", False: "UNTRUSTED", None: "not checked"}[r.trusted]
            role = f", {r.role}" if r.role else ""
            counted = "counted" if r.counted else f"ignored: {r.ignored}" if r.ignored else trust
            lines.append(
                f"  review line {r.line}: {r.decision.upper()} by {r.signer}{role} at {r.ts} ({counted})"
            )
            if r.comment or r.conditions:
                said = r.comment + (" — conditions: " + "; ".join(r.conditions) if r.conditions else "")
                lines.append(f"      {said.strip()}")
        return "\n".join(lines)
