"""One participant's answers, however they arrived (web form, LimeSurvey export, plain CSV)."""

from __future__ import annotations

from dataclasses import dataclass, field

Answer = int | str


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
