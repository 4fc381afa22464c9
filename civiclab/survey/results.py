"""Feedback to participants: aggregated, k-anonymous findings in plain French and English.

Built only from the metrics the scoring produces, which never hold a value for fewer than k
respondents; free-text answers are never published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from civiclab.privacy.disclosure import suppress
from civiclab.records import Metric
from civiclab.spec.instruments import Construct, Instrument
from civiclab.survey.scoring import PREFIX

ATTRIBUTES: dict[str, dict[str, str]] = {
    "age_band": {"fr": "Tranche d'âge", "en": "Age band"},
    "digital_literacy": {"fr": "Aisance avec le numérique", "en": "Digital skills"},
    "disability": {"fr": "Situation de handicap", "en": "Disability"},
    "language": {"fr": "Langue du questionnaire", "en": "Survey language"},
    "device": {"fr": "Appareil utilisé", "en": "Device used"},
    "territory": {"fr": "Territoire", "en": "Area"},
}
VALUES: dict[str, dict[str, str]] = {
    "none": {"fr": "aucune", "en": "none"},
    "low": {"fr": "faible", "en": "low"},
    "medium": {"fr": "moyenne", "en": "medium"},
    "high": {"fr": "élevée", "en": "high"},
    "visual": {"fr": "visuel", "en": "visual"},
    "hearing": {"fr": "auditif", "en": "hearing"},
    "motor": {"fr": "moteur", "en": "motor"},
    "cognitive": {"fr": "cognitif", "en": "cognitive"},
    "smartphone": {"fr": "smartphone", "en": "smartphone"},
    "computer": {"fr": "ordinateur", "en": "computer"},
    "tablet": {"fr": "tablette", "en": "tablet"},
    "headset": {"fr": "casque immersif", "en": "headset"},
    "urban": {"fr": "ville", "en": "city"},
    "suburban": {"fr": "périphérie", "en": "suburbs"},
    "rural": {"fr": "campagne", "en": "countryside"},
    "overseas": {"fr": "outre-mer", "en": "overseas"},
    "fr": {"fr": "français", "en": "French"},
    "en": {"fr": "anglais", "en": "English"},
}
LEVELS = {"fr": ("faible", "moyen", "élevé"), "en": ("low", "moderate", "high")}


def number(value: float, lang: str, digits: int = 1) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "fr" else text


def percent(value: float, lang: str) -> str:
    return f"{round(100 * value)}\u00a0%" if lang == "fr" else f"{round(100 * value)}%"


@dataclass
class SegmentFinding:
    group: str
    value: str
    n: int


@dataclass
class Finding:
    """One construct in plain words, with its breakdowns by group of at least k people."""

    title: str
    sentence: str
    by_attribute: dict[str, list[SegmentFinding]] = field(default_factory=dict)


@dataclass
class PublicResults:
    respondents: int
    enough: bool
    participation: list[str]
    findings: list[Finding]
    k: int
    synthetic: bool = False


def _segment_label(segment: str, lang: str) -> tuple[str, str]:
    attribute, _, value = segment.partition("=")
    return ATTRIBUTES.get(attribute, {}).get(lang, attribute), VALUES.get(value, {}).get(lang, value)


def _sentence(instrument: Instrument, construct: Construct, metric: Metric, lang: str) -> str:
    assert metric.value is not None
    low = metric.ci_low if metric.ci_low is not None else metric.value
    high = metric.ci_high if metric.ci_high is not None else metric.value
    label = construct.label.get(lang)
    if construct.scoring == "raw_tlx":
        if lang == "fr":
            return (
                f"{label} : {number(metric.value, lang, 0)} sur 100 (plus c'est haut, plus la charge est "
                f"lourde), très probablement entre {number(low, lang, 0)} et {number(high, lang, 0)}."
            )
        return (
            f"{label}: {number(metric.value, lang, 0)} out of 100 (higher is a heavier workload), most "
            f"likely between {number(low, lang, 0)} and {number(high, lang, 0)}."
        )
    if construct.scoring == "sus":
        band = instrument.grade(metric.value)
        grade = ""
        if band is not None:
            grade = (
                f" C'est une note « {band.label.fr} » ({band.grade}) selon l'échelle de Sauro et Lewis."
                if lang == "fr"
                else f" That is a “{band.label.en}” score ({band.grade}) on the Sauro–Lewis scale."
            )
        if lang == "fr":
            return (
                f"{label} : {number(metric.value, lang, 0)} sur 100, très probablement entre "
                f"{number(low, lang, 0)} et {number(high, lang, 0)}.{grade}"
            )
        return (
            f"{label}: {number(metric.value, lang, 0)} out of 100, most likely between "
            f"{number(low, lang, 0)} and {number(high, lang, 0)}.{grade}"
        )
    scale = instrument.scale
    assert scale is not None
    position = (metric.value - scale.min) / (scale.max - scale.min)
    level = LEVELS[lang][0 if position <= 0.4 else 2 if position >= 0.6 else 1]
    if lang == "fr":
        return (
            f"{label} : {number(metric.value, lang)} sur {scale.max}, très probablement entre "
            f"{number(low, lang)} et {number(high, lang)} — un niveau {level}."
        )
    return (
        f"{label}: {number(metric.value, lang)} out of {scale.max}, most likely between "
        f"{number(low, lang)} and {number(high, lang)} — a {level} level."
    )


def _response_rate_sentences(overall: dict[str, Metric], lang: str) -> list[str]:
    """What the response rate says: over everyone invited, or over invitation codes only, or nothing."""
    rate = overall.get(f"{PREFIX}response_rate")
    uncoded_metric = overall.get(f"{PREFIX}uncoded_responses")
    uncoded = int(uncoded_metric.value or 0) if uncoded_metric is not None else 0
    known = rate is not None and rate.value is not None
    if not uncoded:
        if not known:
            return []
        assert rate is not None and rate.value is not None
        return [
            f"{percent(rate.value, lang)} des personnes invitées ont répondu."
            if lang == "fr"
            else f"{percent(rate.value, lang)} of the people invited answered."
        ]
    # Some answers came without an invitation code: no share of "the people invited" is known.
    out = [
        f"{uncoded} réponses sont arrivées sans code d'invitation : on ne sait pas quelle part des personnes "
        "sollicitées a répondu."
        if lang == "fr"
        else f"{uncoded} answers came without an invitation code: the share of the people asked who answered "
        "is not known."
    ]
    if known:
        assert rate is not None and rate.value is not None
        out.append(
            f"Parmi les {rate.n} personnes qui ont reçu un code d'invitation, {percent(rate.value, lang)} ont "
            "répondu."
            if lang == "fr"
            else f"Of the {rate.n} people who received an invitation code, {percent(rate.value, lang)} answered."
        )
    return out


def public_results(
    instruments: Sequence[Instrument], metrics: Sequence[Metric], lang: str, k: int
) -> PublicResults:
    """The findings a participant may read: nothing about any group smaller than k."""
    overall = {m.name: m for m in metrics if m.segment is None}
    respondents_metric = overall.get(f"{PREFIX}respondents")
    respondents = int(respondents_metric.value or 0) if respondents_metric is not None else 0
    participation: list[str] = []
    enough = respondents >= k
    if enough:
        participation.append(
            f"{respondents} personnes ont répondu à tout le questionnaire."
            if lang == "fr"
            else f"{respondents} people answered the whole survey."
        )
        participation.extend(_response_rate_sentences(overall, lang))
        completion = overall.get(f"{PREFIX}completion_rate")
        if completion is not None and completion.value is not None:
            participation.append(
                f"{percent(completion.value, lang)} des personnes qui ont commencé le questionnaire l'ont terminé."
                if lang == "fr"
                else f"{percent(completion.value, lang)} of those who started the survey finished it."
            )
    findings: list[Finding] = []
    for instrument in instruments:
        for construct in instrument.constructs:
            name = PREFIX + instrument.metric_suffix(construct)
            metric = overall.get(name)
            if not enough or metric is None or metric.value is None:
                continue
            finding = Finding(
                title=construct.label.get(lang), sentence=_sentence(instrument, construct, metric, lang)
            )
            digits = 0 if construct.scoring == "sus" else 1
            by_attribute: dict[str, list[Metric]] = {}
            for m in metrics:
                if m.name != name or m.segment is None or m.value is None:
                    continue
                by_attribute.setdefault(m.segment.partition("=")[0], []).append(m)
            for group in by_attribute.values():
                # Secondary suppression: the overall score and n are published, so the people in no
                # shown group must be none or at least k, else their score is a subtraction away.
                plan = suppress({str(m.segment): int(m.n or 0) for m in group}, int(metric.n or 0), k)
                for m in group:
                    if m.segment not in plan.shown:
                        continue
                    attribute, value = _segment_label(str(m.segment), lang)
                    finding.by_attribute.setdefault(attribute, []).append(
                        SegmentFinding(value, number(float(m.value or 0), lang, digits), int(m.n or 0))
                    )
            findings.append(finding)
    return PublicResults(
        respondents=respondents if enough else 0,
        enough=enough,
        participation=participation,
        findings=findings,
        k=k,
    )


def render_html(results: PublicResults, lang: str, title: str, k: int) -> str:
    """The public results as a standalone HTML page (the web form's own template and styles inlined)."""
    from pathlib import Path

    from civiclab.survey.messages import messages
    from civiclab.web.templating import BASE_STYLESHEET, environment

    env = environment(Path(__file__).parent / "templates")
    heading = "Ce que les participants ont dit" if lang == "fr" else "What participants said"
    html = env.get_template("results.html").render(
        lang=lang,
        t=messages(lang),
        survey_title=title,
        csrf="",
        other_languages=[],
        k=k,
        page_title=heading,
        heading=heading,
        results=results,
    )
    css = BASE_STYLESHEET.read_text(encoding="utf-8")
    html = html.replace('<link rel="stylesheet" href="/static/form.css">', f"<style>\n{css}</style>")
    return html.replace('<script src="/static/form.js" defer></script>\n', "")
