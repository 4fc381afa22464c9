"""A lab's own credential issuer and verifier behind HTTP (`pilot.params.system: {kind: http}`).

Three endpoints, each a request template in and JMESPath paths out, as the assistant's `http` system:
`issue` (the document in, a credential and its id out), `revoke` (the id in) and `verify` (a document, a
credential and the time asked about in; accepted or not, and why, out). In a template a string that is
exactly a placeholder (`"{document}"`, `"{credential}"`) becomes that JSON value; other strings have their
placeholders filled as text: `{document}`, `{kind}`, `{valid_from}`, `{valid_until}`, `{credential}`,
`{credential_id}`, `{at}` (ISO times) and `{session}`. The service is measured like the built-in registry:
false acceptance and rejection, status-at-time correctness, latency of each call.
"""

from __future__ import annotations

import os
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from civiclab import PilotError, bound_replies, strip_url_credentials
from pilots.assistant.systems.http import fill


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _jmespath(value: str | None) -> str | None:
    if value is not None:
        import jmespath
        from jmespath.exceptions import JMESPathError

        try:
            jmespath.compile(value)
        except JMESPathError as exc:
            raise ValueError(f"not a JMESPath expression: {exc}") from None
    return value


class Endpoint(_Strict):
    """One call of the service: where, how, what to send and what to read back."""

    url: str = Field(pattern=r"^https?://")
    method: Literal["POST", "PUT"] = "POST"
    request: Any = Field(description="JSON template with placeholders")
    response: dict[str, str] = Field(default_factory=dict, description="name -> JMESPath into the reply")

    @field_validator("response")
    @classmethod
    def _paths(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value.values():
            _jmespath(path)
        return value


class HttpAttestationSystem(_Strict):
    """The lab's issuer and verifier. `issue.response` needs `credential` (and `credential_id` for revoking);
    `verify.response` needs `accepted` (a boolean) and may give `reason`."""

    kind: Literal["http"]
    issue: Endpoint
    revoke: Endpoint
    verify: Endpoint
    headers_env: dict[str, str] = Field(
        default_factory=dict, description="header -> env var holding its value"
    )
    timeout_s: float = Field(default=30.0, gt=0, le=600)

    @field_validator("issue")
    @classmethod
    def _issues(cls, value: Endpoint) -> Endpoint:
        if "credential" not in value.response:
            raise ValueError("issue.response must give `credential` (a JMESPath)")
        return value

    @field_validator("verify")
    @classmethod
    def _verifies(cls, value: Endpoint) -> Endpoint:
        if "accepted" not in value.response:
            raise ValueError("verify.response must give `accepted` (a JMESPath)")
        return value


def fill_values(template: Any, values: dict[str, Any]) -> Any:
    """`template` with whole-string placeholders replaced by their JSON value, the others filled as text."""
    if isinstance(template, str) and template.startswith("{") and template.endswith("}"):
        name = template[1:-1]
        if name in values:
            return values[name]
    if isinstance(template, dict):
        return {key: fill_values(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill_values(item, values) for item in template]
    if isinstance(template, str):
        import json

        as_text = {
            k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in values.items()
        }
        return fill(template, as_text)
    return template


class AttestationService:
    """A client of the lab's service; every call returns what the paths read and how long it took."""

    def __init__(self, spec: HttpAttestationSystem) -> None:
        import httpx
        import jmespath

        self.spec = spec
        self.name = f"http:{strip_url_credentials(spec.issue.url)}"
        headers = {"Accept": "application/json"} | {
            h: os.environ.get(env, "") for h, env in spec.headers_env.items()
        }
        self.client = bound_replies(
            httpx.Client(headers=headers, timeout=spec.timeout_s), self.name, deadline_s=spec.timeout_s
        )
        self.paths = {
            name: {k: jmespath.compile(p) for k, p in getattr(spec, name).response.items()}
            for name in ("issue", "revoke", "verify")
        }

    def call(
        self, name: Literal["issue", "revoke", "verify"], values: dict[str, Any]
    ) -> tuple[dict[str, Any], float]:
        """(what the endpoint's paths read in the reply, seconds); raises `PilotError` naming the endpoint."""
        import httpx

        endpoint: Endpoint = getattr(self.spec, name)
        where = f"{name} {strip_url_credentials(endpoint.url)}"
        started = time.perf_counter()
        try:
            reply = self.client.request(
                endpoint.method, endpoint.url, json=fill_values(endpoint.request, values)
            )
        except httpx.HTTPError as exc:
            raise PilotError(f"{where}: {type(exc).__name__}: {exc}") from None
        latency = time.perf_counter() - started
        if reply.status_code >= 400:
            raise PilotError(f"{where}: HTTP {reply.status_code}")
        try:
            data = reply.json()
        except ValueError:
            raise PilotError(f"{where}: the reply is not JSON") from None
        return {k: path.search(data) for k, path in self.paths[name].items()}, latency

    def close(self) -> None:
        self.client.close()
