"""How the desk signs in with a provider: its settings (flags, the secret from the environment) and what
the provider's discovery document tells the desk."""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from civiclab.errors import SpecError

CALLBACK_PATH = "/login/oidc/callback"
SECRET_SETTING = "CIVICLAB_DESK_OIDC_SECRET"

AccountClaim = Literal["preferred_username", "email"]


class OidcSettings(BaseModel):
    """How the desk signs in with the provider (`civiclab desk --oidc-*`, the secret from the environment)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    redirect_base: str
    account_claim: AccountClaim = "preferred_username"
    email_domain: str | None = None
    role_claim: str | None = None
    name: str = ""
    only: bool = False

    @property
    def redirect_uri(self) -> str:
        return self.redirect_base.rstrip("/") + CALLBACK_PATH

    @property
    def shown_name(self) -> str:
        """What the button says: "Sign in with <this>"."""
        return self.name or urlsplit(self.issuer).hostname or self.issuer


class ProviderMetadata(BaseModel):
    """The part of the provider's discovery document the desk uses."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    response_types_supported: list[str] = Field(default_factory=lambda: ["code"])
    code_challenge_methods_supported: list[str] | None = None
    id_token_signing_alg_values_supported: list[str] = Field(default_factory=lambda: ["RS256"])


def settings_from_flags(
    *,
    issuer: str | None,
    client_id: str | None,
    redirect_base: str | None,
    account_claim: str = "preferred_username",
    email_domain: str | None = None,
    role_claim: str | None = None,
    name: str | None = None,
    only: bool = False,
) -> OidcSettings | None:
    """The sign-in settings of `civiclab desk`, None without `--oidc-issuer`.

    Raises:
        SpecError: a flag missing or malformed, or the client secret not in CIVICLAB_DESK_OIDC_SECRET.
    """
    from civiclab.home import text_setting

    if not issuer:
        given = [flag for flag, value in (("--oidc-client-id", client_id), ("--oidc-only", only)) if value]
        if given:
            raise SpecError("desk", "--oidc-issuer", f"{given[0]} needs the identity provider's issuer URL")
        return None
    for flag, value in (("--oidc-issuer", issuer), ("--oidc-redirect-base", redirect_base)):
        if not value:
            raise SpecError("desk", flag, "needed to sign in with an identity provider")
        check_url(flag, value)
    if not client_id:
        raise SpecError("desk", "--oidc-client-id", "needed to sign in with an identity provider")
    if account_claim == "email" and not email_domain:
        raise SpecError(
            "desk", "--oidc-email-domain", "needed with --oidc-claim email (the lab's e-mail domain)"
        )
    secret = text_setting(SECRET_SETTING)
    if not secret:
        raise SpecError(
            "desk", SECRET_SETTING, "set it to the client secret the identity provider gave the desk"
        )
    return OidcSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=SecretStr(secret),
        redirect_base=str(redirect_base),
        account_claim=account_claim,  # type: ignore[arg-type]  # argparse's choices
        email_domain=email_domain.lower().lstrip("@") if email_domain else None,
        role_claim=role_claim or None,
        name=name or "",
        only=only,
    )


def check_url(what: str, url: str) -> None:
    """Refuse a URL that is not https (plain http only to this machine), or carries a password or fragment."""
    parts = urlsplit(url)
    local = parts.hostname == "localhost" or _is_loopback(parts.hostname or "")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise SpecError("desk", what, f"{url!r} must be an https URL (plain http only on this machine)")
    if not parts.hostname or parts.username or parts.password or parts.fragment:
        raise SpecError("desk", what, f"{url!r} must be a plain URL: a host, no user name, no #fragment")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
