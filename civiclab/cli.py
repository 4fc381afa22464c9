"""The `civiclab` command line. Heavy libraries are imported only inside the commands that need them."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from civiclab.errors import CivicLabError
from civiclab.privacy.credentials import strip_credentials, strip_credentials_in, strip_url_credentials

EXPERIMENTS_DIR = Path("experiments")


MAX_WORKERS = 256


def _workers(text: str) -> int:
    """`--workers`: a whole number of processes from 1 to 256 (refused at parse time, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"{value}: give a number of processes from 1 to {MAX_WORKERS}")
    return value


def _experiment_overrides(args: argparse.Namespace) -> dict[str, Any]:
    from civiclab.plugins.overrides import assignments

    return {
        **assignments(getattr(args, "set", None) or [], getattr(args, "spec", "--set")),
        "population.sessions": getattr(args, "sessions", None),
        "population.seed": getattr(args, "seed", None),
        "executor.kind": getattr(args, "executor", None),
        "executor.address": getattr(args, "ray_address", None),
    }


def cmd_validate(args: argparse.Namespace) -> int:
    from civiclab.plugins.experiment import load_experiment

    exp = load_experiment(args.spec, _experiment_overrides(args))
    evs = ", ".join(e.info.name for e in exp.evaluators)
    print(
        f"{exp.path.name}: valid — experiment {exp.spec.name!r}, pilot {exp.pilot.name!r}, "
        f"{len(exp.personas)} personas, {exp.spec.population.sessions} sessions, evaluators: {evs}, "
        f"{len(exp.spec.scorecard.criteria)} criteria, {len(exp.data_files)} data files"
    )
    return 0


def _run_one(spec: Path, args: argparse.Namespace, *, demo: bool = False) -> Any:
    import contextlib

    from civiclab.plugins.experiment import load_experiment
    from civiclab.reporting.stored_plots import draw_run_plots
    from civiclab.run.progress import ProgressBar
    from civiclab.run.runner import run_experiment

    exp = load_experiment(spec, _experiment_overrides(args))
    # A demo also starts what the experiment needs locally (a stand-in endpoint) and stops it after.
    from civiclab.plugins.piloting import Pilot

    factory = exp.pilot.factory
    services: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    if demo and isinstance(factory, type) and issubclass(factory, Pilot):
        services = factory.demo_services(exp)
    with services:
        return run_experiment(
            exp,
            tracking_uri=args.tracking_uri,
            workers=getattr(args, "workers", 1) or 1,
            progress=ProgressBar(exp.spec.name),
            resume=getattr(args, "resume", None),
            key=getattr(args, "key", None),
            figures=draw_run_plots,
        )


def cmd_run(args: argparse.Namespace) -> int:
    from civiclab.scoring.scorecard_text import to_table

    result = _run_one(Path(args.spec), args)
    if args.json:
        print(json.dumps(strip_credentials_in(result.summary()), indent=None, sort_keys=True))
    else:
        print(to_table(result.scorecard))
        print(f"\nrun {result.run_id} stored in {strip_url_credentials(result.tracking_uri)}")
        print(f"next: civiclab show {result.run_id} · civiclab verify {result.run_id} · civiclab ui")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from civiclab.plugins.registry import evaluators, pilots

    kinds = [args.kind] if args.kind else ["pilots", "evaluators"]
    for kind in kinds:
        print(f"{kind}:")
        if kind == "pilots":
            for p in pilots:
                print(f"  {p.name:16} {p.description}")
        else:
            for e in evaluators:
                print(f"  {e.name:16} [{e.dimension}] {e.description}")
                for metric, meaning in e.metrics.items():
                    print(f"      {metric}: {meaning}")
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    from civiclab.home import settings_table

    print(settings_table())
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from civiclab.store.tracker import resolve_tracking_uri

    uri = resolve_tracking_uri(args.tracking_uri)
    mlflow = Path(sys.executable).with_name("mlflow")
    command = [str(mlflow), "ui", "--backend-store-uri", uri, "--host", "127.0.0.1", "--port", str(args.port)]
    print(
        f"MLflow UI on http://127.0.0.1:{args.port} (store {strip_url_credentials(uri)}); Ctrl+C to stop",
        flush=True,
    )
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.execv(command[0], command)
    return 0  # pragma: no cover


def cmd_demo(args: argparse.Namespace) -> int:
    from civiclab.scoring.scorecard_text import to_table

    folder = Path(args.experiments)
    specs = sorted(folder.glob("*.yaml"))
    if not specs:
        raise CivicLabError(f"{folder}: no experiment files (*.yaml) to run")
    results = []
    for spec in specs:
        print(f"\n=== {spec} ===", flush=True)
        result = _run_one(spec, args, demo=True)
        print(to_table(result.scorecard))
        results.append(result)
        report = _demo_reports(result.run_id, args)
        print(f"scorecard for the committee: {report}/scorecard.html (also .pdf and .md)")
    print("\nDemo finished. Runs:")
    for r in results:
        print(f"  {r.experiment:28} {r.run_id}  {r.scorecard.recommendation.upper()}")
    print("\nWhere to look next:")
    print("  civiclab runs                 list runs in the store (mlruns/mlflow.db)")
    print("  civiclab show RUN_ID          metrics and scorecard of a run")
    print("  civiclab verify RUN_ID        check the run against its signed statement (--trust FILE)")
    print("  civiclab ui                   open the MLflow UI on the store (http://127.0.0.1:5000)")
    for spec in specs:  # pilots real participants can go through, in a browser or a headset
        if "journey serve" in spec.read_text(encoding="utf-8", errors="replace"):
            print(f"  civiclab journey serve {spec}   then open http://127.0.0.1:8200/ with a code from "
                  f"civiclab survey invite --experiment {spec}")  # fmt: skip
    return 0


def _demo_reports(run_id: str, args: argparse.Namespace) -> str:
    """Write the HTML and PDF scorecards of a demo run; returns their folder."""
    from civiclab.reporting.demo import demo_reports

    return str(demo_reports(run_id, args.tracking_uri))


class _Parser(argparse.ArgumentParser):
    """argparse, except that a value it echoes in an error (a tracking URI) never shows a password."""

    def error(self, message: str) -> NoReturn:
        super().error(strip_credentials(message))


def _tracking_uri_after_commands(parser: argparse.ArgumentParser) -> None:
    """Accept `--tracking-uri` after any command too (`civiclab runs --tracking-uri URI`), as the global
    option it is (shown once, in `civiclab --help`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in {id(p): p for p in action.choices.values()}.values():
                if "--tracking-uri" not in command._option_string_actions:
                    command.add_argument("--tracking-uri", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
                _tracking_uri_after_commands(command)


# The commands defined in other modules, in the order `civiclab --help` lists them: a command line that
# names one of them imports that module alone (the desk's, the survey's or redaction's imports cost a
# `civiclab validate` about a fifth of its start); `--help`, no command or another name imports them all.
COMMAND_MODULES: dict[str, str] = {
    "survey": "civiclab.survey.cli",
    "journey": "civiclab.run.participants_cli",
    "report": "civiclab.reporting.cli",
    "review": "civiclab.reporting.cli",
    "compare": "civiclab.reporting.cli",
    "keys": "civiclab.evidence.signing.cli",
    "verify": "civiclab.evidence.cli",
    "redact": "civiclab.privacy.redaction.cli",
    "desk": "civiclab.desk.cli",
}
CORE_COMMANDS = ("run", "validate", "runs", "show", "list", "settings", "ui", "demo")


def _runs_command(name: str) -> Any:
    def handler(args: argparse.Namespace) -> int:
        from civiclab.reporting import runs_cli

        return int(getattr(runs_cli, name)(args))

    return handler


def asked_command(argv: list[str]) -> str | None:
    """The command a command line names (its first word that is not a global option), or None."""
    words = iter(argv)
    for word in words:
        if word == "--tracking-uri":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser: with `argv` naming a known command, only what that command needs."""
    parser = _Parser(
        prog="civiclab",
        description="Run, measure, score and verify pilots of emerging technologies in public services.",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log what civiclab does on stderr (-v: steps, -vv: details)",
    )
    parser.add_argument(
        "--tracking-uri",
        default=None,
        help="MLflow store (default: MLFLOW_TRACKING_URI, then sqlite:///mlruns/mlflow.db)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def runs_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--sessions", type=int, help="override population.sessions")
        p.add_argument("--seed", type=int, help="override population.seed")
        p.add_argument(
            "--workers",
            type=_workers,
            default=1,
            help="processes running sessions (1-256, default 1)",
        )
        p.add_argument("--tracking-uri", default=argparse.SUPPRESS, help="MLflow store for this run")
        p.add_argument("--key", help="signing key name (default: CIVICLAB_KEY, else the first key created)")
        set_option(p)

    def set_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--set",
            action="append",
            metavar="PATH=VALUE",
            help="what-if: replace a field of the experiment, or of the pilot's parameters "
            "(e.g. assistance.france_services.staff=3); repeatable",
        )

    p = sub.add_parser("run", help="run an experiment into MLflow and print its scorecard")
    p.add_argument("spec", help="experiment YAML file")
    runs_options(p)
    p.add_argument(
        "--executor",
        choices=("serial", "process", "ray"),
        help="where sessions run (overrides executor.kind)",
    )
    p.add_argument(
        "--ray-address", help="Ray cluster to join: auto, HOST:PORT or ray://HOST:PORT (executor.address)"
    )
    p.add_argument(
        "--resume",
        metavar="RUN_ID",
        help="finish a FAILED or KILLED run of this same spec and seed: keep its closed sessions, run the rest",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("validate", help="check an experiment without running it")
    p.add_argument("spec")
    p.add_argument("--sessions", type=int)
    p.add_argument("--seed", type=int)
    set_option(p)
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("runs", help="list civiclab runs in the store")
    p.add_argument("--experiment")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_runs_command("cmd_runs"))

    p = sub.add_parser("show", help="show a run's metrics and scorecard")
    p.add_argument("run_id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_runs_command("cmd_show"))

    p = sub.add_parser("list", help="list registered pilots and evaluators")
    p.add_argument("kind", nargs="?", choices=["pilots", "evaluators"])
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser(
        "settings", help="list the CIVICLAB_* environment variables, their defaults and meaning"
    )
    p.set_defaults(handler=cmd_settings)

    p = sub.add_parser("ui", help="open the MLflow UI on the store")
    p.add_argument("--port", type=int, default=5000)
    p.set_defaults(handler=cmd_ui)

    p = sub.add_parser("demo", help="run every experiment in experiments/ and print the scorecards")
    p.add_argument("--experiments", default=str(EXPERIMENTS_DIR))
    runs_options(p)
    p.set_defaults(handler=cmd_demo)

    asked = asked_command(argv) if argv is not None else None
    if asked in CORE_COMMANDS:
        modules: list[str] = []
    elif asked in COMMAND_MODULES:
        modules = [COMMAND_MODULES[asked]]
    else:
        modules = list(dict.fromkeys(COMMAND_MODULES.values()))
    for module in modules:
        importlib.import_module(module).add_commands(sub)
    if asked not in CORE_COMMANDS and asked not in COMMAND_MODULES:
        _plugin_commands(sub)
    _tracking_uri_after_commands(parser)
    return parser


LOGGED_PACKAGES = ("civiclab", "pilots", "evaluators")

OFFLINE_DEFAULTS = {
    # Nothing downloads at run time and nothing phones home; models come from installed packages.
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
}


def configure_logging(verbosity: int) -> None:
    """Quiet by default (warnings only); -v shows INFO, -vv DEBUG, always on stderr.

    Only civiclab's own loggers are made verbose: libraries stay at WARNING so that -vv shows what
    civiclab does, not what mlflow or codecarbon do.
    """
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for name in LOGGED_PACKAGES:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)


def _reader_gone() -> bool:
    """Whether stdout is a pipe whose reader has closed it (not some other broken pipe of a command)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _fd, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def _plugin_commands(sub: Any) -> None:
    """Commands a plugin adds (`civiclab.commands` entry points); a broken one is a warning, not a crash."""
    from civiclab.plugins.installed import installed

    for point in installed("civiclab.commands"):
        try:
            point.load()(sub)
        except Exception as exc:  # a plugin's bug must not take the whole command line down
            logging.getLogger(__name__).warning("the commands of plugin %r are left out: %s", point.name, exc)


def main(argv: list[str] | None = None) -> int:
    for name, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(name, value)
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(words)
    args = parser.parse_args(words)
    configure_logging(args.verbose)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        code = int(args.handler(args))
        sys.stdout.flush()  # a reader that went away (`| head -1`) is seen here, not at exit
        return code
    except BrokenPipeError:
        if not _reader_gone():
            raise
        # Output piped to a reader that stopped reading: stop quietly, as `cat` does (128 + SIGPIPE).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except CivicLabError as exc:
        print(f"civiclab: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        print(f"civiclab: interrupted: {exc}" if str(exc) else "civiclab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
