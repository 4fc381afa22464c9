"""`civiclab journey serve`: a pilot served to real participants (its own pages, consent and withdrawal).

The pilot builds the application (`Pilot.participant_app`); this command binds the port first, so a port
in use is one line with exit 2, and runs it with uvicorn until interrupted.
"""

from __future__ import annotations

import argparse
import sys


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("journey", help="serve a journey to real participants")
    journey = p.add_subparsers(dest="journey_command", metavar="COMMAND", required=True)
    p = journey.add_parser(
        "serve", help="serve the 3D town hall, its plain-page twin, consent and withdrawal to participants"
    )
    p.add_argument("spec", help="experiment YAML file (journey pilot, mode observe, with lrs: or store:)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8200)
    p.set_defaults(handler=cmd_journey_serve)


def cmd_journey_serve(args: argparse.Namespace) -> int:
    from civiclab.errors import SpecError
    from civiclab.plugins.experiment import load_experiment
    from civiclab.plugins.piloting import Pilot
    from civiclab.survey.listen import listening_socket

    exp = load_experiment(args.spec)
    factory = exp.pilot.factory
    served = (
        factory.participant_app(exp) if isinstance(factory, type) and issubclass(factory, Pilot) else None
    )
    if served is None:
        raise SpecError(exp.path, "pilot.kind", f"pilot {exp.pilot.name!r} serves nothing to participants")
    # Bound before anything is printed: a port in use or out of range is one line, exit 2.
    sock = listening_socket(args.host, args.port)
    import uvicorn

    try:
        with served as app:
            print(
                f"journey of {exp.spec.name!r} on http://{args.host}:{args.port}/ — participants enter their code "
                f"there (codes: civiclab survey invite --experiment {exp.path})",
                file=sys.stderr,
            )
            config = uvicorn.Config(
                app, host=args.host, port=args.port, log_level="warning", access_log=False
            )
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0
