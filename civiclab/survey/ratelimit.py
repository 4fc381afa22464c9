"""The form's limit on posts: code guessing gets 429, participants never notice.

A participant posts about five times (the code, then one page at a time); an attacker trying
codes posts hundreds of times a second. Each client address gets a number of POSTs a minute
(`civiclab.web.limits.RateLimit`, a sliding window); past it the answer is 429 with `Retry-After`,
before the application (and the store) does any work.
"""

from __future__ import annotations

import os

from civiclab.errors import SurveyError

RATE_ENV = "CIVICLAB_SURVEY_RATE_LIMIT"
DEFAULT_LIMIT = 30  # POSTs per client per minute


def configured_limit(value: int | None = None) -> int:
    """`value`, else $CIVICLAB_SURVEY_RATE_LIMIT, else 30 POSTs a minute; 0 turns the limit off."""
    if value is None:
        text = os.environ.get(RATE_ENV, "")
        try:
            value = int(text) if text else DEFAULT_LIMIT
        except ValueError:
            raise SurveyError(f"${RATE_ENV}: {text[:20]!r} is not a whole number") from None
    if value < 0:
        raise SurveyError(f"rate limit {value}: give 0 (off) or a positive number of posts a minute")
    return value
