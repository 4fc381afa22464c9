"""Reading artifacts without following links: regular files only, inside the run's folder, bounded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from civiclab.store.files import UnsafeArtifact, read_artifact, regular_files, unsafe_entries


def _folder(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    (run / "plots").mkdir(parents=True)
    (run / "scorecard.json").write_text("{}")
    (run / "plots" / "funnel.png").write_bytes(b"png")
    (tmp_path / "secret.key").write_text("-----BEGIN PRIVATE KEY-----")
    return run


def test_regular_artifacts_are_read_and_nothing_is_reported(tmp_path: Path) -> None:
    run = _folder(tmp_path)
    assert read_artifact(run, "plots/funnel.png") == b"png"
    assert unsafe_entries(run) == []
    assert [p.relative_to(run).as_posix() for p in regular_files(run)] == [
        "plots/funnel.png",
        "scorecard.json",
    ]


def test_links_special_files_and_escapes_are_refused_and_named(tmp_path: Path) -> None:
    run = _folder(tmp_path)
    (run / "statement.dsse.json").symlink_to(tmp_path / "secret.key")
    (run / "linked").symlink_to(tmp_path, target_is_directory=True)
    (run / "zero").symlink_to("/dev/zero")
    os.mkfifo(run / "plots" / "pipe")
    for name in (
        "statement.dsse.json",
        "linked/secret.key",
        "zero",
        "plots/pipe",
        "../secret.key",
        "/etc/passwd",
    ):
        with pytest.raises(UnsafeArtifact):
            read_artifact(run, name)
    assert unsafe_entries(run) == ["linked", "plots/pipe", "statement.dsse.json", "zero"]
    assert [p.name for p in regular_files(run)] == ["funnel.png", "scorecard.json"]
    with pytest.raises(FileNotFoundError):
        read_artifact(run, "missing.json")


def test_a_read_is_bounded(tmp_path: Path) -> None:
    run = _folder(tmp_path)
    (run / "big.json").write_bytes(b"x" * 2048)
    assert len(read_artifact(run, "big.json", limit=2048)) == 2048
    with pytest.raises(UnsafeArtifact, match="larger than 1024 bytes"):
        read_artifact(run, "big.json", limit=1024)
