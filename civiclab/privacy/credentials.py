"""Credentials never leave memory: strip `user:password@` and secret query values from URLs.

An `rpc_url: https://lab:s3cret@node.example/` or a tracking URI
`postgresql://mlflow:s3cret@db/mlflow` is needed to connect, but everything civiclab stores or
prints (MLflow params, `manifest.json`, the `spec.yaml` copy, `verify` output, reports, error
messages) is read by people who must not get the password. Every such place passes through
`strip_url_credentials` (one URL), `strip_credentials_in` (a nested structure) or `strip_credentials`
(free text that may contain URLs, such as an exception message).
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

MASK = "***"
SECRET_QUERY_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "token",
        "access_token",
        "auth",
        "auth_token",
        "api_key",
        "apikey",
        "key",
        "secret",
        "client_secret",
        "sig",
        "signature",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
    }
)
# scheme://[userinfo@]host...: schemes as RFC 3986 writes them (sqlite:///, postgresql+psycopg://, ...).
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]+")
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/?#@]*)@")


def _strip_query(query: str) -> str:
    if not query:
        return query
    parts = []
    for pair in query.split("&"):
        key, sep, _value = pair.partition("=")
        if sep and urllib.parse.unquote_plus(key).lower() in SECRET_QUERY_KEYS:
            parts.append(f"{key}={MASK}")
        else:
            parts.append(pair)
    return "&".join(parts)


def strip_url_credentials(url: str) -> str:
    """`url` without its password (the user name is kept) and without secret query values.

    >>> strip_url_credentials("http://lab:s3cret@node:8545/?token=abc&chain=1")
    'http://lab:***@node:8545/?token=***&chain=1'
    """
    match = _USERINFO.match(url)
    if match:
        user, sep, _password = match.group("userinfo").partition(":")
        # A lone user part may itself be a token (https://TOKEN@host): mask it unless it is a plain name.
        shown = f"{user}:{MASK}" if sep else (user if re.fullmatch(r"[A-Za-z0-9_.\-]{1,32}", user) else MASK)
        url = f"{match.group('scheme')}{shown}@{url[match.end() :]}"
    head, qmark, rest = url.partition("?")
    if not qmark:
        return url
    query, hash_, fragment = rest.partition("#")
    return f"{head}?{_strip_query(query)}{hash_}{fragment}"


def strip_credentials(text: str) -> str:
    """`text` with every URL in it passed through `strip_url_credentials`."""
    if "://" not in text:
        return text
    return _URL.sub(lambda m: strip_url_credentials(m.group(0)), text)


def strip_credentials_in(value: Any) -> Any:
    """A copy of a nested structure (dicts, lists, strings), every URL in its strings without credentials."""
    if isinstance(value, str):
        return strip_credentials(value)
    if isinstance(value, dict):
        return {k: strip_credentials_in(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(strip_credentials_in(v) for v in value)
    return value


def has_credentials(url: str) -> bool:
    """Whether a URL carries a password or a secret query value."""
    return strip_url_credentials(url) != url
