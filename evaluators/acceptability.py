"""Social acceptability: what participants said in validated questionnaires, scored with uncertainty.

Reads the experiment's response files (`survey.responses`) and the survey store (web form
submissions and `civiclab survey import`), scores SUS, UTAUT, trust and any lab instrument, and
archives every raw file and the import reports with the run, so nothing read is lost.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from civiclab import EvaluatorError, Metric, RunData, data_file_check, evaluator, neutralise_cell
from civiclab.survey import check_response_files

if TYPE_CHECKING:
    from civiclab.survey import Instrument, SurveyResponse

DIM = "acceptability"
# What the cached redactions are made by: this module's digest, so that an edit of `redacted_export`
# or `redacted_comments` invalidates them without a version to remember.
_MODULE_DIGEST = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
EXPORT_KIND = f"survey-export/{_MODULE_DIGEST}"
COMMENTS_KIND = f"survey-comments/{_MODULE_DIGEST}"

# `validate` reads every response export this evaluator will read, the way it will read it.
data_file_check("survey")(check_response_files)


class AcceptabilityParams(BaseModel):
    """Parameters of the `acceptability` evaluator (the survey itself is described in `survey:`)."""

    model_config = ConfigDict(extra="forbid")

    store: str | None = Field(default=None, description="survey store URL, overriding survey.store")
    comments: bool = Field(default=True, description="archive the free-text answers, redacted")


def redacted_export(raw: bytes) -> bytes:
    """A response export with each cell redacted and no cell a spreadsheet would run as a formula;
    numbers, codes and dates are left as they are."""
    import csv
    import io

    from civiclab.privacy.redaction import redact_text

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow([neutralise_cell(cell) for cell in rows[0]] if rows else [])
    for row in rows[1:]:
        # No formula runs when the archived copy is opened in a spreadsheet (as the admin export).
        writer.writerow([neutralise_cell(redact_text(cell)) if cell else cell for cell in row])
    return out.getvalue().encode("utf-8")


@evaluator(
    "acceptability",
    dimension=DIM,
    params=AcceptabilityParams,
    metrics={
        "acceptability.sus": "System Usability Scale, 0-100 (Brooke 1996), mean with bootstrap 95% CI",
        "acceptability.sus_alpha": "Cronbach's alpha of the SUS items, Feldt 95% CI",
        "acceptability.trust": "trust in automation, 1-7 (Jian, Bisantz & Drury 2000, items 6-12)",
        "acceptability.distrust": "distrust of automation, 1-7 (items 1-5); lower is better",
        "acceptability.utaut.<construct>": "UTAUT constructs, 1-5: performance_expectancy, effort_expectancy, "
        "social_influence, facilitating_conditions, behavioural_intention",
        "acceptability.response_rate": "complete responses / invitations issued (declared, or codes: coded responses only)",
        "acceptability.uncoded_responses": "responses without an invitation code, outside the response rate",
        "acceptability.completion_rate": "complete responses / responses started (drop-off)",
        "acceptability.respondents": "complete responses scored",
        "acceptability.rejected_rows": "rows of response files rejected (see survey/import-report.json)",
    },
)
def acceptability(run: RunData, params: AcceptabilityParams) -> list[Metric]:
    """Construct means with bootstrap CIs, Cronbach's alpha, response and completion rates, k-anonymous."""
    from civiclab.survey import gather, score_survey

    if run.experiment is None:
        raise EvaluatorError("the survey is read from the loaded experiment, which this run was not given")
    spec = run.experiment.spec.survey
    if spec is None:
        raise EvaluatorError("the experiment has no `survey:` section to score")
    name = run.experiment_name
    got = gather(name, spec, store_url=params.store)
    options = got.scoring_options(run.k, seed=run.seed, resamples=spec.resamples)
    metrics = score_survey(spec.load_instruments(), got.responses, options)

    out_dir = run.artifact_dir / "survey"
    (out_dir / "raw").mkdir(parents=True, exist_ok=True)
    for filename, raw in got.raw_files:
        # Every answer is kept, but personal data written in free text (a phone number, an e-mail)
        # is redacted before it reaches the run's artifacts; the original bytes stay in the survey store.
        # The redacted copy is cached under CIVICLAB_HOME: an unchanged file does not load the model.
        path = out_dir / "raw" / Path(filename).name
        from civiclab.privacy.redaction import cached_redaction  # its patterns: only when a run writes

        path.write_bytes(cached_redaction(EXPORT_KIND, raw, redacted_export))
        run.add_artifact(path)
    report_path = out_dir / "import-report.json"
    report_path.write_text(
        json.dumps(
            {
                "experiment": name,
                "files": [r.as_dict() for r in got.reports],
                "store": _safe_url(got.store_url),
                "responses": len(got.responses),
                "complete": sum(r.complete for r in got.responses),
                "invited": got.invited,
                "synthetic_files": got.synthetic_files,
                # The responses scored, by content: two runs scoring the same ones judged one pilot
                # version once, and `civiclab compare` does not test them against each other.
                "judged": spec.judged,
                "responses_digest": hashlib.sha256(
                    "\n".join(sorted(r.fingerprint for r in got.responses)).encode("utf-8")
                ).hexdigest()
                if got.responses
                else None,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    run.add_artifact(report_path)
    if params.comments:
        run.add_artifact(_write_comments(out_dir / "comments.jsonl", got.responses, spec.load_instruments()))

    rejected = sum(len(r.rejected) for r in got.reports)
    metrics.append(
        Metric(
            name=f"{DIM}.rejected_rows",
            value=float(rejected),
            unit="rows",
            dimension=DIM,
            higher_is_better=False,
            n=sum(r.rows for r in got.reports),
            note="; ".join(str(x) for r in got.reports for x in r.rejected[:5]) or None,
        )
    )
    for m in metrics:
        if m.unit_of_replication is None and m.ci_low is not None and m.n is not None:
            # Each respondent is counted once (imports are idempotent): a respondent is a unit.
            m.unit_of_replication, m.distinct_units = "respondent", m.n
    reason = got.synthetic_reason
    if reason is not None:
        # Any generated answer taints every figure computed with it: all of them say so, and why.
        for m in metrics:
            m.synthetic = reason
    return metrics


def _safe_url(url: str | None) -> str | None:
    """A store URL without its password, fit for an artifact."""
    if url is None or "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"


def _write_comments(path: Path, responses: list[SurveyResponse], instruments: list[Instrument]) -> Path:
    """Free-text answers of complete responses, redacted, without any link to a respondent."""
    text_columns = [inst.column(item) for inst in instruments for item in inst.items if item.type == "text"]
    answers = []
    for r in responses:
        if not r.complete:
            continue
        for column in text_columns:
            value = r.answers.get(column)
            if isinstance(value, str) and value.strip():
                answers.append([column, value])
    raw = json.dumps(answers, ensure_ascii=False).encode("utf-8")
    from civiclab.privacy.redaction import cached_redaction

    path.write_bytes(cached_redaction(COMMENTS_KIND, raw, redacted_comments))
    return path


def redacted_comments(raw: bytes) -> bytes:
    """JSON lines `{"question", "answer"}` from a JSON list of [column, answer], answers redacted."""
    from civiclab.privacy.redaction import redact_text

    lines = [
        json.dumps({"question": column, "answer": redact_text(value)}, ensure_ascii=False)
        for column, value in json.loads(raw)
    ]
    lines.sort()  # drop the response order: comments must not be re-linked to a row
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
