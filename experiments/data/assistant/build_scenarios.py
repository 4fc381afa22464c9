"""Build the citizen-question scenarios and the labelled redaction set of the Belleval assistant pilot.

Every question below was written by the civiclab team for the fictional "Ville de Belleval". The script
only assembles them: it assigns ids and splits, adds misspelt variants of some questions (a seeded typo
model), embeds fictional personal data (names, e-mails, phones, NIR, IBAN, addresses) into others, and
writes the labelled redaction set with the exact spans of each personal value.

Run it from the repository root (deterministic: the same script gives the same files):

    .venv/bin/python experiments/data/assistant/build_scenarios.py

Outputs (next to this script):
    questions_train.jsonl       labelled training split, used only to fit the hand-over router
    questions_eval.jsonl        evaluation split, what the pilot asks in a run
    redaction_labelled.jsonl    texts with the spans of every personal value, to measure redaction

All personal values are invented (example domains, fictional numbers); they exist to test redaction.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
# The hand-written texts are data: scenario_texts.yaml, next to this script.
TEXTS = yaml.safe_load((HERE / "scenario_texts.yaml").read_text(encoding="utf-8"))
SHEET_QUESTIONS: dict[str, list[str]] = TEXTS["sheet_questions"]
PII_TEMPLATES: list[str] = TEXTS["pii_templates"]
PERSONAL_VALUES: list[dict[str, str]] = TEXTS["personal_values"]
REDACTION_TEMPLATES: list[str] = TEXTS["redaction_templates"]
REDACTION_NEGATIVES: list[str] = TEXTS["redaction_negatives"]
# Template slots -> the kind of personal value the redactor must find.
KINDS = {
    "name": "NAME",
    "surname": "NAME",
    "email": "EMAIL",
    "phone": "PHONE",
    "intl_phone": "PHONE",
    "nir": "NIR",
    "iban": "IBAN",
    "address": "ADDRESS",
}
SEED = 20260105

# A keyboard-neighbour typo model: French users on AZERTY keyboards, plus dropped accents and letters.
NEIGHBOURS = {
    "a": "zq",
    "z": "ae",
    "e": "zr",
    "r": "et",
    "t": "ry",
    "y": "tu",
    "u": "yi",
    "i": "uo",
    "o": "ip",
    "p": "o",
    "q": "as",
    "s": "qd",
    "d": "sf",
    "f": "dg",
    "g": "fh",
    "h": "gj",
    "j": "hk",
    "k": "jl",
    "l": "km",
    "m": "l",
    "w": "x",
    "x": "wc",
    "c": "xv",
    "v": "cb",
    "b": "vn",
    "n": "b",
}
ACCENTS = str.maketrans("éèêàâîïôûùç", "eeeaaiiouuc")


def misspell(text: str, rng: random.Random) -> str:
    """A plausible misspelt version of `text`: accents dropped, one or two typos, fewer apostrophes."""
    out = text.translate(ACCENTS).replace("'", " " if rng.random() < 0.5 else "")
    chars = list(out)
    letters = [i for i, c in enumerate(chars) if c.lower() in NEIGHBOURS]
    for i in rng.sample(letters, k=min(2, len(letters))):
        if rng.random() < 0.5:
            chars[i] = rng.choice(NEIGHBOURS[chars[i].lower()])
        else:
            chars[i] = ""
    return "".join(chars).lower()


def question(
    qid: str,
    text: str,
    *,
    split: str,
    sheets: list[str],
    expected: str,
    reason: str,
    profile: str = "standard",
    language: str = "fr",
    tags: list[str] | None = None,
    personal_data: list[dict[str, str]] | None = None,
) -> dict[str, object]:
    return {
        "id": qid,
        "split": split,
        "text": text,
        "language": language,
        "profile": profile,
        "sheets": sheets,
        "expected": expected,
        "reason": reason,
        "tags": tags or [],
        "personal_data": personal_data or [],
    }


def fill(template: str, values: dict[str, str]) -> tuple[str, list[dict[str, object]]]:
    """Fill `{kind}` slots of `template`; return the text and the spans of each personal value."""
    text = ""
    spans: list[dict[str, object]] = []
    rest = template
    while "{" in rest:
        before, _, after = rest.partition("{")
        kind, _, rest = after.partition("}")
        text += before
        value = values[kind]
        spans.append({"kind": KINDS[kind], "start": len(text), "end": len(text) + len(value), "value": value})
        text += value
    text += rest
    return text, spans


def build() -> tuple[list[dict[str, object]], list[dict[str, object]], list[dict[str, object]]]:
    rng = random.Random(SEED)
    train: list[dict[str, object]] = []
    evaluation: list[dict[str, object]] = []
    counter = 0

    def add(text: str, split: str, **kw: object) -> dict[str, object]:
        nonlocal counter
        counter += 1
        q = question(f"q{counter:03d}", text, split=split, **kw)  # type: ignore[arg-type]
        (train if split == "train" else evaluation).append(q)
        return q

    # Procedure questions: per sheet, the first two phrasings are evaluated, the third trains the router.
    eval_sheet_questions: list[dict[str, object]] = []
    for sheet, phrasings in SHEET_QUESTIONS.items():
        for i, text in enumerate(phrasings):
            split = "train" if i == 2 else "eval"
            q = add(text, split, sheets=[sheet], expected="answer", reason="answer")
            if split == "eval":
                eval_sheet_questions.append(q)

    for i, item in enumerate(TEXTS["low_literacy"]):
        add(
            item["text"],
            "train" if i % 3 == 2 else "eval",
            sheets=item["sheets"],
            expected="answer",
            reason="answer",
            profile="low_literacy",
            tags=["low_literacy"],
        )
    for i, item in enumerate(TEXTS["low_literacy_handover"]):
        add(
            item["text"],
            "train" if i % 2 == 1 else "eval",
            sheets=item["sheets"],
            expected="handover",
            reason=item["reason"],
            profile="low_literacy",
            tags=["low_literacy"],
        )
    for i, item in enumerate(TEXTS["english"]):
        add(
            item["text"],
            "train" if i % 3 == 2 else "eval",
            sheets=item["sheets"],
            expected=item["expected"],
            reason=item["reason"],
            profile="english",
            language="en",
        )
    for reason, items in TEXTS["handover"].items():
        for i, item in enumerate(items):
            add(
                item["text"],
                "train" if i % 2 == 1 else "eval",
                sheets=item["sheets"],
                expected="handover",
                reason=reason,
            )
    for i, item in enumerate(TEXTS["injections"]):
        q = add(
            item["text"],
            "train" if i % 3 == 2 else "eval",
            sheets=item["sheets"],
            expected=item["expected"],
            reason="injection" if item["expected"] == "answer" else "out_of_scope",
            tags=["injection"],
        )
        q["injection_marker"] = item["marker"]

    # Misspelt variants of evaluated questions (the source stays in the eval split as well).
    for source in rng.sample(eval_sheet_questions, k=14):
        add(
            misspell(str(source["text"]), rng),
            "eval",
            sheets=list(source["sheets"]),  # type: ignore[arg-type]
            expected="answer",
            reason="answer",
            tags=["misspelling"],
        )

    # Questions carrying personal data: a citizen's sentence about themselves, then a procedure question.
    sheet_pool = [(sheet, phrasings[0]) for sheet, phrasings in SHEET_QUESTIONS.items()]
    for i, template in enumerate(PII_TEMPLATES):
        values = PERSONAL_VALUES[i % len(PERSONAL_VALUES)]
        prefix, spans = fill(template, values)
        sheet, text = sheet_pool[(i * 7) % len(sheet_pool)]
        add(
            f"{prefix} {text}",
            "train" if i % 3 == 2 else "eval",
            sheets=[sheet],
            expected="answer",
            reason="answer",
            tags=["personal_data"],
            personal_data=[{"kind": str(s["kind"]), "value": str(s["value"])} for s in spans],
        )

    labelled: list[dict[str, object]] = []
    for i, template in enumerate(REDACTION_TEMPLATES):
        for j in range(2):
            values = PERSONAL_VALUES[(i + j * 5) % len(PERSONAL_VALUES)]
            text, spans = fill(template, values)
            labelled.append({"id": f"r{len(labelled) + 1:03d}", "text": text, "entities": spans})
    for text in REDACTION_NEGATIVES:
        labelled.append({"id": f"r{len(labelled) + 1:03d}", "text": text, "entities": []})
    return train, evaluation, labelled


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    train, evaluation, labelled = build()
    write_jsonl(HERE / "questions_train.jsonl", train)
    write_jsonl(HERE / "questions_eval.jsonl", evaluation)
    write_jsonl(HERE / "redaction_labelled.jsonl", labelled)
    print(f"train={len(train)} eval={len(evaluation)} redaction_labelled={len(labelled)}")


if __name__ == "__main__":
    main()
