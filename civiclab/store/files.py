"""Reading a run's artifact files without trusting the folder they sit in.

Whoever can write the artifact store can plant a symbolic link (to the lab's private key, to
`/dev/zero`), a FIFO or a device among a run's files. Every reader that serves or parses an artifact
goes through `read_artifact`: it opens each path component without following links, accepts only a
regular file inside the run's folder, and reads at most a bounded number of bytes. `unsafe_entries`
names every such planted entry, so that `verify` reports it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from civiclab.errors import AuditError

MAX_ARTIFACT_BYTES = 256 * 1024 * 1024
"""Default cap of one artifact read into memory (reports, statements, manifests, scorecards)."""

_DIR_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class UnsafeArtifact(AuditError):
    """An artifact is a symbolic link, a special file, outside its run's folder, or too large."""


def _parts(name: str) -> list[str]:
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts) or name.startswith("/"):
        raise UnsafeArtifact(f"{name}: not a file name inside the run's artifacts")
    return parts


def open_artifact(folder: Path, name: str) -> int:
    """A file descriptor of `folder/name`, opened without following any link; the caller closes it.

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeArtifact: a component is a link, or the file is not a regular file.
    """
    parts = _parts(name)
    try:
        fd = os.open(folder, _DIR_FLAGS)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise UnsafeArtifact(f"{folder}: the run's artifact folder is not a plain folder") from None
    try:
        for part in parts[:-1]:
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                raise
            except OSError:
                raise UnsafeArtifact(f"{name}: {part} is a link or not a folder") from None
            os.close(fd)
            fd = child
        try:
            file_fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            raise
        except OSError:
            raise UnsafeArtifact(f"{name}: a symbolic link or special file, not a regular artifact") from None
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(file_fd).st_mode):
        os.close(file_fd)
        raise UnsafeArtifact(f"{name}: a special file, not a regular artifact")
    os.set_blocking(file_fd, True)
    return file_fd


def read_artifact(folder: Path, name: str, limit: int = MAX_ARTIFACT_BYTES) -> bytes:
    """The bytes of a regular artifact file (never through a link), at most `limit` of them.

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeArtifact: a link, a special file, or larger than `limit`.
    """
    fd = open_artifact(folder, name)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UnsafeArtifact(f"{name}: larger than {limit} bytes")
    return data


def unsafe_entries(folder: Path) -> list[str]:
    """Every symbolic link or special file under `folder` (relative names, sorted); links are not followed."""
    found: list[str] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        for entry in [*dirs, *files]:
            path = Path(root) / entry
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                found.append(str(path.relative_to(folder)))
    return sorted(found)


def regular_files(folder: Path) -> list[Path]:
    """The regular files under `folder`, sorted, never through a link (links and special files are skipped)."""
    out: list[Path] = []
    for root, _dirs, files in os.walk(folder, followlinks=False):
        for entry in files:
            path = Path(root) / entry
            if stat.S_ISREG(path.lstat().st_mode):
                out.append(path)
    return sorted(out)
