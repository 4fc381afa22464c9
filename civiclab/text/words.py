"""Words and sentences of French (and English) citizen texts: folding, content words, sentence splitting.

Shared by the assistant pilot (retrieval, routing signals, grounded answers) and its evaluators, so that
what the pilot matches and what the evaluator checks are the same words.
"""

from __future__ import annotations

import re
import unicodedata


def normalise(text: str) -> str:
    """Lower case, accents removed, apostrophes and hyphens as spaces, spaces collapsed."""
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    plain = re.sub(r"['’\-]", " ", plain)
    return " ".join(plain.split())


_STOPWORDS = frozenset(
    [
        "le",
        "la",
        "les",
        "un",
        "une",
        "des",
        "de",
        "du",
        "d",
        "l",
        "et",
        "ou",
        "a",
        "au",
        "aux",
        "en",
        "dans",
        "pour",
        "par",
        "sur",
        "avec",
        "sans",
        "ce",
        "cette",
        "ces",
        "mon",
        "ma",
        "mes",
        "ton",
        "ta",
        "tes",
        "son",
        "sa",
        "ses",
        "notre",
        "nos",
        "votre",
        "vos",
        "leur",
        "leurs",
        "je",
        "tu",
        "il",
        "elle",
        "on",
        "nous",
        "vous",
        "ils",
        "elles",
        "est",
        "sont",
        "faut",
        "peut",
        "comment",
        "quel",
        "quelle",
        "quels",
        "quelles",
        "quand",
        "combien",
        "qui",
        "que",
        "quoi",
        "ne",
        "pas",
        "plus",
        "y",
        "se",
        "s",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "for",
        "on",
        "is",
        "are",
        "do",
        "does",
        "how",
        "what",
        "when",
        "where",
        "i",
        "my",
        "can",
    ]
)


def content_words(text: str) -> set[str]:
    """Words that carry meaning (accents folded, stop words and very short words removed)."""
    return {w for w in re.findall(r"[a-z0-9]+", normalise(text)) if len(w) > 2 and w not in _STOPWORDS}


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý«\"(])")


def sentences(text: str) -> list[str]:
    """Split a text into sentences (on . ! ? followed by a capital), dropping empty ones."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
