"""CSRF protection of every form: a token bound to an anchor only the browser's own cookies hold.

The anchor is the desk's session id after login, or a random value in a cookie (the desk before
login, the survey form). The token is an HMAC of the anchor under a server secret and travels only
in the form: a page of another site can neither read the cookie nor compute the token, and the
cookies are `SameSite=Strict`, so a cross-site post never carries a matching pair. A token bound to
a pre-login anchor is worthless once the desk's session starts, since the anchor changes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

CSRF_FIELD = "csrf_token"
_ANCHOR = re.compile(r"[A-Za-z0-9_\-]{16,128}")


class CsrfTokens:
    """Form tokens of one application: an HMAC of the anchor under a secret of the application's life."""

    def __init__(self, secret: bytes | None = None) -> None:
        self.secret = secret or secrets.token_bytes(32)

    @staticmethod
    def new_anchor() -> str:
        """A fresh random anchor, for a cookie."""
        return secrets.token_urlsafe(24)

    @staticmethod
    def usable_anchor(value: str | None) -> bool:
        """Whether a cookie's value can anchor tokens (else the page sets a fresh one)."""
        return value is not None and _ANCHOR.fullmatch(value) is not None

    def token(self, anchor: str) -> str:
        """The form token for an anchor (a session id, or a cookie's random value)."""
        return hmac.new(self.secret, b"csrf:" + anchor.encode(), hashlib.sha256).hexdigest()

    def check(self, anchor: str | None, field: str | None) -> bool:
        """True when the form's token is the one of the browser's anchor (compared in constant time)."""
        if not anchor or not field or len(field) > 128:
            return False
        return hmac.compare_digest(self.token(anchor), field)
