"""The plain-language explanation owed to a citizen for an automated decision (« mention explicite »).

French administrations must tell people when an algorithm took part in a decision about them, what data
it used, how it weighed it, and how to reach a human (code des relations entre le public et
l'administration, art. L311-3-1). Every routing decision of the assistant carries such a text.
"""

from __future__ import annotations

from pilots.assistant.router import Decision
from pilots.assistant.signals import LABELS

HUMAN_CHANNELS_FR = (
    "l'accueil de la mairie ou l'espace France services, avec ou sans rendez-vous, "
    "ou par courrier adressé au maire"
)
HUMAN_CHANNELS_EN = (
    "the town hall reception desk or the France services desk, with or without an appointment, "
    "or by letter to the mayor"
)


def main_factors(decision: Decision, top: int = 3) -> list[tuple[str, float, float]]:
    """The `top` features that weighed most: (feature, SHAP value, share of all absolute SHAP)."""
    total = sum(abs(v) for v in decision.shap.values()) or 1.0
    ranked = sorted(decision.shap.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
    return [(name, value, abs(value) / total) for name, value in ranked[:top] if value != 0.0]


def explanation(decision: Decision, language: str) -> str:
    """The citizen-facing explanation of one routing decision, in French or in English."""
    factors = main_factors(decision)
    if language == "en":
        verdict = (
            "to put you in touch with a member of staff"
            if decision.handover
            else "to answer automatically from the town's procedure sheets"
        )
        parts = [
            f"{LABELS[name][1]} (weight {share:.0%}, "
            f"{'towards a person' if value > 0 else 'towards an automatic answer'})"
            for name, value, share in factors
        ]
        return (
            "Automated processing notice: an algorithm of the Belleval assistant decided "
            f"{verdict}. Data used: the text of your question (personal data masked), how well our "
            "procedure sheets matched it, and the digital-ease level of your profile. Main factors: "
            f"{'; '.join(parts) or 'none'}. You can always talk to a person instead: {HUMAN_CHANNELS_EN}. "
            "You may ask for the rules of this algorithm and how they applied to you."
        )
    verdict = (
        "de vous mettre en relation avec un agent"
        if decision.handover
        else "de vous répondre automatiquement à partir des fiches de la ville"
    )
    parts = [
        f"{LABELS[name][0]} (poids {share * 100:.0f}\u202f%, "
        f"{'vers un agent' if value > 0 else 'vers une réponse automatique'})"
        for name, value, share in factors
    ]
    return (
        "Information sur le traitement automatisé : un algorithme de l'assistant de la Ville de Belleval "
        f"a décidé {verdict}. Données utilisées : le texte de votre question (données personnelles "
        "masquées), la pertinence des fiches trouvées et le niveau d'aisance numérique de votre profil. "
        f"Principaux facteurs : {' ; '.join(parts) or 'aucun'}. Vous pouvez toujours parler à un agent : "
        f"{HUMAN_CHANNELS_FR}. Vous pouvez demander les règles de cet algorithme et la façon dont elles "
        "vous ont été appliquées."
    )


def handover_message(language: str) -> str:
    """What the citizen reads when the assistant hands over."""
    if language == "en":
        return (
            "Your request needs a member of staff. A person from the town hall will take it from here; "
            f"you can also come to {HUMAN_CHANNELS_EN}."
        )
    return (
        "Votre demande a besoin d'un agent. Une personne de la mairie va prendre le relais ; "
        f"vous pouvez aussi vous adresser à {HUMAN_CHANNELS_FR}."
    )


def channel_notice(language: str) -> str:
    """Added under every automatic answer: digital is never the only way in."""
    if language == "en":
        return f"Prefer a person? You can always go to {HUMAN_CHANNELS_EN}."
    return f"Vous préférez parler à quelqu'un ? Vous pouvez toujours vous adresser à {HUMAN_CHANNELS_FR}."
