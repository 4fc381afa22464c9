"""Reading the provider at the desk's start-up: its discovery document, then its keys."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from civiclab.desk.oidc.flow import HTTP_TIMEOUT_S, OidcSignIn
from civiclab.desk.oidc.settings import OidcSettings, ProviderMetadata, check_url
from civiclab.desk.oidc.tokens import ALGORITHMS, key_set
from civiclab.errors import SpecError

DISCOVERY_PATH = "/.well-known/openid-configuration"


def discover(settings: OidcSettings) -> OidcSignIn:
    """Read the provider's discovery document and keys: the desk's sign-in, ready to serve.

    Raises:
        SpecError: the provider is unreachable, or its document is not one the desk can use.
    """
    url = settings.issuer.rstrip("/") + DISCOVERY_PATH
    raw = _get_json(url)
    try:
        metadata = ProviderMetadata.model_validate(raw)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise SpecError("desk", "--oidc-issuer", f"{url}: {where}: {exc.errors()[0]['msg']}") from None
    if metadata.issuer != settings.issuer:
        raise SpecError(
            "desk",
            "--oidc-issuer",
            f"the provider at {url} names itself {metadata.issuer!r}: use exactly that",
        )
    for endpoint in (metadata.authorization_endpoint, metadata.token_endpoint, metadata.jwks_uri):
        check_url("--oidc-issuer", endpoint)
    if metadata.userinfo_endpoint:
        check_url("--oidc-issuer", metadata.userinfo_endpoint)
    if "code" not in metadata.response_types_supported:
        raise SpecError("desk", "--oidc-issuer", "the provider does not offer the authorization code flow")
    methods = metadata.code_challenge_methods_supported
    if methods is not None and "S256" not in methods:
        raise SpecError("desk", "--oidc-issuer", "the provider does not offer PKCE with S256")
    if not set(metadata.id_token_signing_alg_values_supported) & set(ALGORITHMS):
        raise SpecError(
            "desk", "--oidc-issuer", "the provider signs ID tokens with no algorithm the desk accepts"
        )
    return OidcSignIn(settings, metadata, key_set(_get_json(metadata.jwks_uri)))


def _get_json(url: str) -> Any:
    import httpx

    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT_S, headers={"accept": "application/json"})
        response.raise_for_status()
        return response.json()
    except httpx.HTTPError as exc:
        why = " ".join(str(exc).split()) or type(exc).__name__
        raise SpecError("desk", "--oidc-issuer", f"cannot read {url}: {why}") from None
    except ValueError:
        raise SpecError("desk", "--oidc-issuer", f"{url} did not answer JSON") from None
