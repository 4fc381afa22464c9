"""The words of the web form in French and English (instrument wording lives in the instruments)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "fr": {
        "language_name": "Français",
        "language_nav": "Langue",
        "skip": "Aller au contenu",
        "default_title": "Questionnaire sur le service",
        "start_heading": "Donnez votre avis sur le service",
        "start_intro": "Ce questionnaire nous aide à savoir si le service convient aux personnes qui l'utilisent. "
        "Il prend environ 10 minutes.",
        "privacy": "Vos réponses sont pseudonymes : nous ne conservons ni votre nom ni votre code, seulement "
        "une empreinte du code pour éviter les doublons. Les résultats ne sont publiés que pour des groupes "
        "d'au moins {k} personnes.",
        "code_label": "Code d'invitation",
        "code_hint": "Il figure sur votre invitation, par exemple ABCD-EFGH-JKMN.",
        "start_button": "Commencer le questionnaire",
        "step": "Étape {n} sur {total}",
        "next": "Continuer",
        "submit": "Envoyer mes réponses",
        "back": "Revenir à l'étape précédente",
        "optional": "facultatif",
        "error_prefix": "Erreur :",
        "error_summary_title": "Il y a un problème",
        "choose_answer": "Question {n} : choisissez une réponse (« {text} »)",
        "invalid_answer": "Question {n} : la réponse n'est pas valide (« {text} »)",
        "text_too_long": "Question {n} : la réponse dépasse {max} caractères (« {text} »)",
        "code_missing": "Saisissez votre code d'invitation",
        "code_unknown": "Ce code d'invitation n'est pas reconnu : vérifiez-le sur votre invitation",
        "code_used": "Ce code d'invitation a déjà servi à envoyer des réponses. Merci de votre participation !",
        "code_invalid": "Ce code d'invitation n'est pas reconnu, ou il a déjà servi : vérifiez-le sur votre invitation",
        "rate_limited": "Trop d'essais depuis cette connexion : réessayez dans une minute.",
        "thanks_heading": "Merci, vos réponses sont enregistrées",
        "thanks_body": "Votre participation aide l'administration à améliorer le service.",
        "results_link": "Voir les résultats publiés",
        "home_link": "Revenir à l'accueil du questionnaire",
        "bad_form": "Le formulaire a expiré ou n'a pas été envoyé depuis cette page. Revenez à l'accueil et "
        "recommencez.",
        "bad_request": "La demande n'est pas valide.",
        "too_large": "Les réponses envoyées sont trop longues.",
        "not_found": "Cette page n'existe pas.",
        "question_list": "Questions",
    },
    "en": {
        "language_name": "English",
        "language_nav": "Language",
        "skip": "Skip to main content",
        "default_title": "Survey about the service",
        "start_heading": "Tell us what you think of the service",
        "start_intro": "This survey helps us find out whether the service suits the people who use it. "
        "It takes about 10 minutes.",
        "privacy": "Your answers are pseudonymous: we keep neither your name nor your code, only a fingerprint "
        "of the code to prevent duplicates. Results are only published for groups of at least {k} people.",
        "code_label": "Invitation code",
        "code_hint": "It is on your invitation, for example ABCD-EFGH-JKMN.",
        "start_button": "Start the survey",
        "step": "Step {n} of {total}",
        "next": "Continue",
        "submit": "Send my answers",
        "back": "Go back to the previous step",
        "optional": "optional",
        "error_prefix": "Error:",
        "error_summary_title": "There is a problem",
        "choose_answer": "Question {n}: choose an answer (“{text}”)",
        "invalid_answer": "Question {n}: the answer is not valid (“{text}”)",
        "text_too_long": "Question {n}: the answer is longer than {max} characters (“{text}”)",
        "code_missing": "Enter your invitation code",
        "code_unknown": "This invitation code is not recognised: check it on your invitation",
        "code_used": "This invitation code has already been used to send answers. Thank you for taking part!",
        "code_invalid": "This invitation code is not recognised, or it has already been used: check it on your invitation",
        "rate_limited": "Too many attempts from this connection: try again in a minute.",
        "thanks_heading": "Thank you, your answers are recorded",
        "thanks_body": "Taking part helps the administration improve the service.",
        "results_link": "See the published results",
        "home_link": "Back to the start of the survey",
        "bad_form": "The form has expired or was not sent from this page. Go back to the start and try again.",
        "bad_request": "The request is not valid.",
        "too_large": "The answers sent are too long.",
        "not_found": "This page does not exist.",
        "question_list": "Questions",
    },
}


def messages(lang: str) -> dict[str, str]:
    return MESSAGES["en" if lang == "en" else "fr"]
