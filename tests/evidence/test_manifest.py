"""Artifact digests: a file hashed once in a run is not read again unless it changed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from civiclab.evidence import manifest
from civiclab.evidence.manifest import DigestCache, artifact_digests


def test_a_cached_digest_is_reused_only_while_the_file_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plots").mkdir()
    (tmp_path / "audit.jsonl").write_bytes(b'{"seq":0}\n' * 1000)
    (tmp_path / "plots" / "a.png").write_bytes(b"png")
    (tmp_path / "manifest.json").write_text("{}")
    read: list[str] = []
    real = manifest.sha256_file
    monkeypatch.setattr(manifest, "sha256_file", lambda p: read.append(p.name) or real(p))

    cache: DigestCache = {}
    first = artifact_digests(tmp_path, cache)
    assert first == {
        "audit.jsonl": hashlib.sha256(b'{"seq":0}\n' * 1000).hexdigest(),
        "plots/a.png": hashlib.sha256(b"png").hexdigest(),
    }  # the manifest never lists itself
    assert sorted(read) == ["a.png", "audit.jsonl"]

    read.clear()
    (tmp_path / "statement.dsse.json").write_text("{}")
    assert artifact_digests(tmp_path, cache) == {
        **first,
        "statement.dsse.json": hashlib.sha256(b"{}").hexdigest(),
    }
    assert read == ["statement.dsse.json"]  # only the new file is read

    read.clear()
    png = tmp_path / "plots" / "a.png"
    png.write_bytes(b"PNG")  # same size, new content: the modification time tells
    stat = png.stat()
    os.utime(png, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    again = artifact_digests(tmp_path, cache)
    assert again["plots/a.png"] == hashlib.sha256(b"PNG").hexdigest() and read == ["a.png"]
    assert artifact_digests(tmp_path) == again  # without a cache every file is read
