"""Generate SYNTHETIC survey responses for the demo experiments, as LimeSurvey exports.

No real person answered these: each respondent is drawn from a latent "acceptability" that
depends on their segment (digital skills, age, disability, device), plus noise; items load on
it with their sign (reverse-scored items the other way), a few answers are left blank, some
respondents stop half-way (empty `submitdate`), and one row carries a deliberate out-of-range
value so that the import report shows a rejection. Deterministic: the same seed gives the same
bytes.

    .venv/bin/python scripts/make_synthetic_survey.py            # all demo experiments
    .venv/bin/python scripts/make_synthetic_survey.py journey    # one

Writes experiments/data/survey/<experiment>/responses.csv and a SYNTHETIC.md beside it.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from civiclab.spec.instruments import Instrument, load_instrument
from civiclab.spec.survey import DEFAULT_SEGMENT_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "experiments" / "data" / "survey"
INSTRUMENTS = ("sus", "utaut", "trust", "feedback")


@dataclass
class Profile:
    """How one pilot is received: a base level, segment effects and how many answer."""

    seed: int
    base: float
    complete: int
    incomplete: int
    effects: dict[str, float] = field(default_factory=dict)
    devices: tuple[str, ...] = ("smartphone", "computer", "tablet")


PROFILES: dict[str, Profile] = {
    # The immersive journey: liked by confident users, hard for low digital skills, 80+ and headsets.
    "journey": Profile(
        seed=101,
        base=1.35,
        complete=150,
        incomplete=30,
        effects={
            "digital_literacy=none": -1.0,
            "digital_literacy=low": -0.6,
            "age_band=80+": -0.7,
            "disability=visual": -0.8,
            "device=headset": -0.3,
        },
        devices=("smartphone", "computer", "headset"),
    ),
    # The AI assistant: useful, moderate trust, weaker with low digital skills.
    "assistant": Profile(
        seed=202,
        base=1.35,
        complete=140,
        incomplete=22,
        effects={"digital_literacy=none": -0.7, "digital_literacy=low": -0.4, "age_band=80+": -0.4},
    ),
    # The blockchain attestation: little visible to users, trust depends on explanation.
    "attestation": Profile(
        seed=303,
        base=1.0,
        complete=130,
        incomplete=18,
        effects={"digital_literacy=none": -0.5, "age_band=65-79": -0.2, "age_band=80+": -0.5},
    ),
}

SEGMENTS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "age_band": (("18-24", "25-39", "40-64", "65-79", "80+"), (0.14, 0.28, 0.32, 0.18, 0.08)),
    "digital_literacy": (("none", "low", "medium", "high"), (0.08, 0.22, 0.40, 0.30)),
    "disability": (("none", "visual", "hearing", "motor", "cognitive"), (0.80, 0.06, 0.05, 0.05, 0.04)),
    "territory": (("urban", "suburban", "rural", "overseas"), (0.45, 0.25, 0.24, 0.06)),
}

COMMENTS = {
    "fr": {
        "SQ001": [
            "Rapide et clair.",
            "Pouvoir le faire le soir depuis chez moi.",
            "Les explications étape par étape.",
            "Je n'ai pas eu besoin de me déplacer.",
            "Le récapitulatif à la fin.",
        ],
        "SQ002": [
            "Trop de mots compliqués.",
            "Je n'ai pas trouvé comment joindre un agent.",
            "Le texte est trop petit sur mon téléphone.",
            "Il faudrait pouvoir enregistrer et revenir plus tard.",
            "Rappelez-moi au 06 12 34 56 78, je n'ai pas réussi à finir.",
        ],
        "SQ003": ["Merci.", "Gardez un accueil au guichet.", "J'ai eu de l'aide de ma fille."],
    },
    "en": {
        "SQ001": ["Quick and clear.", "Doing it from home in the evening.", "The step-by-step explanations."],
        "SQ002": [
            "Too much jargon.",
            "I could not find how to reach a person.",
            "Let me save and come back later.",
        ],
        "SQ003": ["Thank you.", "Please keep the counter open."],
    },
}


def _choice(
    rng: np.random.Generator, values: tuple[str, ...], weights: tuple[float, ...] | None = None
) -> str:
    p = None if weights is None else np.array(weights) / sum(weights)
    return str(values[int(rng.choice(len(values), p=p))])


def _likert(rng: np.random.Generator, instrument: Instrument, latent: float, sign: float) -> int:
    scale = instrument.scale
    assert scale is not None
    mid = (scale.min + scale.max) / 2
    spread = (scale.max - scale.min) / 4
    value = mid + sign * spread * 1.1 * latent + rng.normal(0, spread * 0.95)
    return int(np.clip(round(value), scale.min, scale.max))


def _sign(instrument: Instrument, code: str, reverse: bool, construct: str | None) -> float:
    if construct == "distrust":
        return -1.0  # distrust goes down when acceptability goes up
    return -1.0 if reverse else 1.0


def make_rows(name: str, profile: Profile) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a LimeSurvey export for one experiment."""
    rng = np.random.default_rng(profile.seed)
    instruments = [load_instrument(n) for n in INSTRUMENTS]
    segment_columns = {a: c for a, c in DEFAULT_SEGMENT_COLUMNS.items() if c != "startlanguage"}
    header = [
        "id",
        "submitdate",
        "lastpage",
        "startlanguage",
        "seed",
        "startdate",
        "datestamp",
        *segment_columns.values(),
    ]
    for inst in instruments:
        header.extend(inst.columns)
    header.append("datasource")
    start = dt.datetime(2026, 3, 2, 9, 0)
    total = profile.complete + profile.incomplete
    incomplete_ids = set(rng.choice(total, size=profile.incomplete, replace=False).tolist())
    bad_row = int(rng.integers(5, total - 5))
    rows: list[list[str]] = []
    for index in range(total):
        segment = {a: _choice(rng, *SEGMENTS[a]) for a in SEGMENTS}
        segment["device"] = _choice(rng, profile.devices)
        lang = "en" if rng.random() < 0.15 else "fr"
        latent = profile.base + sum(profile.effects.get(f"{a}={v}", 0.0) for a, v in segment.items())
        latent += rng.normal(0, 0.8)
        began = start + dt.timedelta(minutes=int(rng.integers(0, 60 * 24 * 28)))
        complete = index not in incomplete_ids
        pages_done = len(instruments) if complete else int(rng.integers(1, len(instruments)))
        row = {
            "id": str(index + 1),
            "submitdate": (began + dt.timedelta(minutes=int(rng.integers(5, 25)))).strftime(
                "%Y-%m-%d %H:%M:%S"
            )
            if complete
            else "",
            "lastpage": str(pages_done),
            "startlanguage": lang,
            "seed": str(int(rng.integers(10**8, 10**9))),
            "startdate": began.strftime("%Y-%m-%d %H:%M:%S"),
            "datestamp": began.strftime("%Y-%m-%d %H:%M:%S"),
            "datasource": f"SYNTHETIC scripts/make_synthetic_survey.py seed={profile.seed}",
        }
        for attribute, column in segment_columns.items():
            row[column] = segment[attribute]
        for page, inst in enumerate(instruments):
            for column, item in inst.columns.items():
                if page >= pages_done:
                    row[column] = ""
                elif item.type == "text":
                    bank = COMMENTS[lang].get(item.code, [])
                    row[column] = bank[int(rng.integers(len(bank)))] if bank and rng.random() < 0.3 else ""
                elif rng.random() < 0.03:
                    row[column] = ""  # item non-response
                else:
                    sign = _sign(inst, item.code, item.reverse, item.construct_code)
                    row[column] = str(_likert(rng, inst, latent, sign))
        if index == bad_row:
            row["SUS[SQ004]"] = "6"  # deliberate: the import report must reject this row (scale is 1-5)
        rows.append([row.get(col, "") for col in header])
    return header, rows


def write(name: str, profile: Profile, out: Path = OUT) -> Path:
    header, rows = make_rows(name, profile)
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    path = folder / "responses.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    (folder / "SYNTHETIC.md").write_text(
        f"# Synthetic survey responses: {name}\n\n"
        "`responses.csv` is **synthetic demo data**: no real person answered it. It is a LimeSurvey response\n"
        "export (question codes as headings) generated by `scripts/make_synthetic_survey.py` with seed\n"
        f"{profile.seed}: {profile.complete} complete and {profile.incomplete} incomplete responses; one row\n"
        "has a deliberate out-of-range answer so the import report shows a rejection. Regenerate with\n"
        f"`.venv/bin/python scripts/make_synthetic_survey.py {name}` (same seed, same bytes).\n",
        encoding="utf-8",
    )
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiments", nargs="*", help=f"any of {', '.join(PROFILES)} (default: all)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.experiments if n not in PROFILES]
    if unknown:
        parser.error(f"unknown experiment {unknown[0]!r}: choose from {', '.join(PROFILES)}")
    for name in args.experiments or list(PROFILES):
        path = write(name, PROFILES[name])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
