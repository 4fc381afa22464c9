"""Redaction on text nobody tuned for: the unseen set (written before the recognizers were changed).

The targets are the issue's: recall at least 0.97 and precision at least 0.95 on that set, each type
scored from its labels; a social-security number is masked whole; the pilot's own leaks are redacted.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civiclab.privacy.redaction import find_personal_data, redact_text
from civiclab.privacy.redaction.patterns import ip_address, luhn
from civiclab.privacy.redaction.scoring import as_table, load_labelled, score

UNSEEN = Path(__file__).resolve().parents[1] / "fixtures" / "redaction" / "unseen.jsonl"
TYPES = {"NAME", "EMAIL", "PHONE", "NIR", "IBAN", "ADDRESS", "DATE_OF_BIRTH", "ID_NUMBER", "LICENCE_PLATE"}


def test_the_unseen_set_is_what_the_issue_asks_for() -> None:
    items = load_labelled(UNSEEN)
    assert len(items) >= 300
    assert {i.lang for i in items} == {"fr", "en"}
    assert {e.type for i in items for e in i.entities} == TYPES
    assert sum(not i.entities for i in items) >= 60  # texts with no personal value, for precision


def test_recall_and_precision_on_the_unseen_set_meet_the_targets() -> None:
    scores, mistakes = score(load_labelled(UNSEEN))
    table = as_table(scores)
    overall = scores["ALL"]
    assert overall.recall is not None and overall.recall >= 0.97, table
    assert overall.precision is not None and overall.precision >= 0.95, table
    for kind in TYPES:
        recall, precision = scores[kind].recall, scores[kind].precision
        assert recall is not None and recall >= 0.95, (kind, table, mistakes)
        assert precision is not None and precision >= 0.95, (kind, table)


def test_a_social_security_number_is_masked_whole_whatever_its_separators() -> None:
    items = [i for i in load_labelled(UNSEEN) if i.category == "nir"]
    assert len(items) >= 20
    for item in items:
        redacted = redact_text(item.text)
        assert "[NIR]" in redacted
        assert not re.search(r"\d", redacted), redacted  # no sex, year or département left


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bonjour, marie-claire dubois à l'appareil", "bonjour, [NAME] à l'appareil"),
        ("ma fille s'appelle Léa et elle a 4 ans", "ma fille s'appelle [NAME] et elle a 4 ans"),
        ("écrivez à jean.dupont @ gmail.com", "écrivez à [EMAIL]"),
        ("je suis née le 3 mars 1990 à Brest", "je suis née le [DATE_OF_BIRTH] à Brest"),
        ("IBAN FR76-3000-1007-9412-3456-7890-185", "IBAN [IBAN]"),
        ("sécu 1-84-12-76-451-089-46 merci", "sécu [NIR] merci"),
        ("carte 4970 1012 3456 7893 débitée", "carte [ID_NUMBER] débitée"),
        ("mon IP est 82.64.113.7 depuis hier", "mon IP est [ID_NUMBER] depuis hier"),
        ("j'habite au 12 Les Genêts, 35000 Rennes", "j'habite au [ADDRESS]"),
    ],
)
def test_the_leaks_found_in_a_pilot_are_redacted(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_card_numbers_and_ip_addresses_are_checked_not_guessed() -> None:
    # 4970 1012 3456 7893: digits from the right, every second one doubled (less 9 past 9), sum to 70,
    # a multiple of 10; with its last digit changed the sum is 71, and it is an ordinary number.
    assert luhn("4970 1012 3456 7893") and not luhn("4970 1012 3456 7894")
    assert find_personal_data("commande 4970 1012 3456 7894 livrée") == []
    assert ip_address("82.64.113.7") and not ip_address("12:45:00") and not ip_address("300.1.1.1")
    assert find_personal_data("Version 2.4.1 du portail, 12:45:00") == []
