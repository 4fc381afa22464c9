"""Redacted copies kept between runs, so the name model loads only when there is something new to read.

Redacting a survey export needs Presidio and spaCy's French pipeline (≈ 8 s to load) although the file
rarely changes between two runs of an experiment. What redaction gives depends only on the input bytes,
on what produced it (`kind`, e.g. `survey-export/1`) and on the redaction itself: civiclab's redaction
code, the spaCy model and its language, the Presidio and spaCy versions (`fingerprint`). The output is
kept under `$CIVICLAB_HOME/cache/redaction/`, named by an HMAC-SHA256 of all of them.

What is kept is only the REDACTED text, never the raw answers. The file name is keyed with a lab secret
(`lab_secret`) so that it cannot be used to test a guess of a short answer. Entries are written
atomically (temporary file, fsync, rename), mode 0600, in a 0700 folder, and carry a digest of their
body: a truncated or altered entry is ignored with a warning and recomputed. A change in any part of
the key gives another name, so stale entries are never read; the oldest are removed past `MAX_ENTRIES`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib.metadata
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from civiclab.home import lab_home
from civiclab.privacy.secrets import lab_secret

logger = logging.getLogger(__name__)

MAGIC = b"civiclab-redacted/1 "
MAX_ENTRIES = 256
SECRET_NAME = "redaction-cache"
# The distributions whose behaviour shapes the output (the model package is added by its name).
_DISTRIBUTIONS = ("presidio-analyzer", "presidio-anonymizer", "spacy", "gender-guesser", "faker")
# civiclab's own redaction code (every module of this package but the cache and the command line): any
# edit to it, or a new module, invalidates every entry, with no version to remember.
_NOT_REDACTION = ("cache.py", "cli.py")


def redaction_sources() -> list[Path]:
    """The modules whose code shapes what redaction outputs."""
    return sorted(p for p in Path(__file__).parent.glob("*.py") if p.name not in _NOT_REDACTION)


def cache_dir() -> Path:
    """Where redacted copies are kept: `$CIVICLAB_HOME/cache/redaction`."""
    return lab_home() / "cache" / "redaction"


@functools.cache
def fingerprint() -> str:
    """What the redaction's output depends on besides its input, as a digest (no model is loaded)."""
    from civiclab.privacy.redaction.recognizers import LANGUAGE, SPACY_MODEL

    digest = hashlib.sha256()
    digest.update(f"language={LANGUAGE}\nmodel={SPACY_MODEL}\n".encode())
    for dist in (*_DISTRIBUTIONS, SPACY_MODEL.replace("_", "-")):
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = "absent"  # redaction itself then fails with its own message; nothing is cached
        digest.update(f"{dist}={version}\n".encode())
    for source in redaction_sources():
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()


def entry_name(kind: str, raw: bytes) -> str:
    """The cache file name for `raw` redacted by `kind` with this redaction (an HMAC-SHA256, hex)."""
    mac = hmac.new(lab_secret(SECRET_NAME), digestmod=hashlib.sha256)
    for part in (kind.encode(), fingerprint().encode()):
        mac.update(len(part).to_bytes(8, "big") + part)
    mac.update(raw)
    return mac.hexdigest()


def cached_redaction(kind: str, raw: bytes, redact: Callable[[bytes], bytes]) -> bytes:
    """`redact(raw)`, read from the cache when this same input was redacted the same way before.

    Args:
        kind: what `redact` does and its output format's version, e.g. `survey-export/1`; change it
            when `redact` changes.
        raw: the input; the output must depend on nothing else.
        redact: the redaction, run on a miss (a cache that cannot be written only costs time).
    """
    path = cache_dir() / entry_name(kind, raw)
    found = _read(path)
    if found is not None:
        return found
    redacted = redact(raw)
    try:
        _write(path, redacted)
    except OSError as exc:
        logger.warning("redaction cache %s not written (%s); it will be recomputed next time", path, exc)
    return redacted


def _read(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning("redaction cache entry %s unreadable (%s): recomputed", path.name, exc)
        return None
    header, newline, body = data.partition(b"\n")
    if (
        not newline
        or not header.startswith(MAGIC)
        or not hmac.compare_digest(header[len(MAGIC) :], hashlib.sha256(body).hexdigest().encode())
    ):
        logger.warning("redaction cache entry %s is corrupt: ignored and recomputed", path.name)
        return None
    try:
        os.utime(path)  # recently used entries outlive the pruning
    except OSError:
        logger.debug("could not touch %s", path)
    return body


def _write(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)  # readers see the old entry or the whole new one, never a part
    finally:
        tmp.unlink(missing_ok=True)
    _prune(path.parent)


def _prune(folder: Path) -> None:
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=_mtime)
    for stale in entries[: len(entries) - MAX_ENTRIES]:
        stale.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # removed by another run's pruning meanwhile
        return 0.0
