"""`civiclab desk` and `civiclab desk user add` as a user types them."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from civiclab.cli import main


def test_bad_or_busy_port_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["desk", "--port", "70000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["civiclab: error: desk: --port: 70000 is not a TCP port (1-65535)"]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["desk", "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert "serving on" not in out + err
    assert err.strip().splitlines() == [
        f"civiclab: error: desk: --port: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_user_add_makes_a_member_key_encrypted_with_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from civiclab.desk.accounts import AccountStore
    from civiclab.errors import SigningError
    from civiclab.evidence.signing.keys import default_key_name, keys_dir, list_keys, load_signer

    monkeypatch.setenv("CIVICLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEW_PASSWORD", "a-long-password")
    assert main(["desk", "user", "add", "martin", "--role", "member", "--password-env", "NEW_PASSWORD"]) == 0
    assert "desk-martin" in capsys.readouterr().out
    info = next(k for k in list_keys() if k.name == "desk-martin")
    assert info.encrypted
    assert default_key_name() is None  # a member's key never becomes the key that signs runs
    assert b"ENCRYPTED" in (keys_dir() / "desk-martin.key").read_bytes()
    with pytest.raises(SigningError):  # without the password, the key does not open
        monkeypatch.setenv(str(info.passphrase_env), "wrong password")
        load_signer("desk-martin")
    user = AccountStore().authenticate("martin", "a-long-password")
    assert user is not None and user.role == "member" and user.key_name == "desk-martin"
    assert AccountStore().authenticate("martin", "a-long-passwore") is None

    # Linking an existing key needs the password that unlocks it.
    monkeypatch.setenv("OTHER", "another-password")
    assert (
        main(
            [
                "desk",
                "user",
                "add",
                "dupont",
                "--role",
                "member",
                "--password-env",
                "OTHER",
                "--key",
                "desk-martin",
            ]
        )
        == 2
    )
    assert "does not unlock key 'desk-martin'" in capsys.readouterr().err
    monkeypatch.setenv("OTHER", "a-long-password")
    assert (
        main(
            [
                "desk",
                "user",
                "add",
                "dupont",
                "--role",
                "member",
                "--password-env",
                "OTHER",
                "--key",
                "desk-martin",
            ]
        )
        == 0
    )
    # Lab staff and viewers have no key; short passwords and unknown roles are refused.
    assert main(["desk", "user", "add", "lea", "--role", "lab", "--password-env", "OTHER"]) == 0
    assert AccountStore().get("lea").key_name is None  # type: ignore[union-attr]
    monkeypatch.setenv("SHORT", "short")
    assert main(["desk", "user", "add", "x", "--role", "viewer", "--password-env", "SHORT"]) == 2
    assert main(["desk", "user", "add", "martin", "--role", "viewer", "--password-env", "OTHER"]) == 2
    assert "already exists" in capsys.readouterr().err
