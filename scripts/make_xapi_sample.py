"""Write a synthetic xAPI 1.0.3 export (JSON lines, cmi5 verbs) for the observe-mode demo.

The statements are SYNTHETIC: each registration replays a simulated session of the housing-benefit
journey (pilots/journey/simulate.py) as an LRS would have recorded it, with made-up e-mail actors
(example.org) so that the pseudonymisation can be seen at work. A few statements are deliberately
wrong: no registration, a bad timestamp and a line that is not JSON are rejected one by one; a statement
re-sent under an id already used (with another verb) is ignored as a duplicate.

Usage: python scripts/make_xapi_sample.py [--sessions 150] [--seed 7] [--out PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import uuid
from pathlib import Path

from civiclab.plugins.experiment import load_personas
from civiclab.plugins.population import sample_plans
from civiclab.spec.experiment import ExperimentSpec
from pilots.journey.model import load_journey
from pilots.journey.simulate import simulate_session
from pilots.journey.xapi_statement import ADL, PERSONA_EXT

ROOT = Path(__file__).resolve().parents[1]
JOURNEY_IRI = "https://belleval.example/journeys/housing-benefit"


def statement(
    actor: str,
    verb: str,
    obj: str,
    at: dt.datetime,
    registration: str,
    persona: str,
    success: bool | None = None,
) -> dict[str, object]:
    st: dict[str, object] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{registration}/{verb}/{obj}/{at.isoformat()}")),
        "actor": {"objectType": "Agent", "mbox": f"mailto:{actor}"},
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": obj},
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "context": {"registration": registration, "extensions": {PERSONA_EXT: persona}},
        "version": "1.0.3",
    }
    if success is not None:
        st["result"] = {"success": success}
    return st


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=150)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "experiments/data/journey/xapi_statements.jsonl")
    args = parser.parse_args()
    journey = load_journey(ROOT / "experiments/data/journey/housing_benefit.yaml")
    spec = ExperimentSpec.model_validate(
        {
            "name": "xapi-sample",
            "pilot": {"kind": "journey"},
            "evaluators": ["human_centered"],
            "population": {"personas": str(ROOT / "experiments/data/personas.yaml"), "sessions": 1},
        },
        context={"base_dir": ROOT},
    )
    personas = load_personas(spec, ROOT / "experiments/x.yaml")
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    lines: list[dict[str, object]] = []
    for plan in sample_plans(personas, args.sessions, args.seed):
        registration = str(uuid.UUID(int=plan.seed * (plan.index + 1) % (1 << 128), version=4))
        actor = f"participant{plan.index:04d}@example.org"
        record = simulate_session(journey, plan, start + dt.timedelta(minutes=7 * plan.index))
        for event in record.events:
            at = dt.datetime.fromisoformat(event.ts.replace("Z", "+00:00"))
            step = event.payload.get("step")
            step_iri = f"{JOURNEY_IRI}/steps/{step}" if step else JOURNEY_IRI
            verb = {
                "journey.start": ADL + "initialized",
                "step.enter": ADL + "attempted",
                "step.complete": ADL + "passed",
                "step.fail": ADL + "failed",
                "journey.complete": ADL + "completed",
                "journey.abandon": "https://w3id.org/xapi/adl/verbs/abandoned",
            }.get(event.kind)
            if event.kind == "human.handover":
                lines.append(
                    statement(
                        actor,
                        "https://w3id.org/civiclab/xapi/verbs/escalated",
                        f"{JOURNEY_IRI}/assistance/{event.payload['point']}",
                        at,
                        registration,
                        plan.persona_id,
                    )
                )
                continue
            if verb is None:
                continue
            lines.append(
                statement(
                    actor,
                    verb,
                    step_iri,
                    at,
                    registration,
                    plan.persona_id,
                    success={"step.complete": True, "step.fail": False}.get(event.kind),
                )
            )
        last = dt.datetime.fromisoformat(record.events[-1].ts.replace("Z", "+00:00"))
        lines.append(statement(actor, ADL + "terminated", JOURNEY_IRI, last, registration, plan.persona_id))
    # Deliberately wrong statements: each must be rejected with its reason, or ignored as a duplicate.
    bad = dict(lines[0])
    bad["context"] = {}
    lines.insert(3, bad)
    bad2 = dict(lines[10])
    bad2["timestamp"] = "yesterday"
    lines.insert(11, bad2)
    bad3 = dict(lines[20])
    bad3["verb"] = {"id": "http://example.org/verbs/danced"}
    lines.insert(21, bad3)
    args.out.write_text("".join(json.dumps(st, sort_keys=True) + "\n" for st in lines) + "{not json\n")
    print(
        f"wrote {len(lines) + 1} statements ({args.sessions} registrations, 3 invalid, 1 duplicate id) to {args.out}"
    )


if __name__ == "__main__":
    main()
