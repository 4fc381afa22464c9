"""Signing in to the desk with the administration's OpenID Connect provider (authorization code, PKCE S256).

The flow, and what each step refuses:

1. `/login/oidc`: a fresh `state`, `nonce` and PKCE verifier are kept on the server for 10 minutes, bound
   to a random cookie of this browser; the browser goes to the provider's authorization endpoint.
2. `/login/oidc/callback`: the `state` is taken (once: a replayed callback, a state of another browser or
   an expired one is refused), the code is exchanged for tokens by Authlib's OAuth 2 client (with the
   verifier; the desk authenticates with its client secret), and the ID token is verified by joserfc
   against the provider's published keys: signature, issuer, audience, expiry and nonce.
3. One claim (`preferred_username`, or a verified e-mail at the lab's domain) names a desk account that
   must already exist (`civiclab desk user add`). The provider never creates an account and never gives
   signing rights: a member still signs with the key that their own desk password opens.

The provider is read at start-up (`discover`): an unreachable or inconsistent provider stops the desk
with one line naming the setting.
"""

from civiclab.desk.oidc.discovery import discover
from civiclab.desk.oidc.flow import (
    FLOW_COOKIE,
    SIGN_IN_TTL_S,
    OidcSignIn,
    PendingSignIn,
    PendingSignIns,
    SignInRefused,
)
from civiclab.desk.oidc.settings import (
    CALLBACK_PATH,
    SECRET_SETTING,
    OidcSettings,
    ProviderMetadata,
    settings_from_flags,
)
from civiclab.desk.oidc.tokens import IdTokenRejected, verify_id_token

__all__ = [
    "CALLBACK_PATH",
    "FLOW_COOKIE",
    "SECRET_SETTING",
    "SIGN_IN_TTL_S",
    "IdTokenRejected",
    "OidcSettings",
    "OidcSignIn",
    "PendingSignIn",
    "PendingSignIns",
    "ProviderMetadata",
    "SignInRefused",
    "discover",
    "settings_from_flags",
    "verify_id_token",
]
