"""ID tokens: verified with joserfc against the provider's published keys, never by hand."""

from __future__ import annotations

from typing import Any

from civiclab.errors import SpecError

LEEWAY_S = 60
# Signatures by the provider's published keys only: never `none`, nor an HMAC under the client secret.
ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "Ed25519",
)


class IdTokenRejected(Exception):
    """An ID token that does not verify, with what is wrong with it."""


class UnknownSigningKey(IdTokenRejected):
    """An ID token signed with a key id the provider's key set (as last read) does not hold."""


def key_set(raw: Any) -> Any:
    """The provider's published keys (its JWKS document) as a joserfc KeySet.

    Raises:
        SpecError: the document holds no key the desk can use.
    """
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    try:
        return KeySet.import_key_set(raw)
    except (JoseError, ValueError, TypeError, KeyError):
        raise SpecError("desk", "--oidc-issuer", "the provider's jwks_uri holds no usable key set") from None


def verify_id_token(
    id_token: str,
    keys: Any,
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    algorithms: tuple[str, ...] = ALGORITHMS,
    now: int | None = None,
    leeway: int = LEEWAY_S,
) -> dict[str, Any]:
    """The claims of an ID token signed by one of `keys` (a joserfc KeySet), for this client and nonce.

    Raises:
        IdTokenRejected: a bad signature or algorithm, or a claim that does not match (issuer, audience,
            expiry, issue time, nonce, subject, authorized party).
    """
    from joserfc import jwt
    from joserfc.errors import ExpiredTokenError, InvalidClaimError, InvalidKeyIdError, JoseError

    try:
        token = jwt.decode(id_token, keys, algorithms=[a for a in algorithms if a in ALGORITHMS])
    except InvalidKeyIdError:
        raise UnknownSigningKey("signed with a key the provider does not publish") from None
    except JoseError as exc:
        raise IdTokenRejected(f"does not verify ({exc.error})") from None
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=leeway,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise IdTokenRejected("has expired") from None
    except InvalidClaimError as exc:
        raise IdTokenRejected(f"has a wrong {exc.claim!r}") from None
    except JoseError as exc:
        raise IdTokenRejected(f"is incomplete ({exc.description})") from None
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
        raise IdTokenRejected("is meant for another party ('azp')")
    return dict(claims)
