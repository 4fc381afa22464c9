"""CSRF protection of every desk form: a token bound to the browser's session.

Before login the token is bound to a random pre-login cookie; after login to the session id, so
a token seen before login (or in another session) is worthless afterwards. The cookies are
`SameSite=Strict` and HttpOnly; the token travels only in the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CSRF_FIELD = "csrf_token"
PRELOGIN_COOKIE = "civiclab_desk_pre"


class CsrfTokens:
    def __init__(self, secret: bytes | None = None) -> None:
        self.secret = secret or secrets.token_bytes(32)

    def token(self, anchor: str) -> str:
        """The form token for a session id (or a pre-login cookie value)."""
        return hmac.new(self.secret, b"csrf:" + anchor.encode(), hashlib.sha256).hexdigest()

    def check(self, anchor: str | None, field: str | None) -> bool:
        if not anchor or not field or len(field) > 128:
            return False
        return hmac.compare_digest(self.token(anchor), field)
