"""The SSQ before and after the 3D part, and the IPQ after it: asked by the served journey, stored in the
survey store under the participant's pseudonym (the one their session record carries), so the run links
each person's answers to their session and measures the change against their own baseline.
"""

from __future__ import annotations

from typing import Any

from civiclab.survey import Instrument, load_instrument

BEFORE = ("ssq_before",)
AFTER_IMMERSION = ("ssq_after", "ipq")


def load(names: tuple[str, ...]) -> list[Instrument]:
    return [load_instrument(n) for n in names]


def view(instrument: Instrument, lang: str = "en") -> dict[str, Any]:
    """What the page shows of an instrument: its items with a field name each and the scale's points."""
    scale = instrument.scale
    assert scale is not None
    return {
        "title": instrument.title.get(lang),
        "intro": instrument.intro.get(lang) if instrument.intro else "",
        "points": [(v, scale.label(lang, v)) for v in scale.points],
        "questions": [
            {"field": instrument.column(item), "text": item.text.get(lang)}
            for item in instrument.items
            if item.type == "likert"
        ],
    }


def read_answers(instruments: list[Instrument], fields: dict[str, str]) -> dict[str, Any]:
    """The answers given (unanswered items left out), each checked against its scale."""
    answers: dict[str, Any] = {}
    for instrument in instruments:
        scale = instrument.scale
        assert scale is not None
        for item in instrument.items:
            raw = fields.get(instrument.column(item), "")
            if raw.isdigit() and int(raw) in scale.points:
                answers[instrument.column(item)] = int(raw)
    return answers
