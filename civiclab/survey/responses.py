"""One participant's answers, however they arrived (web form, LimeSurvey export, plain CSV)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

Answer = int | str

WEB_SOURCE = "web"
"""The source of web form submissions: each one used an invitation code."""


@dataclass
class SurveyResponse:
    """A response: answers by column (`CODE[ITEM]`), its segment, and whether it was submitted.

    `complete` is False for a response the participant started but never submitted: it counts
    for the drop-off (completion rate), never for the scores.
    """

    uid: str
    complete: bool
    answers: dict[str, Answer] = field(default_factory=dict)
    segment: dict[str, str] = field(default_factory=dict)
    language: str = "fr"
    lastpage: int | None = None
    source: str = ""
    submitted_at: str | None = None
    missing_items: list[str] = field(default_factory=list)
    """Item columns its export did not have (imported with `--allow-missing-items`): scores say so."""
    local_id: str = ""
    """The respondent's id in the export it came from (LimeSurvey's `id`), whatever its wave."""
    synthetic: str | None = None
    """Why the response is not a real person's (a declared synthetic file, a SYNTHETIC marker column)."""
    filename: str | None = None
    """The file it was read from (None for a web submission)."""
    person: str | None = None
    """A keyed hash of the participant's token (`civiclab.survey.codes.person_key`): the same person in two waves."""

    @property
    def fingerprint(self) -> str:
        """The response's content identity: the same answers of the same respondent, from any file or wave.

        The respondent's id in its export, when it was submitted, its language, segment and every
        answer: two exports of one response (a file imported twice, under two wave names, or a later
        export that repeats earlier rows) have the same fingerprint; two people do not.
        """
        content = {
            "id": self.local_id or self.uid,
            "submitted": self.submitted_at,
            "language": self.language,
            "segment": self.segment,
            "answers": self.answers,
        }
        text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def by_invitation(self) -> bool:
        """Whether the response came with an invitation code (only web submissions do)."""
        return self.source == WEB_SOURCE
