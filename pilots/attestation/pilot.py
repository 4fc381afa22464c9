"""The attestation pilot: a town hall issues attestations on chain; banks and employers verify them.

One session is one citizen's attestation, from request to a verifier's check. The town hall batches
requests into issuance windows (consecutive sessions, up to `batch_size` or `max_batch_wait_s`) and
anchors one Merkle root per window; with `strategy: per_document` every window holds one document.
Each session then shows a verifier a document and its attestation file, genuine or not (the
scenario mix of the spec), and records the verdict. Events carry hashes and verdicts only.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field

from civiclab import (
    ChainError,
    EventLog,
    Pilot,
    PilotContext,
    PilotError,
    PilotFacts,
    SessionPlan,
    SessionRecord,
    pilot,
    sample_plans,
)
from civiclab.evm import ANCHOR_STORAGE_BYTES, REVOKE_STORAGE_BYTES
from pilots.attestation.credential import AttestationFile, build_attestation, hex32, iso_time, verify
from pilots.attestation.dataintegrity import did_key, issuer_signing_key
from pilots.attestation.documents import (
    GENERATED,
    SYNTHETIC_NOTICE,
    document_digest,
    document_salt,
    personal_values,
    synthetic_document,
)
from pilots.attestation.eas import EAS_STORAGE_BYTES, EasRegistry
from pilots.attestation.http_service import AttestationService, HttpAttestationSystem
from pilots.attestation.http_session import ServiceFacts, service_session
from pilots.attestation.merkle import MerkleTree, leaf_hash
from pilots.attestation.params import EXPECTED, ISSUED, REVOKED, TIME_DEPENDENT, AttestationParams
from pilots.attestation.people import can_present, verifier_handling_s
from pilots.attestation.prepared import Prepared
from pilots.attestation.registries import impostor_attempt, open_registry
from pilots.attestation.tampering import present
from pilots.attestation.windows import Issuance, Window, weighted

K = TypeVar("K", bound=str)
VERIFIER = {"residence": "bank", "civil_status": "notary", "diploma": "employer"}
DAY_S = 86_400.0


class AttestationFacts(PilotFacts):
    """What the attestation pilot tells evaluators about its chain, its costs and its personal values."""

    chain: str
    chain_id: int
    registry: str
    strategy: str
    batch_size: int
    setup_gas: int = Field(description="gas of deploying and authorising, outside every attestation")
    setup_transactions: int
    impostor_attempt: str
    onchain_blobs: list[tuple[str, bytes]] = Field(description="(where, bytes) of every tx input and log")
    onchain_storage: dict[bytes, bytes] | None = Field(description="storage slots, None where unreadable")
    onchain_storage_method: str
    personal_values: list[str] = Field(
        exclude=True, repr=False, description="every personal value of the documents: in memory only"
    )


@pilot("attestation", params=AttestationParams)
class AttestationPilot(Pilot[AttestationParams]):
    """Blockchain attestations: issue (per document or Merkle batch), revoke, verify, on an EVM chain."""

    # Sessions send transactions: replaying them would anchor twice, so the runner must not replay.
    replayable = False
    # Issuance windows (built by `plans`) and the issuer's nonces live in one process.
    parallel = False

    def __init__(self, params: AttestationParams, context: PilotContext) -> None:
        super().__init__(params, context)
        self.personal_values: dict[str, None] = {}  # every value generated, in order, once
        self.windows: list[Window] = []
        self.window_of: dict[str, int] = {}
        self.prepared: dict[str, Prepared] = {}
        self.samples: list[dict[str, Any]] = []

    def setup(self) -> None:
        p = self.params
        self.service = AttestationService(p.system) if isinstance(p.system, HttpAttestationSystem) else None
        if self.service is not None:
            return  # the lab's own service: no chain, no registry of civiclab's
        self.chain, self.registry, self.setup_txs = open_registry(p)
        self.start_block = self.chain.head - len(self.setup_txs)
        self.issuer = self.chain.sender
        self.signing_key = issuer_signing_key(None if p.salts == "random" else self.context.pseudonym_salt)
        self.issuer_did = did_key(self.signing_key.public_key().public_bytes_raw())
        # What the verifiers trust: the town hall's did:key, and its account on the registry.
        self.trusted = {self.issuer_did: self.issuer}
        self.impostor, self.impostor_attempt = impostor_attempt(self.chain, self.registry)

    def plans(self, sessions: int, seed: int) -> list[SessionPlan]:
        """The same plans the runner would sample, cut into the town hall's issuance windows.

        Runs after `setup` in the one process that runs the sessions (the pilot is not `parallel`).
        """
        plans = sample_plans(self.context.personas, sessions, seed)
        window: list[SessionPlan] = []
        for plan in plans:
            too_long = window and self._gap_s(window[0], plan) > self.params.max_batch_wait_s
            if window and (len(window) >= self.params.batch_size or too_long):
                self._add_window(window)
                window = []
            window.append(plan)
        if window:
            self._add_window(window)
        return plans

    def _gap_s(self, first: SessionPlan, later: SessionPlan) -> float:
        """Seconds between two requests on the sessions' own clock."""
        return (self.session_start(later) - self.session_start(first)).total_seconds()

    def _add_window(self, plans: list[SessionPlan]) -> None:
        for plan in plans:
            self.window_of[plan.session_id] = len(self.windows)
        self.windows.append(Window(plans))

    def _prepare(self, plan: SessionPlan) -> Prepared:
        if plan.session_id in self.prepared:
            return self.prepared[plan.session_id]
        rng = random.Random(plan.seed)
        scenario = weighted(rng, self.params.scenarios)
        kind = weighted(rng, self.params.kinds)
        document = synthetic_document(kind, rng)
        self.personal_values.update(dict.fromkeys(personal_values(document)))
        if self.params.salts == "random":
            salt = secrets.token_bytes(32)
        else:
            salt = document_salt(self.context.pseudonym_salt, plan.session_id, plan.seed)
        digest = document_digest(salt, document)
        prepared = Prepared(plan, scenario, kind, document, salt, digest, leaf_hash(digest))
        self.prepared[plan.session_id] = prepared
        return prepared

    def _issue(self, window: Window) -> None:
        """Anchor one root for every attestation the town hall issues in `window` (one transaction)."""
        window.done = True
        batch = [self._prepare(plan) for plan in window.plans]
        issued = [b for b in batch if b.scenario in ISSUED]
        if not issued:
            return
        tree = MerkleTree([b.leaf for b in issued])
        head = self.chain.head
        eas = isinstance(self.registry, EasRegistry)
        try:
            if isinstance(self.registry, EasRegistry):  # one attestation per leaf: its root is the leaf
                tx = self.registry.attest_leaves([b.leaf for b in issued])
            else:
                tx = self.registry.anchor(tree.root, len(issued), "")
        except ChainError as exc:
            window.error = str(exc)
            return
        last = window.plans[-1]
        anchored_at = self.registry.block_time(tx.block_number)
        for i, b in enumerate(issued):
            window.issued[b.plan.session_id] = Issuance(
                root=b.leaf if eas else tree.root,
                proof=[] if eas else tree.proof(i),
                tx=tx,
                batch_size=len(issued),
                wait_s=self._gap_s(b.plan, last),
                head_before=head,
                anchored_at=anchored_at,
            )

    def run_session(self, plan: SessionPlan) -> SessionRecord:
        if self.service is not None:
            return service_session(
                self.service, self.params, plan, self._prepare(plan), self.session_start(plan)
            )
        if plan.session_id not in self.window_of:
            raise PilotError(
                "the attestation pilot runs only the sessions of its own plans (its issuance windows)"
            )
        window = self.windows[self.window_of[plan.session_id]]
        if not window.done:
            self._issue(window)
        prep = self._prepare(plan)
        log = EventLog(plan.session_id, self.session_start(plan))
        data: dict[str, Any] = {
            "scenario": prep.scenario,
            "kind": prep.kind,
            "expected": EXPECTED[prep.scenario],
            "strategy": self.params.strategy,
            "issued": False,
            "time_dependent": prep.scenario in TIME_DEPENDENT,
            "can_present": can_present(plan.segment, self.params.people, on_paper=False),
        }
        at = 0.0
        issuance = window.issued.get(plan.session_id)
        if prep.scenario in ISSUED:
            log.add("attestation.requested", "citizen", 0.0, document_kind=prep.kind)
            if issuance is None:
                log.add("attestation.issue_failed", "town_hall", 1.0, error=window.error or "not issued")
                return SessionRecord(
                    session_id=plan.session_id, persona_id=plan.persona_id, segment=plan.segment,
                    channel_path=["online"], events=log.events, outcome="failed", data=data,
                    error=window.error or "attestation not issued",
                )  # fmt: skip
            blocks = issuance.tx.block_number - issuance.head_before
            at = issuance.wait_s + blocks * self.params.block_time_s
            tx = issuance.tx
            data.update(
                issued=True,
                leaf=hex32(prep.leaf),
                root=hex32(issuance.root),
                batch_size=issuance.batch_size,
                anchor_tx=tx.tx_hash,
                anchor_block=tx.block_number,
                blocks_to_verifiable=blocks,
                latency_s=at,
                gas=tx.gas_used / issuance.batch_size,
                transactions=1 / issuance.batch_size,
                onchain_bytes=(tx.input_bytes + tx.log_bytes + self._storage_bytes(issuance))
                / issuance.batch_size,
                gas_price_wei=tx.effective_gas_price,
            )
            log.add(
                "attestation.issued", "town_hall", at, leaf=data["leaf"], root=data["root"],
                batch_size=issuance.batch_size, tx=tx.tx_hash, block=tx.block_number,
            )  # fmt: skip
        revoked_at = 0
        if prep.scenario in REVOKED and issuance is not None:
            at += DAY_S
            try:
                rtx = (
                    self.registry.revoke_leaf(prep.leaf)
                    if isinstance(self.registry, EasRegistry)
                    else self.registry.revoke(issuance.root, prep.leaf)
                )
            except ChainError as exc:
                log.add("attestation.revoke_failed", "town_hall", at, error=str(exc))
                return SessionRecord(
                    session_id=plan.session_id, persona_id=plan.persona_id, segment=plan.segment,
                    channel_path=["online"], events=log.events, outcome="failed", data=data, error=str(exc),
                )  # fmt: skip
            revoked_at = self.registry.block_time(rtx.block_number)
            data.update(
                revocation_gas=rtx.gas_used,
                revocation_bytes=rtx.input_bytes + rtx.log_bytes + REVOKE_STORAGE_BYTES,
            )
            log.add(
                "attestation.revoked",
                "town_hall",
                at,
                leaf=data["leaf"],
                tx=rtx.tx_hash,
                block=rtx.block_number,
            )

        attestation = self._attestation(prep, issuance)
        document, credential = present(
            prep, attestation, self.impostor, self.registry, random.Random(plan.seed + 1), self.issuer_did
        )
        verifier = VERIFIER[prep.kind]
        at += 2 * DAY_S
        checked_at = self._checked_at(prep.scenario, issuance, revoked_at)
        started = time.perf_counter()
        try:
            verdict = verify(document, credential, self.registry, self.trusted, at=checked_at)
        except ChainError as exc:
            log.add("attestation.verify_failed", verifier, at, error=str(exc))
            return SessionRecord(
                session_id=plan.session_id, persona_id=plan.persona_id, segment=plan.segment,
                channel_path=["online", verifier], events=log.events, outcome="failed", data=data, error=str(exc),
            )  # fmt: skip
        verify_s = time.perf_counter() - started
        data.update(
            verdict="accept" if verdict.accepted else "reject",
            reason=verdict.reason,
            verifier=verifier,
            verifier_handling_s=verifier_handling_s(self.params.people, 0),
        )
        data["correct"] = data["verdict"] == data["expected"]
        log.add(
            "attestation.verified", verifier, at, verdict=data["verdict"], reason=verdict.reason,
            expected=data["expected"], scenario=prep.scenario,
        )  # fmt: skip
        if len(self.samples) < self.params.sample_credentials and prep.scenario == "genuine":
            self.samples.append(_withhold_salt(credential))
        return SessionRecord(
            session_id=plan.session_id,
            persona_id=plan.persona_id,
            segment=plan.segment,
            channel_path=["online", verifier],
            events=log.events,
            outcome="completed",
            duration_s=at,
            data=data,
            timings={"verify_s": verify_s},
        )

    def _checked_at(self, scenario: str, issuance: Issuance | None, revoked_at: int) -> int:
        """The time (chain clock) the verifier asks about: now, or after expiry, or just before revocation."""
        if issuance is not None and scenario == "expired":
            return issuance.anchored_at + self.validity_s + int(DAY_S)
        if issuance is not None and scenario == "checked_before_revocation":
            # "Was it valid when the deed was signed?": a time after anchoring, before the revocation.
            return max(issuance.anchored_at, revoked_at - 1)
        return self.registry.block_time("latest")

    def _storage_bytes(self, issuance: Issuance) -> int:
        # civiclab's registry stores one root per batch; EAS stores every attestation.
        eas = isinstance(self.registry, EasRegistry)
        return EAS_STORAGE_BYTES * issuance.batch_size if eas else ANCHOR_STORAGE_BYTES

    @property
    def validity_s(self) -> int:
        return int(self.params.validity_days * DAY_S)

    def _attestation(self, prep: Prepared, issuance: Issuance | None) -> AttestationFile | None:
        if issuance is None:
            return None
        return build_attestation(
            signing_key=self.signing_key,
            kind=prep.kind,
            digest=prep.digest,
            salt=prep.salt,
            root=issuance.root,
            path=issuance.proof,
            issuer=self.issuer,
            registry=self.registry,
            valid_from=iso_time(issuance.anchored_at),
            valid_until=iso_time(issuance.anchored_at + self.validity_s),
            anchor_tx=issuance.tx.tx_hash,
            anchor_block=issuance.tx.block_number,
            description=SYNTHETIC_NOTICE,
        )

    def close(self) -> None:
        service = getattr(self, "service", None)
        if service is not None:
            service.close()

    def run_facts(self) -> AttestationFacts | ServiceFacts:
        if self.service is not None:
            return ServiceFacts(personal_values=list(self.personal_values), synthetic=GENERATED)
        blobs = list(self.chain.onchain_blobs(self.start_block))
        storage, storage_method = self.chain.storage(self.registry.address)
        return AttestationFacts(
            chain=self.chain.label,
            chain_id=self.chain.chain_id,
            registry=self.registry.address,
            strategy=self.params.strategy,
            batch_size=self.params.batch_size,
            setup_gas=sum(t.gas_used for t in self.setup_txs),
            setup_transactions=len(self.setup_txs),
            impostor_attempt=self.impostor_attempt,
            onchain_blobs=blobs,
            onchain_storage=storage,
            onchain_storage_method=storage_method,
            personal_values=list(self.personal_values),
            synthetic=GENERATED,
        )

    def run_artifacts(self, records: Collection[SessionRecord], out_dir: Path) -> list[Path]:
        folder = out_dir / "attestation"
        folder.mkdir(parents=True, exist_ok=True)
        if self.service is not None:
            (folder / "service.json").write_text(json.dumps({"system": self.service.name}), encoding="utf-8")
            return [folder / "service.json"]
        chain = {
            "chain": self.chain.label,
            "chain_id": self.chain.chain_id,
            "registry": self.registry.address,
            "registry_source": "civiclab/evm/contracts/AttestationRegistry.vy",
            "issuer": self.issuer,
            "issuer_did": self.issuer_did,
            "strategy": self.params.strategy,
            "batch_size": self.params.batch_size,
            "setup_transactions": [t.tx_hash for t in self.setup_txs],
            "impostor_attempt": self.impostor_attempt,
            "batches": sorted(
                {
                    (i.tx.tx_hash, hex32(i.root), i.batch_size, i.tx.block_number, i.tx.gas_used)
                    for w in self.windows
                    for i in w.issued.values()
                },
                key=lambda b: b[3],
            ),
        }
        paths = [folder / "chain.json", folder / "sample_attestations.json"]
        paths[0].write_text(json.dumps(chain, indent=1), encoding="utf-8")
        samples = {"synthetic": SYNTHETIC_NOTICE, "credentials": self.samples}
        paths[1].write_text(json.dumps(samples, indent=1, ensure_ascii=False), encoding="utf-8")
        return paths


def _withhold_salt(credential: Any) -> dict[str, Any]:
    data = credential.as_json() if isinstance(credential, AttestationFile) else dict(credential)
    # Withholding the salt breaks the signature: the sample shows the shape, not a credential to verify.
    data["evidence"] = [{**e, "salt": "[withheld: travels with the document only]"} for e in data["evidence"]]
    return data
