"""A stand-in for a lab's credential service behind HTTP: issue, revoke and verify, on 127.0.0.1.

It signs W3C credentials (eddsa-jcs-2022) with its own key, keeps revocation times in memory, and answers
"was this credential valid at time T for this document?". Its reply shapes are its own (`id`, `vc`,
`verified`, `problem`): the pilot reads them through the JMESPath paths of the experiment.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pilots.attestation.dataintegrity import add_proof, did_key, issuer_signing_key, verify_signature
from pilots.attestation.documents import MalformedDocument, document_digest, parse_document

KEY = issuer_signing_key("stand-in service of a lab")
DID = did_key(KEY.public_key().public_bytes_raw())


def _time(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp).timestamp()


class Service:
    def __init__(self) -> None:
        self.revoked: dict[str, float] = {}
        self.calls = 0

    def issue(self, body: dict[str, Any]) -> dict[str, Any]:
        salt = secrets.token_bytes(32)
        document = parse_document(body["document"])
        credential_id = f"urn:uuid:{secrets.token_hex(16)}"
        unsigned = {
            "@context": ["https://www.w3.org/ns/credentials/v2"], "id": credential_id,
            "type": ["VerifiableCredential"], "issuer": DID, "validFrom": body["validFrom"],
            "validUntil": body["validUntil"],
            "credentialSubject": {"digest": document_digest(salt, document).hex(), "salt": salt.hex()},
        }  # fmt: skip
        return {"id": credential_id, "vc": add_proof(unsigned, KEY, created=body["validFrom"])}

    def revoke(self, body: dict[str, Any]) -> dict[str, Any]:
        self.revoked.setdefault(body["id"], time.time())
        return {"revoked": True}

    def verify(self, body: dict[str, Any]) -> dict[str, Any]:
        vc, at = body["vc"], _time(body["at"])
        if not isinstance(vc, dict) or not verify_signature(vc) or vc.get("issuer") != DID:
            return {"verified": False, "problem": "signature"}
        if not _time(vc["validFrom"]) <= at < _time(vc["validUntil"]):
            return {"verified": False, "problem": "expired"}
        if vc["id"] in self.revoked and self.revoked[vc["id"]] <= at:
            return {"verified": False, "problem": "revoked"}
        try:
            document = parse_document(body["document"])
        except MalformedDocument:
            return {"verified": False, "problem": "malformed document"}
        subject = vc["credentialSubject"]
        if document_digest(bytes.fromhex(subject["salt"]), document).hex() != subject["digest"]:
            return {"verified": False, "problem": "document mismatch"}
        return {"verified": True, "problem": None}


@contextmanager
def stand_in_service() -> Iterator[tuple[str, Service]]:
    """The service's base URL on a free port, and the service (to read its state), for the block's duration."""
    service = Service()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            service.calls += 1
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            action = {"/issue": service.issue, "/revoke": service.revoke, "/verify": service.verify}.get(
                self.path
            )
            if action is None:
                self.send_error(404)
                return
            reply = json.dumps(action(body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", service
    finally:
        server.shutdown()
        server.server_close()
