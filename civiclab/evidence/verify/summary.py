"""Who signed a run and each of its reviews, and whether the trust file used trusts them (for reports)."""

from __future__ import annotations

from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict, Field

from civiclab.errors import AuditError, SigningError
from civiclab.evidence.review_record import REVIEW_EVENT
from civiclab.evidence.signing.envelope import read_envelope
from civiclab.evidence.signing.statement import STATEMENT_FILE
from civiclab.evidence.signing.trust import TrustFile
from civiclab.evidence.verify.checks import check_signature
from civiclab.evidence.verify.result import ReviewRow
from civiclab.evidence.verify.reviewcheck import read_reviews
from civiclab.store.schema import AUDIT_FILE


class SignatureSummary(BaseModel):
    """What a scorecard shows under "Signatures"."""

    model_config = ConfigDict(extra="forbid")

    signed: bool
    signer: str | None = None
    trusted: bool | None = None
    problem: str = ""
    trust_file: str | None = None
    reviews: list[ReviewRow] = Field(default_factory=list)

    def trust_words(self, trusted: bool | None) -> str:
        if trusted is None:
            return "trust not checked (no trust file)"
        return f"trusted by {self.trust_file}" if trusted else f"NOT trusted by {self.trust_file}"


def signature_summary(
    folder: Path, run_id: str, trust: TrustFile | None, trust_file: str | None = None
) -> SignatureSummary:
    path = folder / STATEMENT_FILE
    if not path.exists():
        return SignatureSummary(signed=False, problem="unsigned (legacy)", trust_file=trust_file)
    try:
        from civiclab.store.files import read_artifact

        envelope = read_envelope(read_artifact(folder, STATEMENT_FILE))
    except (SigningError, AuditError, OSError) as exc:
        return SignatureSummary(signed=False, problem=str(exc), trust_file=trust_file)
    row, signer, trusted = check_signature(envelope, run_id, trust)
    summary = SignatureSummary(
        signed=True,
        signer=signer,
        trusted=trusted,
        problem=row.detail if row.status == "failed" else "",
        trust_file=trust_file,
    )
    events = int(((envelope.statement().get("predicate") or {}).get("audit") or {}).get("events", 0))
    entries = []
    from civiclab.store.files import unsafe_entries

    audit_file = folder / AUDIT_FILE
    if unsafe_entries(folder):
        summary.problem = summary.problem or "a symbolic link or special file among the artifacts"
    elif audit_file.exists():
        with audit_file.open("rb") as fh:
            for number, line in enumerate(fh):
                if number >= events and b'"kind":"' + REVIEW_EVENT.encode() + b'"' in line:
                    entries.append(orjson.loads(line))
    summary.reviews, _ = read_reviews(entries, envelope.digest(), trust)
    return summary
