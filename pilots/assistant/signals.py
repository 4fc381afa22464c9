"""Interpretable features of a question that the hand-over router weighs.

Each signal counts hits of a small, readable lexicon (French and English) in the question, with accents
removed and case folded, so that an ethics committee can read exactly what triggers a hand-over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from civiclab.text import content_words, normalise

FEATURES: tuple[str, ...] = (
    "retrieval_score",
    "retrieval_margin",
    "topic_overlap",
    "complaint_signal",
    "distress_signal",
    "legal_signal",
    "human_request",
    "injection_signal",
    "low_digital_literacy",
)

# How each feature is named for a citizen, in French and English.
LABELS: dict[str, tuple[str, str]] = {
    "retrieval_score": ("la pertinence de la meilleure fiche trouvée", "how well the best sheet matched"),
    "retrieval_margin": ("l'écart entre les deux meilleures fiches", "the gap between the two best sheets"),
    "topic_overlap": ("les mots de votre question présents dans la fiche", "your words found in the sheet"),
    "complaint_signal": ("des mots de réclamation", "words of a complaint"),
    "distress_signal": ("des mots de détresse ou d'urgence", "words of distress or urgency"),
    "legal_signal": ("une question juridique sur une situation personnelle", "a legal question about a case"),
    "human_request": ("une demande de parler à une personne", "a request to talk to a person"),
    "injection_signal": ("des instructions adressées à la machine", "instructions aimed at the machine"),
    "low_digital_literacy": ("un profil peu à l'aise avec le numérique", "a profile less at ease online"),
}

LEXICONS: dict[str, tuple[str, ...]] = {
    "complaint_signal": (
        r"reclam\w*",
        r"plainte",
        r"plaindre",
        r"inadmissible",
        r"inacceptable",
        r"scandal\w*",
        r"honte\w*",
        r"honteux",
        r"mecontent\w*",
        r"contest\w*",
        r"injuste",
        r"j en ai assez",
        r"unacceptable",
        r"complain\w*",
        r"complaint",
    ),
    "distress_signal": (
        r"n en peux plus",
        r"desesper\w*",
        r"detresse",
        r"a la rue",
        r"dors dans ma voiture",
        r"plus rien",
        r"en finir",
        r"suicid\w*",
        r"frappe",
        r"violence\w*",
        r"urgen\w*",
        r"peur",
        r"scared",
        r"nowhere",
        r"aidez moi",
        r"aide moi",
        r"help me",
        r"ne repond plus",
        r"tombee?",
        r"etouff\w*",
        r"perdu$",
        r"je suis perdu",
        r"malades?",
    ),
    "legal_signal": (
        r"avocat",
        r"tribunal",
        r"justice",
        r"le droit",
        r"mes droits",
        r"legal\w*",
        r"la loi",
        r"recours",
        r"attaquer",
        r"expuls\w*",
        r"mise en demeure",
        r"faire appel",
        r"rights",
        r"evict\w*",
        r"lawyer",
        r"dans mon cas",
        r"ma situation",
        r"sans mon accord",
        r"obliger",
    ),
    "human_request": (
        r"parl\w* (?:a|avec) (?:un|une|quelqu\w*)",
        r"parl\w* a la mairie",
        r"un agent",
        r"conseill\w*",
        r"une personne",
        r"vraie personne",
        r"humain",
        r"robot",
        r"machine",
        r"rendez vous avec",
        r"rappeler",
        r"en relation",
        r"quelqu un",
        r"quelquun",
        r"quelqun",
        r"real person",
        r"an agent",
        r"human",
        r"someone",
        r"put me through",
        r"assistante? sociale",
    ),
    "injection_signal": (
        r"ignore\w*",
        r"instructions?",
        r"system",
        r"prompt",
        r"developer mode",
        r"oublie les fiches",
        r"tu es maintenant",
        r"agis comme",
        r"###",
        r"</",
        r"consigne",
        r"administrateur",
    ),
}
_COMPILED = {
    name: [re.compile(rf"\b{p}\b" if p[0].isalpha() else re.escape(p)) for p in pats]
    for name, pats in LEXICONS.items()
}


def topic_overlap(question: str, passage_text: str) -> float:
    """Share of the question's content words (or their first five letters) found in a passage."""
    words = content_words(question)
    if not words:
        return 0.0
    stems = {w[:5] for w in content_words(passage_text)}
    return round(sum(w[:5] in stems for w in words) / len(words), 4)


def lexicon_hits(text: str) -> dict[str, int]:
    """How many lexicon entries of each signal occur in `text` (capped at 2: presence matters most)."""
    norm = normalise(text)
    return {name: min(sum(1 for p in patterns if p.search(norm)), 2) for name, patterns in _COMPILED.items()}


@dataclass(frozen=True)
class Features:
    """The router's view of one turn, in the order of `FEATURES`."""

    values: tuple[float, ...]

    def as_dict(self) -> dict[str, float]:
        return dict(zip(FEATURES, self.values, strict=True))


def features(text: str, scores: list[float], best_passage: str, digital_literacy: str) -> Features:
    """Features of a (redacted) question, given its retrieval scores (best first) and best passage."""
    hits = lexicon_hits(text)
    top = scores[0] if scores else 0.0
    margin = (scores[0] - scores[1]) if len(scores) > 1 else top
    low = 1.0 if digital_literacy in ("none", "low") else 0.0
    values = (
        round(top, 4),
        round(margin, 4),
        topic_overlap(text, best_passage),
        float(hits["complaint_signal"]),
        float(hits["distress_signal"]),
        float(hits["legal_signal"]),
        float(hits["human_request"]),
        float(hits["injection_signal"]),
        low,
    )
    return Features(values)
