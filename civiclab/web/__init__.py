"""What the desk and the survey form share on the web: CSRF tokens, security headers, body and rate
limits, which language a request gets, and the base page template (`templates/layout.html`).

The words stay with each feature; only the mechanisms live here. Kept free of FastAPI and Starlette:
these are plain ASGI middlewares and functions, so each feature's app decides what it imports.

A public module: its `__all__` is what a pilot serving its own pages to participants may use.
"""

from __future__ import annotations

from civiclab.web.csrf import CSRF_FIELD, CsrfTokens
from civiclab.web.headers import SecurityHeaders, security_headers
from civiclab.web.limits import BodyLimit, RateLimit

__all__ = ["CSRF_FIELD", "BodyLimit", "CsrfTokens", "RateLimit", "SecurityHeaders", "security_headers"]
