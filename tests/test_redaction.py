"""Redaction of personal data: each kind on its own, the labelled set (recall, precision, leaks), records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civiclab.redaction import find_personal_data, redact, redact_text

LABELLED = (
    Path(__file__).resolve().parents[1] / "experiments" / "data" / "assistant" / "redaction_labelled.jsonl"
)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("écrivez à jeanne.martin+caf@exemple.fr svp", "EMAIL", "jeanne.martin+caf@exemple.fr"),
        ("rappelez le 06 12 34 56 78 demain", "PHONE", "06 12 34 56 78"),
        ("rappelez le 06.12.34.56.78", "PHONE", "06.12.34.56.78"),
        ("rappelez le 0612345678", "PHONE", "0612345678"),
        ("mon numéro +33 6 12 34 56 78", "PHONE", "+33 6 12 34 56 78"),
        ("call +44 20 7946 0958 tonight", "PHONE", "+44 20 7946 0958"),
        ("NIR 1 84 12 75 108 234 56 merci", "NIR", "1 84 12 75 108 234 56"),
        ("sécu 284127510823456", "NIR", "284127510823456"),
        ("corse 1 62 03 2A 004 118 27", "NIR", "1 62 03 2A 004 118 27"),
        ("IBAN FR76 3000 6000 0112 3456 7890 189 svp", "IBAN", "FR76 3000 6000 0112 3456 7890 189"),
        (
            "j'habite au 12 rue des Tilleuls, 25990 Belleval.",
            "ADDRESS",
            "12 rue des Tilleuls, 25990 Belleval",
        ),
        ("je vis au 4 bis avenue Jean Jaurès depuis mai", "ADDRESS", "4 bis avenue Jean Jaurès"),
        ("Je m'appelle Aurélie Fontanet et j'ai une question", "NAME", "Aurélie Fontanet"),
        ("Madame Dubreuil a appelé", "NAME", "Dubreuil"),
        ("My name is Karim Benhaddou.", "NAME", "Karim Benhaddou"),
        ("dossier de <name>Jean Dupont</name>", "NAME", "<name>Jean Dupont</name>"),
    ],
)
def test_each_kind_is_found_with_its_exact_span(text: str, kind: str, value: str) -> None:
    findings = find_personal_data(text)
    assert [(f.kind, f.value) for f in findings] == [(kind, value)]
    assert value not in redact_text(text)
    assert f"[{kind}]" in redact_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "Le passeport coûte 86 euros et se fait en quatre semaines.",
        "Rendez-vous le 12/03/2026 à 9h30 au guichet 2.",
        "Je suis locataire et mes revenus sont faibles.",
        "je suis né en 1984, dossier n° 2024-118",
        "Monsieur le Maire, je vous écris au sujet de la cantine.",
        "L'article L311-3-1 du code des relations entre le public et l'administration.",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert find_personal_data(text) == []
    assert redact_text(text) == text


def test_known_names_are_redacted_anywhere_whatever_the_case() -> None:
    text = "Le dossier de aurélie fontanet est prêt ; Aurélie Fontanet viendra."
    assert (
        redact_text(text, extra_names=("Aurélie Fontanet",))
        == "Le dossier de [NAME] est prêt ; [NAME] viendra."
    )


def test_labelled_set_recall_precision_and_no_leak() -> None:
    items = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    assert len(items) >= 100
    entities = covered = leaks = findings_total = false_positives = 0
    for item in items:
        findings = find_personal_data(item["text"])
        redacted = redact_text(item["text"])
        for e in item["entities"]:
            assert item["text"][e["start"] : e["end"]] == e["value"]  # the labels themselves are right
            entities += 1
            covered += any(f.start <= e["start"] and f.end >= e["end"] for f in findings)
            leaks += e["value"] in redacted
        findings_total += len(findings)
        false_positives += sum(
            not any(f.start < e["end"] and e["start"] < f.end for e in item["entities"]) for f in findings
        )
    assert entities >= 100
    assert leaks == 0
    assert covered == entities
    assert false_positives == 0 and findings_total >= entities


def test_redact_walks_records_and_keeps_keys_and_numbers() -> None:
    record = {
        "question": "Mon mail est a.b@exemple.fr",
        "scores": [0.5, 0.25],
        "nested": {"phone": "tel 06 12 34 56 78", "id": "s000001"},
    }
    clean = redact(record)
    assert clean == {
        "question": "Mon mail est [EMAIL]",
        "scores": [0.5, 0.25],
        "nested": {"phone": "tel [PHONE]", "id": "s000001"},
    }


def test_decimal_numbers_are_not_read_as_phones_or_nir() -> None:
    from civiclab.redaction import redact_text

    for text in ("ratio 0.009302325581395349", "p = 0.0612345678", "0.1008998121523 kWh"):
        assert redact_text(text) == text
    assert redact_text("appelez le 06 12 34 56 78") == "appelez le [PHONE]"
