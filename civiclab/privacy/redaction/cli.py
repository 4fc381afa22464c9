"""`civiclab redact [FILE|-] [--json]`: what civiclab would redact in a lab's own data, before a pilot."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from civiclab.errors import SpecError


def cmd_redact(args: argparse.Namespace) -> int:
    from civiclab.privacy.redaction import find_personal_data, redact_text

    text = _read(args.file)
    if args.json:
        # One object per input line, so a lab can see where each value was; offsets are within the line.
        for number, line in enumerate(text.splitlines(), start=1):
            spans = [
                {"start": f.start, "end": f.end, "entity_type": f.kind, "score": round(f.score, 3)}
                for f in find_personal_data(line)
            ]
            print(json.dumps({"line": number, "spans": spans}, ensure_ascii=False))
        return 0
    out = [redact_text(line) for line in text.splitlines()]
    sys.stdout.write("\n".join(out) + ("\n" if text.endswith("\n") or out else ""))
    return 0


def _read(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(name, "", "no such file") from None
    except IsADirectoryError:
        raise SpecError(name, "", "is a folder, not a text file") from None
    except UnicodeDecodeError as exc:
        raise SpecError(name, "", f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise SpecError(name, "", f"cannot be read ({exc.strerror})") from None


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "redact",
        help="print a text with its personal data redacted (or the spans found, with --json)",
        description="Check a lab's own data before a pilot: the same redaction the runner applies to "
        "every logged event (spaCy French NER in Presidio, plus civiclab's patterns), line by line.",
    )
    p.add_argument(
        "file", nargs="?", default="-", help="a UTF-8 text file, or - for standard input (default)"
    )
    p.add_argument(
        "--json", action="store_true", help="print the spans found: start, end, entity_type, score"
    )
    p.set_defaults(handler=cmd_redact)
