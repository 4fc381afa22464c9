"""Which reviews count, and what they decide: the trust file's decision rule over verified reviews.

Every surface (`civiclab verify`, its `--json`, the reports, the desk, MLflow's tags, the scorecard's
co-construction dimension) shows the status computed here, from rows read off verified envelopes
(`civiclab.evidence.verify.reviewcheck`). A review by a key the trust file does not list, by an
observer or a former member is listed with the reason it is ignored; it never changes the status.

The rule (`decision:` in the trust file):
- each member's latest review counts (an earlier one is "superseded");
- `quorum` distinct members must have reviewed;
- `chair: required`: no decision without the chair; `chair: decisive`: the chair's decision settles a
  disagreement (and is then required for one);
- on disagreement otherwise, `conflicts: hold` decides nothing, `reject_wins` rejects when anyone
  rejects (else revise), `revise_wins` asks for a revision;
- `acknowledge_conditions: true`: an approval whose conditions no later review acknowledges is
  "awaiting conditions".
"""

from __future__ import annotations

from collections import Counter

from civiclab.evidence.signing.trust import DecisionRule, TrustFile
from civiclab.evidence.verify.result import CommitteeState, CommitteeStatus, ReviewRow

_PAST = {"approve": "approved", "revise": "revise", "reject": "rejected"}
_FR_STATE = {
    "approved": "approuvé",
    "revise": "à réviser",
    "rejected": "rejeté",
}
_FR_DECISION = {"approve": "approuver", "revise": "réviser", "reject": "rejeter"}


def _ignore(rows: list[ReviewRow], trust: TrustFile) -> list[ReviewRow]:
    """Mark each row counted or ignored (with why); return the counted ones, one per member."""
    latest: dict[str, ReviewRow] = {}
    for row in rows:
        row.counted, row.ignored = False, ""
        if not row.trusted:
            row.ignored = "untrusted: the trust file does not list its key in the committee"
            continue
        problem = trust.reviewer_problem(row.keyid)
        if problem is not None:
            row.ignored = problem
            continue
        earlier = latest.get(row.keyid)
        if earlier is not None:
            earlier.ignored = f"superseded by the same member's review on line {row.line}"
        latest[row.keyid] = row
    for row in latest.values():
        row.counted = True
    return list(latest.values())


def _pending_conditions(rows: list[ReviewRow], counted: list[ReviewRow]) -> list[str]:
    """Conditions of counted reviews that no later counted review by someone else acknowledges."""
    pending: list[str] = []
    for row in counted:
        later = [r for r in rows if r.counted and r.line > row.line and r.keyid != row.keyid]
        accepted = {c for r in later for c in r.acknowledges}
        pending += [c for c in row.conditions if c not in accepted]
    return pending


def _outcome(decisions: list[str], chair: ReviewRow | None, rule: DecisionRule) -> str | None:
    """approve, revise or reject, or None when the rule leaves a disagreement open."""
    distinct = set(decisions)
    if len(distinct) == 1:
        return decisions[0]
    if rule.chair == "decisive" and chair is not None:
        return chair.decision
    if rule.conflicts == "reject_wins":
        return "reject" if "reject" in distinct else "revise"
    if rule.conflicts == "revise_wins":
        return "revise"
    return None


def decide(rows: list[ReviewRow], trust: TrustFile | None) -> CommitteeStatus:
    """The committee's status over `rows` (a run's reviews, in order); sets each row's counted/ignored."""
    broken = next((r for r in rows if r.problem), None)
    if broken is not None:
        for row in rows:
            row.counted, row.ignored = False, "the record of reviews is broken"
        return CommitteeStatus(
            state="broken",
            ignored=len(rows),
            summary=f"no decision: the record of reviews is broken (line {broken.line}: {broken.problem})",
            summary_fr=f"aucune décision : le registre des avis est altéré (ligne {broken.line})",
        )
    if trust is None:
        if not rows:
            return CommitteeStatus(
                state="awaiting", summary="no review yet", summary_fr="aucun avis pour l'instant"
            )
        last = rows[-1]
        return CommitteeStatus(
            state="not checked",
            summary=f"{len(rows)} signed review(s), signers not checked (no trust file); "
            f"the last says {last.decision}",
            summary_fr=f"{len(rows)} avis signé(s), signataires non vérifiés (pas de fichier de confiance) ; "
            f"le dernier dit {_FR_DECISION.get(last.decision, last.decision)}",
        )
    rule = trust.decision
    counted = _ignore(rows, trust)
    members = sum(1 for m in trust.committee if m.reviews)
    chair_member = trust.chair()
    chair = next((r for r in counted if chair_member is not None and r.keyid == chair_member.keyid), None)
    ignored = sum(1 for r in rows if not r.counted)
    status = CommitteeStatus(
        state="awaiting",
        counted=len(counted),
        ignored=ignored,
        members=members,
        quorum=rule.quorum,
        chair_included=chair is not None,
        summary="",
        summary_fr="",
    )
    decisions = [r.decision for r in counted]
    state: CommitteeState
    outcome: str | None = None
    if not counted or len(counted) < rule.quorum:
        state = "awaiting"
    elif rule.chair == "required" and chair is None:
        state = "awaiting chair"
    else:
        outcome = _outcome(decisions, chair, rule)
        if outcome is None:
            state = "awaiting chair" if rule.chair == "decisive" else "conflict"
        else:
            state = _PAST[outcome]  # type: ignore[assignment]
    if state == "approved" and rule.acknowledge_conditions:
        status.pending_conditions = _pending_conditions(rows, counted)
        if status.pending_conditions:
            state = "awaiting conditions"
    status.state = state
    status.summary, status.summary_fr = _sentences(status, decisions)
    return status


def _sentences(s: CommitteeStatus, decisions: list[str]) -> tuple[str, str]:
    of = f"{s.counted} of {s.members} member(s)"
    of_fr = f"{s.counted} membre(s) sur {s.members}"
    chair = ", chair included" if s.chair_included else ""
    chair_fr = ", présidence comprise" if s.chair_included else ""
    if s.state in ("approved", "revise", "rejected"):
        verb = {"approved": "approved by", "revise": "revision asked by", "rejected": "rejected by"}[s.state]
        en, fr = f"{verb} {of}{chair}", f"{_FR_STATE[s.state]} par {of_fr}{chair_fr}"
    elif s.state == "awaiting chair":
        en, fr = (
            f"awaiting the chair ({of} reviewed)",
            f"en attente de la présidence ({of_fr} ont rendu un avis)",
        )
    elif s.state == "awaiting conditions":
        n = len(s.pending_conditions)
        en = f"approved by {of}{chair}, {n} condition(s) not yet acknowledged"
        fr = f"approuvé par {of_fr}{chair_fr}, {n} condition(s) pas encore reconnue(s)"
    elif s.state == "conflict":
        tally = ", ".join(f"{n} {d}" for d, n in sorted(Counter(decisions).items()))
        en, fr = (
            f"no decision: members differ ({tally})",
            f"pas de décision : les membres divergent ({tally})",
        )
    elif s.counted:
        en = f"awaiting: {of} reviewed, {s.quorum} needed"
        fr = f"en attente : {of_fr} ont rendu un avis, {s.quorum} requis"
    else:
        en, fr = "awaiting: no counted review yet", "en attente : aucun avis retenu pour l'instant"
    if s.ignored:
        en += f"; {s.ignored} review(s) not counted"
        fr += f" ; {s.ignored} avis non retenu(s)"
    return en, fr
