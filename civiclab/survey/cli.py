"""`civiclab survey …`: import response exports, create invitation codes, serve the form, score.

`--experiment` is an experiment file or a name found as `experiments/NAME.yaml`; an experiment
without a `survey:` section gets the default survey. Heavy modules are imported in the handlers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from civiclab.errors import SurveyError

SEGMENT_ATTRIBUTES = ("age_band", "digital_literacy", "disability", "language", "device", "territory")


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `survey` command group to the `civiclab` parser."""
    survey = sub.add_parser("survey", help="acceptability surveys: import, invite, serve, score")
    commands = survey.add_subparsers(dest="survey_command", metavar="COMMAND")
    commands.required = True

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--experiment", required=True, help="experiment file or name (experiments/NAME.yaml)")
        p.add_argument(
            "--store",
            default=None,
            help="survey store URL (default $CIVICLAB_SURVEY_STORE, the "
            "spec's survey.store, else sqlite:///mlruns/survey.db)",
        )

    p = commands.add_parser("import", help="validate a LimeSurvey or CSV export and store its responses")
    p.add_argument("file", type=Path)
    common(p)
    p.add_argument("--format", choices=("limesurvey", "csv"), default="limesurvey")
    p.add_argument(
        "--mapping",
        type=Path,
        default=None,
        help="plain CSV: YAML mapping source column -> civiclab column (id, submitdate, SUS[SQ001]...)",
    )
    p.add_argument("--strict", action="store_true", help="store nothing if any row is rejected (exit 2)")
    p.add_argument(
        "--wave",
        default=None,
        metavar="NAME",
        help="the wave this export belongs to (part of each response's identity: ids may restart at 1)",
    )
    p.add_argument(
        "--allow-missing-items",
        action="store_true",
        help="accept an export lacking scored item columns; every score that uses them is flagged",
    )
    p.add_argument(
        "--new-experiment",
        action="store_true",
        help="store the responses although no experiment file has this name yet (one still to write)",
    )
    p.set_defaults(handler=cmd_import)

    p = commands.add_parser("invite", help="create pseudonymous invitation codes (only their hash is stored)")
    common(p)
    p.add_argument("--count", type=int, required=True)
    p.add_argument(
        "--segment",
        action="append",
        default=[],
        metavar="ATTRIBUTE=VALUE",
        help="segment of the people invited, e.g. age_band=65-79 (repeatable)",
    )
    p.add_argument("--out", type=Path, default=None, help="write the codes to this file instead of stdout")
    p.set_defaults(handler=cmd_invite)

    p = commands.add_parser("serve", help="serve the accessible survey form (FR/EN)")
    common(p)
    p.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1, this machine only)"
    )
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        metavar="POSTS",
        help="form posts per client per minute before 429 (default $CIVICLAB_SURVEY_RATE_LIMIT or 30; 0: off)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes serving the form (default 1; more than one needs the PostgreSQL store)",
    )
    p.set_defaults(handler=cmd_serve)

    p = commands.add_parser("results", help="the public, k-anonymous findings in plain language (FR/EN)")
    common(p)
    p.add_argument("--lang", choices=("fr", "en"), default="fr")
    p.add_argument("--html", type=Path, default=None, help="write a standalone HTML page to publish")
    p.set_defaults(handler=cmd_results)

    p = commands.add_parser("waves", help="scores per wave, and a before/after comparison of two waves")
    common(p)
    p.add_argument("--before", default=None, metavar="WAVE", help="the wave before the change")
    p.add_argument("--after", default=None, metavar="WAVE", help="the wave after the change")
    p.add_argument("--json", action="store_true", help="print the waves and the comparison as JSON")
    p.set_defaults(handler=cmd_waves)

    p = commands.add_parser("score", help="score the stored and declared responses of an experiment")
    common(p)
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(handler=cmd_score)


def _context(args: argparse.Namespace, *, known: bool = False) -> Any:
    """The survey of `--experiment`; `known`: refuse a name no experiment file has (SurveyError)."""
    from civiclab.survey.collect import survey_context

    ctx = survey_context(args.experiment)
    if ctx.source is None and known:
        raise SurveyError(
            f"--experiment {args.experiment!r}: no experiment has this name (no experiments/"
            f"{args.experiment}.yaml, nor a file there with `name: {args.experiment}`), so no run would read "
            "these responses: correct the name, or give --new-experiment for an experiment still to write"
        )
    if ctx.source is None:
        print(
            f"note: no experiments/{args.experiment}.yaml: using the default survey (SUS, UTAUT, trust, "
            "free text), k = 5",
            file=sys.stderr,
        )
    return ctx


def _mapping(path: Path | None) -> dict[str, str] | None:
    if path is None:
        return None
    from civiclab.plugins.experiment import read_yaml

    data = read_yaml(path)
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise SurveyError(f"{path}: a mapping must be `source column: civiclab column` pairs")
    return data


def cmd_import(args: argparse.Namespace) -> int:
    from civiclab.survey.importer import read_export_file
    from civiclab.survey.store import SurveyStore

    ctx = _context(args, known=not args.new_experiment)
    columns = _mapping(args.mapping)
    if columns and args.format != "csv":
        raise SurveyError("--mapping: only with --format csv")
    report, raw = read_export_file(
        args.file,
        ctx.instruments,
        format=args.format,
        columns=columns,
        segments=ctx.spec.segments,
        wave=args.wave,
        allow_missing_items=args.allow_missing_items,
    )
    for line in report.lines():
        print(line)
    if args.strict and report.rejected:
        raise SurveyError(
            f"{args.file}: {len(report.rejected)} rows rejected and --strict given: nothing stored"
        )
    store = SurveyStore(ctx.store_url(args.store))
    try:
        outcome = store.add_responses(
            ctx.experiment,
            report.accepted,
            filename=args.file.name,
            sha256=report.sha256,
            total_rows=report.rows,
            rejected=len(report.rejected),
            content=raw,
        )
    finally:
        store.close()
    for line in outcome.lines(ctx.experiment):
        print(line)
    if outcome.collisions:
        print(
            f"warning: {len(outcome.collisions)} responses of {args.file} have the id of a stored response "
            "with different answers and were not stored: if this is another wave, import it with --wave NAME",
            file=sys.stderr,
        )
    return 0


def _segment(pairs: list[str]) -> dict[str, str]:
    segment: dict[str, str] = {}
    for pair in pairs:
        attribute, sep, value = pair.partition("=")
        if not sep or not value or attribute not in SEGMENT_ATTRIBUTES:
            raise SurveyError(
                f"--segment {pair!r}: give ATTRIBUTE=VALUE with ATTRIBUTE one of "
                f"{', '.join(SEGMENT_ATTRIBUTES)}"
            )
        segment[attribute] = value[:64]
    return segment


def cmd_invite(args: argparse.Namespace) -> int:
    from civiclab.survey.store import SurveyStore

    if not 1 <= args.count <= 100_000:
        raise SurveyError(f"--count {args.count}: give a number from 1 to 100000")
    segment = _segment(args.segment)
    ctx = _context(args)
    if args.out is not None and args.out.exists():
        raise SurveyError(f"--out {args.out}: file exists; codes are shown only once, choose a new file")
    store = SurveyStore(ctx.store_url(args.store))
    try:
        codes = store.create_invitations(ctx.experiment, args.count, segment)
    finally:
        store.close()
    text = "\n".join(codes) + "\n"
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
        print(
            f"{len(codes)} invitation codes for {ctx.experiment!r} written to {args.out} (only their hashes "
            "are stored: keep this file safe, it cannot be recreated)"
        )
    else:
        sys.stdout.write(text)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from civiclab.survey.listen import listening_socket
    from civiclab.survey.ratelimit import configured_limit
    from civiclab.survey.store import SurveyStore
    from civiclab.survey.web import create_app
    from civiclab.survey.workers import check_workers, serve_workers

    rate_limit = configured_limit(args.rate_limit)
    # Bound before anything is printed: a port in use or out of range is one line, exit 2.
    sock = listening_socket(args.host, args.port)
    ctx = _context(args)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: binding {args.host}: participants' answers must reach it over HTTPS only (put a TLS "
            "reverse proxy in front, forwarding the scheme)",
            file=sys.stderr,
        )
    url = ctx.store_url(args.store)
    try:
        check_workers(args.workers, url)
        store = SurveyStore(url)  # created (tables, migrations) once, before any worker
    except BaseException:
        sock.close()
        raise
    print(
        f"survey of {ctx.experiment!r} on http://{args.host}:{args.port}/ (store {url.split('@')[-1]}"
        f"{f', {args.workers} workers' if args.workers > 1 else ''})",
        file=sys.stderr,
    )
    if args.workers > 1:
        store.close()  # a connection pool does not survive a fork: each worker opens its own
        try:
            return serve_workers(
                sock,
                lambda secret: create_app(ctx, SurveyStore(url), rate_limit=rate_limit, secret=secret),
                args.workers,
                args.host,
                args.port,
            )
        finally:
            sock.close()
    app = create_app(ctx, store, rate_limit=rate_limit)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        store.close()
    return 0


def cmd_results(args: argparse.Namespace) -> int:
    from civiclab.survey.collect import gather
    from civiclab.survey.results import public_results, render_html
    from civiclab.survey.scoring import score_survey

    ctx = _context(args)
    got = gather(ctx.experiment, ctx.spec, store_url=ctx.store_url(args.store))
    metrics = score_survey(
        ctx.instruments,
        got.responses,
        got.scoring_options(ctx.k, resamples=ctx.spec.resamples),
    )
    results = public_results(ctx.instruments, metrics, args.lang, ctx.k)
    results.synthetic = bool(got.synthetic_files)
    if args.html is not None:
        from civiclab.survey.messages import messages

        title = ctx.spec.title.get(args.lang) or messages(args.lang)["default_title"]
        args.html.write_text(render_html(results, args.lang, title, ctx.k), encoding="utf-8")
        print(f"wrote {args.html}")
        return 0
    if results.synthetic:
        print("SYNTHETIC demo data" if args.lang == "en" else "Données SYNTHÉTIQUES de démonstration")
    if not results.enough:
        print(f"fewer than {ctx.k} complete responses: nothing can be published yet")
        return 0
    for line in results.participation:
        print(line)
    for finding in results.findings:
        print(f"- {finding.sentence}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from civiclab.survey.collect import gather
    from civiclab.survey.scoring import score_survey

    ctx = _context(args)
    got = gather(ctx.experiment, ctx.spec, store_url=ctx.store_url(args.store))
    metrics = score_survey(
        ctx.instruments,
        got.responses,
        got.scoring_options(ctx.k, resamples=ctx.spec.resamples),
    )
    reason = got.synthetic_reason
    for m in metrics:
        m.synthetic = reason
    if args.json:
        print(json.dumps([m.model_dump(mode="json") for m in metrics], indent=1))
        return 0
    if reason is not None:
        print(reason)
    for m in metrics:
        if m.segment is not None:
            continue
        if m.value is None:
            print(f"{m.name:55s} —   ({m.error})")
            continue
        ci = f"  [{m.ci_low:.3g}, {m.ci_high:.3g}]" if m.ci_low is not None and m.ci_high is not None else ""
        print(f"{m.name:55s} {m.value:.4g}{ci}  n={m.n}")
    return 0


def cmd_waves(args: argparse.Namespace) -> int:
    from civiclab.survey.collect import gather
    from civiclab.survey.waves import compare_waves, score_waves

    if (args.before is None) != (args.after is None):
        raise SurveyError("--before and --after: give both waves to compare, or neither")
    ctx = _context(args)
    got = gather(ctx.experiment, ctx.spec, store_url=ctx.store_url(args.store))
    options = got.scoring_options(ctx.k, resamples=ctx.spec.resamples)
    waves = score_waves(ctx.instruments, got.responses, options)
    comparison = (
        compare_waves(ctx.instruments, got.responses, args.before, args.after, options)
        if args.before is not None
        else []
    )
    reason = got.synthetic_reason
    if args.json:
        print(
            json.dumps(
                {
                    "synthetic": reason,
                    "waves": {
                        wave: [m.model_dump(mode="json") for m in metrics if m.segment is None]
                        for wave, metrics in waves.items()
                    },
                    "comparison": [
                        {
                            "metric": c.metric,
                            "before": c.before,
                            "after": c.after,
                            "pairs": c.pairs,
                            "note": c.note,
                            "result": None if c.result is None else vars(c.result),
                        }
                        for c in comparison
                    ],
                },
                indent=1,
            )
        )
        return 0
    if reason is not None:
        print(reason)
    for wave, metrics in waves.items():
        shown = {m.name: m for m in metrics if m.segment is None}
        respondents = shown.get("acceptability.respondents")
        print(f"wave {wave}: {int(respondents.value or 0) if respondents else 0} complete responses")
        for m in metrics:
            if m.segment is None and m.value is not None and m.ci_low is not None and m.unit != "alpha":
                print(f"  {m.name:50s} {m.value:.4g}  [{m.ci_low:.3g}, {m.ci_high:.3g}]  n={m.n}")
    for c in comparison:
        r = c.result
        if r is None or r.delta is None:
            print(f"{c.metric} {c.after} - {c.before}: {c.note}")
            continue
        p = "—" if r.p_value is None else f"{r.p_value:.3g}"
        print(
            f"{c.metric} {c.after} - {c.before}: {r.delta:+.3g} [{r.delta_low:.3g}, {r.delta_high:.3g}] "
            f"p={p} ({c.note})"
        )
    return 0
