"""What protects the web form besides the shared mechanisms of `civiclab.web`: its CSRF cookie, its
content security policy, and the bearer token of the admin export."""

from __future__ import annotations

import hmac

from civiclab.web.headers import security_headers

CSRF_COOKIE = "civiclab_csrf"
"""The random anchor the form's CSRF tokens are bound to (`civiclab.web.csrf`)."""

FORM_HEADERS = security_headers(
    b"default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; "
    b"frame-ancestors 'none'; base-uri 'none'"
)


def admin_token_ok(expected: str | None, authorization: str | None) -> bool:
    """`Authorization: Bearer TOKEN` against the configured token (compared in constant time)."""
    if not expected or not authorization or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(authorization.removeprefix("Bearer ").strip().encode(), expected.encode())
