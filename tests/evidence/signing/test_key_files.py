"""Key files that are damaged, missing or too open: one line each, and a listing that goes on past them
(issue 20, "Messages and passive outputs")."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from civiclab.cli import main
from civiclab.errors import SigningError, SpecError
from civiclab.evidence.signing.keys import ensure_demo_key, init_key, keys_dir, list_keys, load_signer


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lab folder of this test's own, with three keys: lab (the default), alice and bob."""
    folder = tmp_path / "home"
    monkeypatch.setenv("CIVICLAB_HOME", str(folder))
    monkeypatch.delenv("CIVICLAB_KEY", raising=False)
    for name in ("lab", "alice", "bob"):
        init_key(name)
    return folder


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


# Guards issue 20: a corrupt NAME.pub gave a cryptography traceback on `keys export`.
@pytest.mark.parametrize(
    "content", [b"not a key at all", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"]
)
def test_a_damaged_public_key_file_is_one_line(
    content: bytes, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (keys_dir() / "alice.pub").write_bytes(content)
    assert main(["keys", "export", "alice"]) == 1
    assert (
        _one_error_line(capsys)
        == f"civiclab: error: {keys_dir() / 'alice.pub'}: not a PEM public key (damaged file)"
    )
    assert main(["keys", "export", "bob", "--format", "jwk"]) == 0  # the others still export


# Guards issue 20: a NAME.json without `keyid`, or missing, made `keys list` fail whole.
def test_keys_list_marks_a_broken_key_and_lists_the_others(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    meta = keys_dir() / "alice.json"
    meta.write_text(json.dumps({"name": "alice", "created": "2024"}), encoding="utf-8")
    (keys_dir() / "bob.json").unlink()
    assert main(["keys", "list"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert sorted(rows) == ["alice", "bob", "lab"]
    assert f"BROKEN: {meta} has no key id (`keyid`)" in rows["alice"]
    assert "BROKEN: cannot read" in rows["bob"] and "bob.json" in rows["bob"]
    assert "BROKEN" not in rows["lab"] and "(default)" in rows["lab"]
    assert main(["keys", "list", "--json"]) == 0
    listed = {k["name"]: k for k in json.loads(capsys.readouterr().out)}
    assert listed["lab"]["problem"] is None and listed["lab"]["keyid"] == load_signer("lab").keyid
    assert listed["alice"]["problem"].endswith("has no key id (`keyid`)") and listed["alice"]["keyid"] == ""
    meta.write_text("{not json", encoding="utf-8")
    assert [k.problem for k in list_keys() if k.name == "alice"] == [f"{meta} is not JSON"]
    with pytest.raises(SigningError, match=r"key 'alice': .*alice.json is not JSON"):
        load_signer("alice")


# Guards issue 20: `CIVICLAB_KEY=nope civiclab run` said "a key named 'local-demo' already exists".
def test_civiclab_key_naming_no_key_says_so(
    journey_spec: Path,
    store_uri: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CIVICLAB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CIVICLAB_KEY", raising=False)
    assert ensure_demo_key() == ("local-demo", True)
    monkeypatch.setenv("CIVICLAB_KEY", "nope")
    assert main(["run", str(journey_spec), "--sessions", "4", "--tracking-uri", store_uri]) == 2
    line = _one_error_line(capsys)
    assert "no key named 'nope'" in line and "CIVICLAB_KEY" in line and "already exists" not in line
    assert sorted(p.name for p in keys_dir().glob("*.key")) == ["local-demo.key"]


# Guards issue 20: a private key readable by others (0644) was used silently.
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_private_key_others_may_read_is_refused_as_ssh_does(
    mode: int, home: Path, journey_spec: Path, store_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    private = keys_dir() / "lab.key"
    os.chmod(private, mode)
    with pytest.raises(SpecError, match=rf"mode {mode:04o}\): refused; run `chmod 600 "):
        load_signer("lab")
    assert main(["run", str(journey_spec), "--sessions", "4", "--tracking-uri", store_uri]) == 2
    assert _one_error_line(capsys) == (
        f"civiclab: error: {private}: private key readable by other users (mode {mode:04o}): refused; "
        f"run `chmod 600 {private}`"
    )
    os.chmod(private, 0o600)
    assert load_signer("lab").name == "lab"
