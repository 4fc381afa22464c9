"""One sign-in from begin to end: the pending states (single use, 10 minutes), the code exchange with
Authlib's OAuth 2 client, the ID token's checks, and the claims that name a desk account."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from civiclab.desk.oidc.settings import OidcSettings, ProviderMetadata
from civiclab.desk.oidc.tokens import ALGORITHMS, IdTokenRejected, UnknownSigningKey, key_set, verify_id_token
from civiclab.errors import SpecError

# The flow's cookie is SameSite=Lax, unlike the desk's others: the provider's redirect back to the
# callback is a cross-site navigation, which never carries a Strict cookie.
FLOW_COOKIE = "civiclab_desk_oidc"
SIGN_IN_TTL_S = 600
MAX_PENDING = 10_000
HTTP_TIMEOUT_S = 10.0
KEYS_REFRESH_S = 60.0
SCOPES = "openid profile email"


class SignInRefused(Exception):
    """A sign-in the desk refused: `reason` is a message key of `civiclab.desk.i18n`, `values` fill it."""

    def __init__(self, reason: str, **values: str) -> None:
        super().__init__(reason, values)
        self.reason = reason
        self.values = values


@dataclass(frozen=True)
class PendingSignIn:
    """One sign-in begun by a browser: what the callback must match, and where to go after."""

    binding: str
    nonce: str
    verifier: str
    next: str
    created: float


@dataclass
class PendingSignIns:
    """Sign-ins begun and not finished, by `state`: each taken once, and forgotten after 10 minutes."""

    ttl_s: float = SIGN_IN_TTL_S
    limit: int = MAX_PENDING
    clock: Callable[[], float] = time.monotonic
    _by_state: dict[str, PendingSignIn] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, state: str, pending: PendingSignIn) -> None:
        with self._lock:
            self._forget_expired()
            if len(self._by_state) >= self.limit:  # the oldest goes: a flood cannot grow memory
                self._by_state.pop(next(iter(self._by_state)))
            self._by_state[state] = pending

    def take(self, state: str, binding: str | None) -> PendingSignIn:
        """The sign-in begun with `state` by this browser (its cookie `binding`), removed: it never serves twice.

        Raises:
            SignInRefused: an unknown, used or expired state, or one begun in another browser.
        """
        with self._lock:
            self._forget_expired()
            pending = self._by_state.pop(state, None) if state else None
        if pending is None or not binding or not secrets.compare_digest(pending.binding, binding):
            raise SignInRefused("oidc_expired")
        return pending

    def __len__(self) -> int:
        return len(self._by_state)

    def _forget_expired(self) -> None:
        cutoff = self.clock() - self.ttl_s
        for state in [s for s, p in self._by_state.items() if p.created < cutoff]:
            del self._by_state[state]


class OidcSignIn:
    """The desk's sign-in with one provider: begins flows, and finishes them into verified claims."""

    def __init__(self, settings: OidcSettings, metadata: ProviderMetadata, keys: Any) -> None:
        self.settings = settings
        self.metadata = metadata
        self.keys = keys
        self.pending = PendingSignIns()
        self.algorithms = tuple(a for a in metadata.id_token_signing_alg_values_supported if a in ALGORITHMS)
        self._keys_read = time.monotonic()

    @property
    def name(self) -> str:
        return self.settings.shown_name

    @property
    def only(self) -> bool:
        return self.settings.only

    def begin(self, next_path: str) -> tuple[str, str]:
        """The provider's authorization URL for a new sign-in, and the value of this browser's flow cookie."""
        from authlib.common.security import generate_token
        from authlib.oauth2.client import OAuth2Client

        state, nonce, binding = (secrets.token_urlsafe(32) for _ in range(3))
        verifier = generate_token(64)
        self.pending.put(state, PendingSignIn(binding, nonce, verifier, next_path, time.monotonic()))
        client = OAuth2Client(
            None,
            client_id=self.settings.client_id,
            scope=SCOPES,
            redirect_uri=self.settings.redirect_uri,
            code_challenge_method="S256",
        )
        url, _ = client.create_authorization_url(
            self.metadata.authorization_endpoint, state=state, code_verifier=verifier, nonce=nonce
        )
        return str(url), binding

    async def finish(self, params: Mapping[str, str], binding: str | None) -> tuple[dict[str, Any], str]:
        """The verified claims of the person the provider sent back, and where they were going.

        Raises:
            SignInRefused: the state is not this browser's pending one, the provider refused, the code
                does not exchange, or the ID token does not verify.
        """
        pending = self.pending.take(params.get("state", ""), binding)
        if params.get("error"):
            raise SignInRefused("oidc_provider_refused", why=params["error"][:80])
        # RFC 9207: an answer that names another issuer comes from another provider (a mix-up attack).
        if "iss" in params and params["iss"] != self.settings.issuer:
            raise SignInRefused("oidc_bad_token", why="the response comes from another issuer")
        if not params.get("code"):
            raise SignInRefused("oidc_provider_refused", why="no code")
        async with self._client() as client:
            token = await self._exchange(client, params["code"], pending.verifier)
            id_token = token.get("id_token")
            if not isinstance(id_token, str):
                raise SignInRefused("oidc_bad_token", why="the provider sent no ID token")
            claims = await self._verified(id_token, pending.nonce)
            if self._missing(claims) and self.metadata.userinfo_endpoint:
                claims = await self._with_userinfo(client, claims)
        return claims, pending.next

    def account_name(self, claims: Mapping[str, Any]) -> str:
        """The desk account the claims name (not yet checked to exist).

        Raises:
            SignInRefused: the claim is missing, or the e-mail is unverified or of another domain.
        """
        if self.settings.account_claim == "email":
            email = claims.get("email")
            if not isinstance(email, str) or "@" not in email:
                raise SignInRefused("oidc_no_claim", claim="email")
            if claims.get("email_verified") is not True:
                raise SignInRefused("oidc_unverified_email", email=email)
            local, _, domain = email.rpartition("@")
            if domain.lower() != self.settings.email_domain:
                raise SignInRefused("oidc_no_account", name=email)
            return local
        name = claims.get(self.settings.account_claim)
        if not isinstance(name, str) or not name:
            raise SignInRefused("oidc_no_claim", claim=self.settings.account_claim)
        return name

    def check_role(self, claims: Mapping[str, Any], name: str, role: str) -> None:
        """With a role claim set, the provider must give the account's own desk role: it can only refuse.

        Raises:
            SignInRefused: the claim is missing or does not hold `role`.
        """
        claim = self.settings.role_claim
        if claim is None:
            return
        given = claims.get(claim)
        roles = [given] if isinstance(given, str) else given if isinstance(given, list) else []
        if role not in roles:
            raise SignInRefused("oidc_role", name=name, role=role)

    # The exchange with the provider ----------------------------------------------------------------

    def _client(self) -> Any:
        from authlib.integrations.httpx_client import AsyncOAuth2Client

        return AsyncOAuth2Client(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret.get_secret_value(),
            token_endpoint_auth_method="client_secret_basic",
            redirect_uri=self.settings.redirect_uri,
            code_challenge_method="S256",
            timeout=HTTP_TIMEOUT_S,
        )

    async def _exchange(self, client: Any, code: str, verifier: str) -> dict[str, Any]:
        from authlib.integrations.base_client import OAuthError

        try:
            token = await client.fetch_token(
                self.metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
            )
        except OAuthError as exc:
            raise SignInRefused("oidc_provider_refused", why=str(exc.error)[:80]) from None
        except Exception as exc:  # the provider unreachable, or an answer that is not a token
            raise SignInRefused("oidc_provider_refused", why=type(exc).__name__) from None
        return dict(token)

    async def _verified(self, id_token: str, nonce: str) -> dict[str, Any]:
        def check() -> dict[str, Any]:
            return verify_id_token(
                id_token,
                self.keys,
                issuer=self.settings.issuer,
                client_id=self.settings.client_id,
                nonce=nonce,
                algorithms=self.algorithms,
            )

        try:
            try:
                return check()
            except UnknownSigningKey:
                # The provider may have rotated its keys: read them again (at most once a minute), then retry.
                if time.monotonic() - self._keys_read < KEYS_REFRESH_S:
                    raise
            await self._reload_keys()
            return check()
        except IdTokenRejected as exc:
            raise SignInRefused("oidc_bad_token", why=f"the ID token {exc}") from None

    async def _reload_keys(self) -> None:
        import httpx

        self._keys_read = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
                response = await http.get(self.metadata.jwks_uri)
                response.raise_for_status()
                self.keys = key_set(response.json())
        except (httpx.HTTPError, ValueError, SpecError):
            raise SignInRefused("oidc_provider_refused", why="its keys cannot be read") from None

    def _missing(self, claims: Mapping[str, Any]) -> bool:
        needed = (
            ["email", "email_verified"] if self.settings.account_claim == "email" else ["preferred_username"]
        )
        if self.settings.role_claim:
            needed.append(self.settings.role_claim)
        return any(name not in claims for name in needed)

    async def _with_userinfo(self, client: Any, claims: dict[str, Any]) -> dict[str, Any]:
        """The ID token's claims completed from the userinfo endpoint, which must speak of the same subject."""
        try:
            response = await client.get(self.metadata.userinfo_endpoint)
            response.raise_for_status()
            info = response.json()
        except Exception as exc:  # unreachable, refused, or not JSON
            raise SignInRefused("oidc_provider_refused", why=f"userinfo: {type(exc).__name__}") from None
        if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
            raise SignInRefused("oidc_bad_token", why="userinfo speaks of another subject")
        # What the signed ID token says wins over the userinfo answer.
        return {**info, **claims}
