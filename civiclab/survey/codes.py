"""Invitation codes: how they are made, typed back and kept (only as a keyed hash)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from civiclab.privacy.secrets import lab_secret

# Unambiguous characters only (no 0/O, 1/I/L), read aloud or typed from a letter without doubt.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS, CODE_GROUP_LEN = 3, 4  # 12 characters ≈ 59 bits: not guessable, easy to type


def normalise_code(code: str) -> str:
    """Codes are typed by people: ignore case, spaces and dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


SECRET_NAME = "survey-codes"


def hash_code(experiment: str, code: str, secret: bytes | None = None) -> str:
    """What the store keeps of a code: an HMAC-SHA256 keyed by the lab's secret (see `civiclab.privacy.secrets`).

    The experiment is part of the message so codes do not carry over between experiments; the
    key is secret, so a copy of the store does not let anyone test codes offline.
    """
    key = secret if secret is not None else lab_secret(SECRET_NAME)
    message = f"civiclab-survey:{experiment}:{normalise_code(code)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def legacy_hash_code(experiment: str, code: str) -> str:
    """How stores before the lab secret hashed codes (salted by the public experiment name only)."""
    return hashlib.sha256(f"civiclab-survey:{experiment}:{normalise_code(code)}".encode()).hexdigest()


def person_key(token: str, secret: bytes | None = None) -> str:
    """What is kept of a participant token (LimeSurvey's `token`): a keyed hash that links one person's
    answers across waves without storing the token itself."""
    key = secret if secret is not None else lab_secret(SECRET_NAME)
    return hmac.new(key, f"civiclab-survey-person:{token.strip()}".encode(), hashlib.sha256).hexdigest()[:32]


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP_LEN))
    return "-".join(raw[i : i + CODE_GROUP_LEN] for i in range(0, len(raw), CODE_GROUP_LEN))
