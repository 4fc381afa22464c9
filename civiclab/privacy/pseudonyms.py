"""The salt of participants' pseudonyms: a lab secret nobody outside the lab can recompute.

The environment variable the spec names (`privacy.salt_env`, default `CIVICLAB_PSEUDONYM_SALT`) wins,
so a lab can share one salt across machines; otherwise the lab's own random secret is used
(`civiclab.privacy.secrets.lab_secret("pseudonym-salt")`). There is no fallback derived from public values: a
salt computed from the experiment name would let anyone re-derive a participant's pseudonym.
A run records only the salt's key id (`civiclab.pseudonym_key_id`), never the salt.
"""

from __future__ import annotations

import os

from civiclab.privacy.secrets import lab_secret, secret_key_id
from civiclab.spec.experiment import PrivacySpec

SECRET_NAME = "pseudonym-salt"


def pseudonym_salt(privacy: PrivacySpec) -> str:
    """The salt for pseudonymous ids: the env var the spec's `privacy:` names, else the lab's random secret."""
    configured = os.environ.get(privacy.salt_env)
    if configured:
        return configured
    return lab_secret(SECRET_NAME).hex()


def pseudonym_key_id(privacy: PrivacySpec) -> str:
    """Which salt a run used, without revealing it (first 16 hex digits of its SHA-256)."""
    return secret_key_id(pseudonym_salt(privacy))
