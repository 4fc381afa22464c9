"""Redaction benchmark: milliseconds per chat turn and per survey free-text answer, and recall.

The Presidio analyzer (spaCy fr_core_news_md NER + civiclab's pattern recognizers + the first-name
recognizer) is loaded once; each text is then analysed uncached (the runner's per-string cache is
bypassed), and compared with the regex-only redactor (civiclab's patterns alone) as the baseline.
Prints the load time, median and p95 ms per text of each kind with the ratio to the baseline, and recall
and precision per entity type on tests/fixtures/redaction/labelled.jsonl (the set the recognizers were
tuned on) and unseen.jsonl (written before they were tuned on it). Targets: median <= 15 ms per chat
turn on this CPU; recall >= 0.97 and precision >= 0.95 on unseen.jsonl.

Usage: python bench/bench_redaction.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from civiclab.privacy import redaction
from civiclab.privacy.redaction import recognizers
from civiclab.privacy.redaction.scoring import as_table, load_labelled, score

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "fixtures" / "redaction" / "labelled.jsonl"
# Written before the recognizers were tuned on it: the figure that says how redaction holds on new text.
UNSEEN = ROOT / "tests" / "fixtures" / "redaction" / "unseen.jsonl"
QUESTIONS = ROOT / "experiments" / "data" / "assistant" / "questions_eval.jsonl"
RESPONSES = ROOT / "experiments" / "data" / "survey" / "journey" / "responses.csv"
TARGET_MS = 15.0


def chat_turns() -> list[str]:
    turns = [json.loads(line)["text"] for line in QUESTIONS.read_text("utf-8").splitlines() if line]
    turns += [i.text for i in load_labelled(LABELLED) if i.category in ("chat", "mixed")]
    return turns


def survey_answers() -> list[str]:
    with RESPONSES.open(encoding="utf-8", newline="") as f:
        answers = [v for row in csv.DictReader(f) for k, v in row.items() if k.startswith("FB[") and v]
    answers += [
        i.text for i in load_labelled(LABELLED) if i.category in ("survey", "negative", "dob", "address")
    ]
    return answers


def timed_ms(texts: list[str], analyse: Callable[[str], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        for text in texts:
            started = time.perf_counter()
            analyse(text)
            times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    recognizers.analyzer()
    recognizers.first_names()
    recognizers.surnames()
    print(
        f"engine load (once per process): {time.perf_counter() - started:.1f} s ({recognizers.SPACY_MODEL})"
    )

    uncached = redaction._findings.__wrapped__  # what a string costs the first time it is seen

    def with_model(text: str) -> object:
        return uncached(text, (), redaction.holds_free_text(text))

    def regex_only(text: str) -> object:
        return uncached(text, (), False)

    for label, texts in (("chat turn", chat_turns()), ("survey free-text answer", survey_answers())):
        with_model(texts[0])  # warm caches of spaCy's vocabulary
        model_ms = timed_ms(texts, with_model, args.repeat)
        regex_ms = timed_ms(texts, regex_only, args.repeat)
        median, base = statistics.median(model_ms), statistics.median(regex_ms)
        p95 = statistics.quantiles(model_ms, n=20)[-1]
        verdict = "OK" if median <= TARGET_MS else "ABOVE TARGET"
        print(
            f"{label:24} n={len(texts):4d}  median {median:6.2f} ms  p95 {p95:6.2f} ms  "
            f"regex-only median {base:6.3f} ms  ratio x{median / base:,.0f}  "
            f"(target <= {TARGET_MS:g} ms: {verdict})"
        )

    for path in (LABELLED, UNSEEN):
        items = load_labelled(path)
        for label, find in (
            ("Presidio + spaCy + patterns", redaction.find_personal_data),
            ("regex-only baseline", lambda text: redaction.find_personal_data(text, model=False)),
        ):
            scores, _ = score(items, find)
            print(f"\n{path.name}, {label}: {len(items)} texts, recall {scores['ALL'].recall:.3f}")
            print(as_table(scores))


if __name__ == "__main__":
    main()
