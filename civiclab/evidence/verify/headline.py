"""What `civiclab verify` tells a committee first, in English or French: the two answers, what the
evidence is, what was not checked, and in one sentence what verifying proves and what it does not.

Exit codes (documented in the README's committee section):
- 0: the evidence is intact, its signer is trusted by the trust file given, the record of reviews is sound;
- 1: something does not verify (a row says what);
- 3: the evidence is intact but nobody's trust was checked (no trust file): whose signature it is is
  unknown, so it is not "OK".
"""

from __future__ import annotations

from civiclab.evidence.verify.result import Verification

EXIT_OK, EXIT_FAILED, EXIT_NOT_CHECKED = 0, 1, 3
LANGUAGES = ("en", "fr")

_WORDS = {
    "en": {
        "intact": "EVIDENCE INTACT",
        "broken": "EVIDENCE DOES NOT VERIFY",
        "incomplete": "INCOMPLETE RUN",
        "reviews_broken": "the record of reviews is broken",
        "committee": "COMMITTEE",
        "synthetic": "SYNTHETIC data (generated, not real people)",
        "observed": "observed data (real sessions)",
        "recommendation": "recommendation",
        "legacy": "unsigned (made before runs were signed)",
        "signed_by": "signed by",
        "trusted": "trusted by the trust file",
        "untrusted": "NOT trusted by the trust file",
        "not_checked": "NOT CHECKED: no trust file, so whose signature this is was not checked "
        "(--trust FILE or CIVICLAB_TRUST)",
        "proves": "What this proves: the figures, files, sessions and records are those the lab signed when "
        "the run ended, and each review listed was signed by the key shown. What it does not prove: that the "
        "data describe real people well, that the experiment was well designed, or, without anchoring, "
        "that no later review was withheld.",
    },
    "fr": {
        "intact": "PREUVES INTACTES",
        "broken": "LES PREUVES NE SE VÉRIFIENT PAS",
        "incomplete": "EXÉCUTION INCOMPLÈTE",
        "reviews_broken": "le registre des avis est altéré",
        "committee": "COMITÉ",
        "synthetic": "données SYNTHÉTIQUES (générées, pas des personnes réelles)",
        "observed": "données observées (sessions réelles)",
        "recommendation": "recommandation",
        "legacy": "non signée (antérieure à la signature des exécutions)",
        "signed_by": "signée par",
        "trusted": "reconnu par le fichier de confiance",
        "untrusted": "NON reconnu par le fichier de confiance",
        "not_checked": "NON VÉRIFIÉ : pas de fichier de confiance, l'auteur de la signature n'a donc pas été "
        "vérifié (--trust FICHIER ou CIVICLAB_TRUST)",
        "proves": "Ce que cela prouve : les chiffres, fichiers, sessions et enregistrements sont ceux que le "
        "laboratoire a signés à la fin de l'exécution, et chaque avis listé a été signé par la clé indiquée. "
        "Ce que cela ne prouve pas : que les données décrivent bien des personnes réelles, que l'expérience "
        "était bien conçue, ni, sans ancrage, qu'aucun avis ultérieur n'a été retiré.",
    },
}


def exit_code(result: Verification) -> int:
    if not result.ok:
        return EXIT_FAILED
    if result.trust_file is None:
        return EXIT_NOT_CHECKED
    return EXIT_OK


def headline(result: Verification, lang: str = "en") -> list[str]:
    """The lines a committee member reads before the table."""
    w = _WORDS[lang if lang in _WORDS else "en"]
    if result.kind == "incomplete (killed)":
        verdict = w["incomplete"]
    else:
        verdict = w["intact"] if result.evidence_ok else w["broken"]
    facts = [f"run {result.run_id}"]
    if result.kind == "unsigned (legacy)":
        facts.append(w["legacy"])
    elif result.signer:
        trust = {True: w["trusted"], False: w["untrusted"], None: ""}[result.trusted]
        facts.append(f"{w['signed_by']} {result.signer}" + (f", {trust}" if trust else ""))
    if result.synthetic is not None:
        facts.append(w["synthetic"] if result.synthetic else w["observed"])
    if result.recommendation:
        facts.append(f"{w['recommendation']} {result.recommendation.upper()}")
    lines = [f"{verdict} — " + " · ".join(facts)]
    if not result.evidence_ok:
        failure = next(c for c in result.checks if c.status == "failed")
        lines.append(f"  {failure.name}: {failure.detail}")
    if result.committee is not None:
        words = result.committee.words(lang)
        if not result.reviews_ok:
            words = f"{w['reviews_broken']}: {words}"
        lines.append(f"{w['committee']}: {words}")
    if result.trust_file is None:
        lines.append(w["not_checked"])
    lines.append(w["proves"])
    return lines
