"""Dictionaries of people's names: first names of many countries, and surnames of many countries.

They let the recognizers take a lower-case « olivier masson » or a lone « Bennett » for a person where the
tagger hesitates. Both are loaded once per process, lower case, with accent-free spellings added (a
dictionary that spells « elodie » still knows « élodie »). Words that are also French or English
function words (« je », "may", "can") are left out.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

LANGUAGE = "fr"  # what Presidio is told for every text (see recognizers.py)
FIRST_NAME_SCORE = 0.8
SURNAME_SCORE = 0.75


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words the NER model sometimes glues to a name ("john smith and I lost"): a name ends before them.
NOT_NAME = words(
    """and or but i me my we you he she it they the a an about to for from with without who which that this
    is was were are be been has have had lost told asked said here there please thanks thank if at in on
    of by as so not no yes et ou mais je j il elle nous vous ils elles qui que quoi est sont était a ai
    avait pour par avec sans dans sur sous en au aux ce cette ces mon ma mes ton ta tes son sa ses notre
    votre leur un une les merci svp bonjour hello hi depuis m'a m’a n'arrive"""
)
# Capitalised words the NER model takes for a person in administrative French ("Monsieur le Maire"),
# and capitalised words that are also surnames: feasts (« le marché de Noël »), languages and
# nationalities ("the sheet in French"), months and days ("in June").
NOT_A_PERSON = words(
    """bonjour merci madame monsieur mademoiselle maire mairie cordialement signé rendez-vous services
    france caf cerfa cni ccas version information rien noël noel pâques paques toussaint mayor council
    french english british welsh scottish irish german spanish italian portuguese dutch polish turkish
    arabic chinese english français anglais january february march april may june july august september
    october november december monday tuesday wednesday thursday friday saturday sunday"""
)
WORD = re.compile(r"[^\s,;:.!?()\"«»]+")
PARTICLES = words("""de du des del della van von der den ter ten le la ben bin ibn el al dos das da di""")
CAPITALISED = re.compile(r"(?:[A-ZÀ-Ýd][’'])?[A-ZÀ-Ý]")
# Public places named after people (« l'école Jules Ferry », « rue Victor Hugo ») are not citizens' data.
PLACE_NOUNS = words(
    """école ecole collège college lycée lycee rue avenue boulevard place allée allee quai square parc
    salle gymnase stade centre médiathèque mediatheque bibliothèque hôpital hopital résidence residence
    pont gare esplanade espace maison ville commune mairie département departement région region portail
    service métropole metropole agglomération quartier"""
)
# English street words: « Victoria Street », "Park Road" name a place, not a person.
STREET_WORDS = words(
    """street st road rd lane avenue way drive close grove crescent terrace gardens court square row mews
    walk hill park station bridge"""
)


def names_a_place(text: str, index: int) -> bool:
    """Whether the word before text[index] is a place noun (« l'école » Jules Ferry)."""
    previous = WORD.findall(text[max(0, index - 16) : index])
    return bool(previous) and previous[-1].lower().split("’")[-1].split("'")[-1] in PLACE_NOUNS


def ends_in_street(text: str, end: int) -> bool:
    """Whether the word after text[:end] is a street word ("Victoria" Street)."""
    following = WORD.match(text, end + 1) if text[end : end + 1] == " " else None
    return following is not None and following.group().lower() in STREET_WORDS


# Surnames from these locales of Faker's person providers: the countries most citizens' names come from.
_SURNAME_LOCALES = (
    "fr_FR",
    "fr_CH",
    "fr_CA",
    "en_GB",
    "en_US",
    "en_IE",
    "de_DE",
    "es_ES",
    "it_IT",
    "pt_PT",
    "pt_BR",
    "nl_NL",
    "pl_PL",
    "tr_TR",
    "vi_VN",
)

_first_names: frozenset[str] | None = None
_surnames: frozenset[str] | None = None


def plain(word: str) -> str:
    """`word` lower case without accents: « Élodie » → « elodie »."""
    return unicodedata.normalize("NFKD", word.lower()).encode("ascii", "ignore").decode()


def _with_plain(words: set[str]) -> set[str]:
    return words | {plain(w) for w in words}


def _common_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP
    from spacy.lang.fr.stop_words import STOP_WORDS as FR_STOP

    return frozenset(FR_STOP | EN_STOP)


def first_names() -> frozenset[str]:
    """First names of many countries (gender-guesser's dictionary, ≈ 45,000), lower case."""
    global _first_names
    if _first_names is None:
        import gender_guesser

        path = Path(gender_guesser.__file__).parent / "data" / "nam_dict.txt"
        names = set()
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                parts = line.split()
                if line[0] not in "#=" and len(parts) >= 2 and len(parts[1]) >= 3:
                    names.add(parts[1].replace("+", "-").lower())
        _first_names = frozenset(_with_plain(names) - _common_words() - NOT_NAME - NOT_A_PERSON)
    return _first_names


def surnames() -> frozenset[str]:
    """Surnames of many countries (Faker's person providers, ≈ 5,000), lower case."""
    global _surnames
    if _surnames is None:
        import importlib

        names: set[str] = set()
        for locale in _SURNAME_LOCALES:
            try:
                provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
            except ImportError:
                continue
            names.update(n.lower() for n in provider.last_names if len(n) >= 3)
        _surnames = frozenset(_with_plain(names) - _common_words() - NOT_NAME - NOT_A_PERSON - PLACE_NOUNS)
    return _surnames


def is_first_name(word: str, names: frozenset[str]) -> bool:
    """Whether `word` is a first name, hyphenated ones included (« marie-claire », « jean-baptiste »)."""
    low = word.lower()
    if low in names or plain(low) in names:
        return True
    parts = low.split("-")
    return len(parts) > 1 and all(p in names or plain(p) in names for p in parts)


def is_surname(word: str, known: frozenset[str]) -> bool:
    """Whether `word` is a known surname (« Ferreira », « o'brien »)."""
    low = word.lower()
    return low in known or plain(low) in known
