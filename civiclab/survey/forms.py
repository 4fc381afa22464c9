"""The questionnaire as web pages: one page per instrument, and server-side validation of every value.

Answers of the other pages travel with the form as hidden fields, so the server keeps no draft
and a participant can go back without losing anything; every value is validated again at
each step and at submission, so a tampered hidden field is refused like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from civiclab.spec.instruments import Instrument, Item
from civiclab.survey.messages import messages
from civiclab.survey.responses import Answer

CONTROL_FIELDS = frozenset({"csrf_token", "code", "page", "action"})
MAX_FIELDS = 400


class FormProblem(Exception):
    """A form no page of ours can send (unknown or repeated field, bad page): 400 or 422."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class FieldError:
    column: str
    target: str
    message: str
    page: int


def field_id(instrument: Instrument, item: Item) -> str:
    return f"q-{instrument.code}-{item.code}"


def option_id(instrument: Instrument, item: Item, value: int) -> str:
    return f"{field_id(instrument, item)}-{value}"


def read_fields(
    pairs: Sequence[tuple[str, Any]], instruments: Sequence[Instrument], known: frozenset[str] | None = None
) -> dict[str, str]:
    """The posted fields as a mapping; unknown, repeated or non-text fields are a FormProblem.

    `known`: the instruments' columns, when the caller has them already (`FormPlan`).
    """
    if len(pairs) > MAX_FIELDS:
        raise FormProblem(422, f"too many fields ({len(pairs)})")
    if known is None:
        known = frozenset(col for inst in instruments for col in inst.columns)
    fields: dict[str, str] = {}
    for name, value in pairs:
        if not isinstance(value, str):
            raise FormProblem(422, f"field {name[:60]!r}: files are not accepted")
        if name not in known and name not in CONTROL_FIELDS:
            raise FormProblem(422, f"unknown field {name[:60]!r}")
        if name in fields:
            raise FormProblem(422, f"field {name[:60]!r} sent twice")
        fields[name] = value
    return fields


def read_page(fields: dict[str, str], page_count: int) -> int:
    try:
        page = int(fields.get("page", ""))
    except ValueError:
        raise FormProblem(400, "missing or unreadable page number") from None
    if not 0 <= page < page_count:
        raise FormProblem(400, f"page {page} does not exist")
    return page


@dataclass(frozen=True)
class _Question:
    """What validation needs of one item, computed once per form rather than once per request."""

    page: int
    number: int
    instrument: Instrument
    item: Item
    column: str
    target: str
    likert: tuple[int, int] | None
    required: bool


class FormPlan:
    """The questions of a questionnaire in page order, as the form reads and checks them."""

    def __init__(self, instruments: Sequence[Instrument]) -> None:
        self.instruments = list(instruments)
        self.columns = frozenset(col for inst in instruments for col in inst.columns)
        self.questions: list[_Question] = []
        for page, instrument in enumerate(instruments):
            for number, item in enumerate(instrument.items, start=1):
                likert = item.type == "likert" and instrument.scale is not None
                scale = instrument.scale
                self.questions.append(
                    _Question(
                        page=page,
                        number=number,
                        instrument=instrument,
                        item=item,
                        column=instrument.column(item),
                        target=option_id(instrument, item, scale.min)
                        if likert and scale is not None
                        else field_id(instrument, item),
                        likert=(scale.min, scale.max) if likert and scale is not None else None,
                        required=item.is_required,
                    )
                )

    def read_fields(self, pairs: Sequence[tuple[str, Any]]) -> dict[str, str]:
        return read_fields(pairs, self.instruments, self.columns)

    def validate(
        self, fields: dict[str, str], pages: range, lang: str
    ) -> tuple[dict[str, Answer], list[FieldError]]:
        """Every answer posted (all pages), and the errors of the pages in `pages`.

        Values on other pages are checked too: a bad value anywhere is an error on its own page.
        """
        answers: dict[str, Answer] = {}
        errors: list[FieldError] = []
        for q in self.questions:
            raw = fields.get(q.column, "")
            text = raw.strip() if raw else ""
            if not text:
                if q.required and q.page in pages:
                    errors.append(self._error(q, "choose_answer", lang))
                continue
            if q.likert is not None:
                if not (text.isascii() and text.isdigit()) or not q.likert[0] <= int(text) <= q.likert[1]:
                    errors.append(self._error(q, "invalid_answer", lang))
                    continue
                answers[q.column] = int(text)
            elif len(text) > q.item.max_length:
                errors.append(self._error(q, "text_too_long", lang))
            else:
                answers[q.column] = text
        return answers, errors

    @staticmethod
    def _error(q: _Question, key: str, lang: str) -> FieldError:
        words = {"n": q.number, "text": _short(q.item.text.get(lang)), "max": q.item.max_length}
        message: str = messages(lang)[key].format(**words)  # type: ignore[literal-required]
        return FieldError(q.column, q.target, message, q.page)


def validate(
    instruments: Sequence[Instrument], fields: dict[str, str], pages: range, lang: str
) -> tuple[dict[str, Answer], list[FieldError]]:
    """Every answer posted (all pages), and the errors of the pages in `pages` (see `FormPlan.validate`)."""
    return FormPlan(instruments).validate(fields, pages, lang)


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class QuestionView:
    """What the template needs to draw one question."""

    type: str
    id: str
    name: str
    number: int
    text: str
    required: bool
    error: str | None = None
    value: str = ""
    max_length: int = 2000
    options: list[dict[str, Any]] = field(default_factory=list)


def page_questions(
    instrument: Instrument, answers: dict[str, Answer], errors: list[FieldError], lang: str
) -> list[QuestionView]:
    by_column = {e.column: e.message for e in errors}
    views: list[QuestionView] = []
    for number, item in enumerate(instrument.items, start=1):
        column = instrument.column(item)
        current = answers.get(column)
        view = QuestionView(
            type=item.type,
            id=field_id(instrument, item),
            name=column,
            number=number,
            text=item.text.get(lang),
            required=item.is_required,
            error=by_column.get(column),
            max_length=item.max_length,
            value="" if current is None else str(current),
        )
        if item.type == "likert" and instrument.scale is not None:
            view.options = [
                {
                    "id": option_id(instrument, item, v),
                    "value": v,
                    "label": instrument.scale.label(lang, v),
                    "checked": current == v,
                }
                for v in instrument.scale.points
            ]
        views.append(view)
    return views


def carried_fields(
    instruments: Sequence[Instrument], page: int, answers: dict[str, Answer]
) -> list[tuple[str, str]]:
    """Answers of the other pages, as hidden fields."""
    own = set(instruments[page].columns)
    return [(column, str(value)) for column, value in answers.items() if column not in own]
