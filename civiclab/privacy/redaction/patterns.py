"""civiclab's patterns for personal data that has a shape: identifiers, contacts, addresses, dates of birth.

They run on every string (fast, no model) and, inside Presidio, next to the spaCy named-entity model that
finds names wherever they are (see `recognizers.py`). A pattern with a group named `v` redacts only that
group: the phrase that gives the context (« né le », "passport number") stays readable.
Each entry: kind, pattern name, compiled pattern, score (how sure a match is personal data).

Every pattern runs in time linear in the text, whatever the text (a survey comment, an external
assistant's answer): each repetition is bounded ({1,64}, not +) and a run that cannot be given back
is possessive (`{1,64}+`), so no start position scans more than a few hundred characters and no
failed match backtracks through a long run. tests/privacy/test_redaction_bounds.py holds it so.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import NamedTuple


class ShapePattern(NamedTuple):
    kind: str
    name: str
    regex: re.Pattern[str]
    score: float
    # A check of the matched value (a card's Luhn digit): a match that fails it is no finding.
    check: Callable[[str], bool] | None = None

    def holds(self, value: str) -> bool:
        return self.check is None or self.check(value)


def luhn(value: str) -> bool:
    """Whether the digits of `value` pass the Luhn check of payment card numbers."""
    digits = [int(c) for c in value if c.isdigit()]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


def ip_address(value: str) -> bool:
    """Whether `value` is the IPv4 or IPv6 address of a machine that could be a person's: not a time
    « 12:45:00 », a version « 1.2.3 », nor this machine's own loopback or the unspecified address
    (`127.0.0.1` in an error naming a local endpoint identifies nobody)."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    if address.is_loopback or address.is_unspecified:
        return False
    return "." in value or value.count(":") >= 3


def phone_digits(value: str) -> bool:
    """Whether `value` holds the 9 to 15 digits of a phone number (not a reference « 004512 »)."""
    return 9 <= sum(c.isdigit() for c in value) <= 15


_STREET = (
    r"(?:rue|avenue|av\.|boulevard|bd|place|chemin|all[ée]e|impasse|route|quai|cours|square|"
    r"r[ée]sidence|lotissement|hameau|lieu-dit)"
)
_STREET_EN = (
    r"(?:Street|St|Road|Rd|Lane|Close|Grove|Avenue|Way|Drive|Crescent|Terrace|Gardens|Court|Square|Row|"
    r"Mews|Walk|Hill|Park)"
)
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2}"
# Words that end an address written inside a sentence (« j'habite au 3 rue X depuis deux ans »).
_ADDRESS_STOP = r"et|and|pour|je|j'|svp|avec|depuis|from|since|merci|mon|ma|mes|my|où|where|qui|who|est|is"

# One word of a name: "Aurélie", "Marie-Claire", "N'Diaye", "d'Almeida", "O'Sullivan", "McAllister".
_NAME_WORD = r"(?:[A-ZÀ-Ýd][’'])?[A-ZÀ-Ý](?:[a-zà-ÿ]{1,2}[A-ZÀ-Ý])?[a-zà-ÿ]{1,40}(?:[\-’'][A-ZÀ-Ý]?[a-zà-ÿ]{1,40}){0,5}"
# Particles that stay lower case inside a name: « Jean de la Tour », "Pieter van der Meer".
_PARTICLE = r"(?:de|du|des|del|della|van|von|der|den|ter|ten|le|la|ben|bin|ibn|el|al|dos|das|da|di)"
# A name may open with a particle (« Mme von Amsberg »), but not with an article (« Monsieur le Maire »).
_LEADING_PARTICLE = r"(?:de|du|del|della|van|von|der|den|ben|bin|dos|das|da|di)"
_NAME = rf"(?:{_LEADING_PARTICLE}[ ]){{0,2}}{_NAME_WORD}(?:[ ](?:{_PARTICLE}[ ]){{0,2}}{_NAME_WORD}){{0,3}}"
# Phrases after which a capitalised run of words is a person's name. Case-insensitive triggers only:
# the name itself must be capitalised, so « je suis locataire » is not a name.
_NAME_INTRO = (
    r"(?i:je m['’]appelle|je me nomme|je suis|moi c['’]est|c['’]est|ici|my name is|this is|i['’]m|"
    r"madame|monsieur|mademoiselle|mme|mlle|m\.|mr\.?|mrs\.?|ms\.?|dr\.?|ma[ ]fille|mon[ ]fils|"
    r"mon[ ]mari|ma[ ]femme|mon[ ]conjoint|ma[ ]conjointe|mon[ ]épouse|mon[ ]époux|ma[ ]mère|mon[ ]père|"
    r"ma[ ]sœur|ma[ ]soeur|mon[ ]frère|au[ ]nom[ ]de|my[ ]wife|my[ ]husband|my[ ]son|my[ ]daughter|"
    r"my[ ]mother|my[ ]father|sign[ée]e?|cordialement|bien[ ]à[ ]vous|regards|sincerely|"
    r"de[ ]la[ ]part[ ]de|on[ ]behalf[ ]of)"
)
# After the strongest introductions a name may be written in lower case (« moi c'est awa traoré »);
# function words are excluded so that « je m'appelle et je » or "my name is not" stay.
_FUNCTION_WORDS = (
    r"(?:et|je|j|de|du|des|la|le|les|un|une|ma|mon|mes|pour|qui|que|est|suis|and|i|the|a|an|my|"
    r"is|not|to|for|of|in|on|at|merci|thanks|svp|please|bonjour|hello|hi|comment|how|what|quoi|votre|notre|"
    r"vos|nos|your|our|yours|tous|all|everyone)"
)
_LOWER_WORD = rf"(?!{_FUNCTION_WORDS}\b)[a-zà-ÿ][a-zà-ÿ’'\-]{{1,40}}"
_STRONG_INTRO = (
    r"(?i:je m['’]appelle|je me nomme|moi c['’]est|my name is|sign[ée]e?|cordialement|regards|sincerely|"
    r"au nom de|de la part de|on behalf of)"
)

# Phrases that give a person's name in any case (« ma fille s'appelle léa », "my son is called Ethan").
_CALLED = (
    r"(?i:s['’]appell?e|s['’]appellent|se[ ]nomme|is[ ]called|was[ ]called|(?:her|his)[ ]name[ ]is|named)"
)
_ANY_CASE_WORD = rf"(?!(?i:{_FUNCTION_WORDS})\b)[^\W\d_][\w’'\-]{{0,40}}+"
# Verbs and nouns after which a house number and capitalised words are a home address, street type or not
# (« j'habite au 12 Les Genêts », "I live at 4 Orchard View").
_HOME = (
    r"(?i:habite|habitons|habitent|habitez|domicili[ée]e?s?|r[ée]sid(?:e|ons|ent)|adresse|d[ée]m[ée]nag[ée]e?s?|"
    r"live|lives|living|address|moved)"
)
_PLACE_WORD = r"[A-ZÀ-Ý][\w’'\-]{1,30}+"
_PLACE_LINK = r"(?:de|du|des|la|le|les|aux|au|sur|en|on|the|of)"

_MONTH_FR = (
    r"(?:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre)"
)
_MONTH_EN = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2}"
    rf"|(?:1er|\d{{1,2}})[ ](?i:{_MONTH_FR})[ ]\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?[ ](?:of[ ])?{_MONTH_EN},?[ ]\d{{4}}"
    rf"|{_MONTH_EN}[ ]\d{{1,2}}(?:st|nd|rd|th)?,?[ ]\d{{4}})"
)
_BIRTH = (
    r"(?i:n[ée]e?s?[ ]le|je[ ]suis[ ]du|date[ ]de[ ]naissance|naissance|ddn|born(?:[ ]on)?|date[ ]of[ ]birth|d\.?o\.?b\.?|"
    r"birthday)"
)
_ID_DOC = (
    r"(?i:passeport|passport|carte[ ](?:nationale[ ])?d['’]identit[ée]|cni|id[ ]card|identity[ ]card|"
    r"titre[ ]de[ ]s[ée]jour|residence[ ]permit|permis[ ]de[ ]conduire|driving[ ]licen[cs]e)"
)
_PLATE_CONTEXT = (
    r"(?i:immatricul[ée]e?s?|immat\.?|plaque(?:[ ]d['’]immatriculation)?|registration(?:[ ]number)?|"
    r"number[ ]plate|licen[cs]e[ ]plate|v[ée]hicule|vehicle|voiture|car)"
)
_PLATE_LETTERS = r"[A-HJ-NP-TV-Z]{2}"
# The separator before each label of an obfuscated domain: `(dot)`, `[point]`, ` dot `, or a dot.
_DOT = r"(?:[ ]?(?:\((?:dot|point)\)|\[(?:dot|point)\])[ ]?|[ ](?:dot|point)[ ]|\.)"
# Top-level domains an obfuscated address ends with (so "me at awa.diallo" is not an address).
_TLD = r"(?:com|fr|net|org|eu|be|ch|lu|ca|uk|de|es|it|pt|nl|io|info|biz|gouv|re|gp|mq|gf|yt|nc|pf|pm|ma|dz|tn|sn)"


def _p(
    kind: str,
    name: str,
    pattern: str,
    score: float,
    flags: int = 0,
    check: Callable[[str], bool] | None = None,
) -> ShapePattern:
    return ShapePattern(kind, name, re.compile(pattern, flags), score, check)


# Order matters only for equal scores: longer, more specific patterns first.
PATTERNS: tuple[ShapePattern, ...] = (
    _p("NAME", "tagged name", r"<name>([^<]{0,200}?)</name>", 1.0, re.IGNORECASE | re.DOTALL),
    _p(
        "EMAIL",
        "e-mail",
        r"[A-Za-z0-9._%+\-]{1,64}+[ ]{0,2}@[ ]{0,2}[A-Za-z0-9.\-]{1,253}\.[A-Za-z]{2,63}",
        1.0,
    ),
    _p(
        "EMAIL",
        "obfuscated e-mail",
        r"[A-Za-z0-9._%+\-]{1,64}+"
        r"(?:[ ]?(?:\((?:at|@|arobase)\)|\[(?:at|@|arobase)\]|\{(?:at|@)\})[ ]?|[ ](?:at|arobase)[ ])"
        rf"[A-Za-z0-9\-]{{1,63}}+(?:{_DOT}[A-Za-z0-9\-]{{1,63}}+){{0,8}}?{_DOT}{_TLD}\b",
        0.95,
    ),
    _p("IBAN", "IBAN", r"\b[A-Z]{2}\d{2}(?:[ .\-]?[A-Z0-9]{4}){2,7}(?:[ .\-]?[A-Z0-9]{1,4})?\b", 1.0),
    _p(
        "NIR",
        "NIR",
        r"(?<!\d[.,])\b[12][ .\-]?\d{2}[ .\-]?(?:0[1-9]|1[0-2]|[2-9]\d)[ .\-]?(?:\d{2}|2[AB])[ .\-]?\d{3}"
        r"[ .\-]?\d{3}(?:[ .\-]?\d{2})?\b",
        1.0,
    ),
    _p(
        "PHONE",
        "phone",
        r"(?<![\w+])(?<!\d[.,])(?:(?:\+|00)33[ .\-]?(?:\(0\))?[ .\-]?[1-9]|0[1-9])(?:[ .\-]?\d{2}){4}\b"
        r"|(?<![\w+\-/])(?<!\d[.,])(?:\+|00)(?!33)[1-9]\d{0,2}[ .\-]?\(?\d{1,4}\)?(?:[ .\-]?\d{2,4}){1,5}\b",
        0.95,
        check=phone_digits,
    ),
    _p(
        "PHONE",
        "British phone",
        r"0(?<![\w+\-/.]0)(?:7\d{3}[ ]?\d{6}|[1-9]\d{1,3}[ ]?\d{3,4}[ ]?\d{3,4})(?![\w\-]|[.,]\d)",
        0.9,
        check=lambda value: sum(c.isdigit() for c in value) == 11,
    ),
    _p(
        "ID_NUMBER",
        "payment card number",
        r"\d(?<![\w\-.]\d)(?:\d{3}[ \-]?(?:\d{4}[ \-]?){2}\d{4}(?![\w\-]|[.,]\d)|(?<=3)[47]\d{2}[ \-]?\d{6}[ \-]?\d{5}\b)",
        0.95,
        check=luhn,
    ),
    _p(
        "ID_NUMBER",
        "IP address",
        r"[0-9A-Fa-f](?<![\w.:][0-9A-Fa-f])(?:(?<=\d)\d{0,2}(?:\.\d{1,3}){3}(?![\w]|\.\d)"
        r"|[0-9A-Fa-f]{0,3}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:]))",
        0.9,
        check=ip_address,
    ),
    _p(
        "DATE_OF_BIRTH",
        "date after a birth phrase",
        rf"(?<![\w]){_BIRTH}[ ]?[:,]?[ ]{{0,3}}(?:(?i:is|est|was|était|le|on|the)[ ]){{0,3}}(?P<v>{_DATE})(?!\d)",
        0.95,
    ),
    _p(
        "ID_NUMBER",
        "identity document number after its name",
        rf"(?<![\w]){_ID_DOC}(?:[ ]?(?i:n[°o]\.?|num[ée]ro|number|no\.?|nr\.?|#|is|est|:|de[ ]ma[ ]fille)){{0,4}}"
        r"[ ]{0,3}:?[ ]{0,3}(?P<v>(?=[A-Z0-9]{0,13}\d)[A-Z0-9]{6,14}|[A-Z]{9})\b",
        0.95,
    ),
    _p("ID_NUMBER", "French passport number", r"\b\d{2}[A-Z]{2}\d{5}\b", 0.85),
    _p(
        "LICENCE_PLATE",
        "plate after a vehicle word",
        rf"(?<![\w]){_PLATE_CONTEXT}[ ]{{0,3}}(?:n[°o]\.?|:|(?i:is|est))?[ ]{{0,3}}(?P<v>{_PLATE_LETTERS}[ \-]?\d{{3}}[ \-]?{_PLATE_LETTERS}"
        r"|[A-Z]{2}\d{2}[ ]?[A-Z]{3}|\d{1,4}[ ]?[A-Z]{1,3}[ ]?(?:\d{2}|2[AB]))\b",
        0.95,
    ),
    _p(
        "LICENCE_PLATE",
        "French plate",
        rf"\b{_PLATE_LETTERS}(?:-\d{{3}}-|[ ]\d{{3}}[ ]){_PLATE_LETTERS}\b",
        0.85,
    ),
    _p(
        "ADDRESS",
        "postal address",
        r"(?i:(?:flat|apartment|appartement|apt\.?|bâtiment|bat\.?)[ ]\w{1,4},?[ ]{1,3})?"
        r"\b\d{1,4}(?:[ ]?(?:bis|ter))?,?[ ]{1,3}" + _STREET + r"[ ]{1,3}[^\n,;.?!]{2,60}?"
        r"(?:(?:,[ ]{0,3}|[ ]{1,3})\d{5}(?:[ ]{1,3}[A-ZÀ-Ý][\w\-' ]{1,40}?)?)?"
        r"(?=$|[\n,;.?!)]|[ ](?:" + _ADDRESS_STOP + r")\b)"
        r"|(?-i:\b\d{5}[ ]{1,3}[A-ZÀ-Ý][A-Za-zÀ-ÿ\-']{2,40}(?:[ \-][A-ZÀ-Ý][A-Za-zÀ-ÿ\-']{1,40}){0,5}\b)",
        0.9,
        re.IGNORECASE,
    ),
    _p(
        "ADDRESS",
        "English postal address",
        r"(?i:(?:flat|apartment|apt\.?|unit)[ ]\w{1,4},?[ ]{1,3})?(?:\b\d{1,4}[A-Z]?[ ]"
        rf"(?:[A-Z][a-z]{{1,40}}[ ]){{1,3}}{_STREET_EN}\b(?:,?[ ][A-Z][a-z]{{1,40}}(?:[ ]{_UK_POSTCODE})?)?"
        rf"|\b\d{{1,4}}[ ][A-Z][a-z]{{1,40}}(?:[ ][A-Z][a-z]{{1,40}})?,[ ][A-Z][a-z]{{1,40}}[ ]{_UK_POSTCODE}\b)",
        0.9,
    ),
    _p(
        "ADDRESS",
        "home address without a street type",
        rf"(?<![\w]){_HOME}(?:[ ](?i:au|à|a|at|to|is|est|:))?[ ]{{0,2}}:?[ ]{{0,3}}"
        rf"(?P<v>\d{{1,4}}(?:[ ]?(?i:bis|ter))?,?[ ]{_PLACE_WORD}"
        rf"(?:[ ](?:{_PLACE_LINK}[ ])?(?:[dl][’'])?{_PLACE_WORD}){{0,4}}"
        r"(?:,?[ ]{1,3}\d{5}[ ]{1,3}[A-ZÀ-Ý][\w\-']{1,40}(?:[ \-][A-ZÀ-Ý][\w\-']{1,40}){0,3}"
        rf"|,?[ ][A-Z][a-z]{{1,40}}[ ]{_UK_POSTCODE}|,?[ ]{_UK_POSTCODE})?)\b",
        0.9,
    ),
    _p(
        "NAME",
        "name after « s'appelle »",
        rf"(?<![\w]){_CALLED}[ ]{{1,3}}(?P<v>{_ANY_CASE_WORD}(?:[ ](?:{_PARTICLE}[ ]){{0,2}}{_ANY_CASE_WORD}){{0,2}})",
        0.85,
    ),
    _p("NAME", "name after an introduction", rf"(?<![\w])(?:{_NAME_INTRO})[ ,:]{{1,4}}(?P<v>{_NAME})\b", 0.9),
    _p(
        "NAME",
        "lower-case name after an introduction",
        rf"(?<![\w]){_STRONG_INTRO}[ ,:]{{1,4}}(?P<v>{_LOWER_WORD}(?:[ ](?:{_PARTICLE}[ ]){{0,2}}{_LOWER_WORD}){{0,2}})\b",
        0.8,
    ),
)

KINDS = tuple(dict.fromkeys(p.kind for p in PATTERNS))
