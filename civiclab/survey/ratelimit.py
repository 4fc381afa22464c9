"""The form's limit on posts: code guessing gets 429, participants never notice.

A participant posts about five times (the code, then one page at a time); an attacker trying
codes posts hundreds of times a second. Each client address gets a number of POSTs a minute
(`civiclab.web.limits.RateLimit`, a sliding window); past it the answer is 429 with `Retry-After`,
before the application (and the store) does any work.
"""

from __future__ import annotations

from civiclab.errors import SurveyError
from civiclab.home import int_setting


def configured_limit(value: int | None = None) -> int:
    """`value`, else $CIVICLAB_SURVEY_RATE_LIMIT, else 30 POSTs a minute; 0 turns the limit off."""
    if value is None:
        return int_setting("CIVICLAB_SURVEY_RATE_LIMIT")
    if value < 0:
        raise SurveyError(f"rate limit {value}: give 0 (off) or a positive number of posts a minute")
    return value
