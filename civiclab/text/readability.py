"""French reading ease: Kandel & Moles (1958), the French adaptation of Flesch's formula.

    L = 207 − 1.015 × (words / sentences) − 73.6 × (syllables / words)

Higher is easier (≈ 60–70: plain language; below 30: very hard). Syllables are counted with a rule-based
French model: groups of vowels, minus a silent final « e », « es » or verb ending « ent ».
"""

from __future__ import annotations

import re

_VOWELS = "aeiouyàâäéèêëîïôöùûüœæ"
_VOWEL_GROUP = re.compile(f"[{_VOWELS}]+")
_WORD = re.compile(r"[A-Za-zÀ-ÿœæŒÆ]+(?:['’\-][A-Za-zÀ-ÿœæŒÆ]+)*")
_SENTENCE = re.compile(r"[.!?;:]+(?:\s|$)|\n+")
_CITATION = re.compile(r"\[[A-Z]+\d*(?:\.\d+)?\]")
# Verbs in -ent whose ending is silent are too many to list; these common non-verbs keep it sounded.
_SOUNDED_ENT = frozenset(
    {
        "moment",
        "comment",
        "souvent",
        "argent",
        "agent",
        "parent",
        "enfant",
        "client",
        "document",
        "logement",
        "paiement",
        "recensement",
        "vent",
        "dent",
        "cent",
        "lent",
    }
)


def syllables(word: str) -> int:
    """Estimated number of spoken syllables of one French word (at least 1)."""
    w = word.lower()
    groups = len(_VOWEL_GROUP.findall(w))
    silent_ent = w.endswith("ent") and w not in _SOUNDED_ENT and not w.endswith("ment")
    silent_e = re.search(f"[^{_VOWELS}]es?$", w) is not None and not w.endswith(("ées", "ée"))
    if groups > 1 and (silent_ent or silent_e):
        groups -= 1
    return max(1, groups)


def words(text: str) -> list[str]:
    """Words of a text, hyphenated and elided forms split (« l'aide » → « l », « aide »)."""
    return [
        part
        for token in _WORD.findall(_CITATION.sub(" ", text))
        for part in re.split(r"['’\-]", token)
        if part
    ]


def sentence_count(text: str) -> int:
    """Number of sentences (at least 1 for a non-empty text)."""
    pieces = [p for p in _SENTENCE.split(_CITATION.sub(" ", text)) if words(p)]
    return max(1, len(pieces))


def kandel_moles(text: str) -> float | None:
    """The Kandel–Moles reading ease of `text`, or None for a text without words."""
    ws = words(text)
    if not ws:
        return None
    n_syllables = sum(syllables(w) for w in ws)
    return 207 - 1.015 * (len(ws) / sentence_count(text)) - 73.6 * (n_syllables / len(ws))
