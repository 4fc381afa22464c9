"""`civiclab desk user list|disable|enable|remove|role|reset-password` and `add --key`, as a secretary types them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from civiclab.cli import main

Out = tuple[int, str, str]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh lab home (desk.db, keys) with no run-signing key and no trust file."""
    folder = tmp_path / "home"
    monkeypatch.setenv("CIVICLAB_HOME", str(folder))
    monkeypatch.delenv("CIVICLAB_KEY", raising=False)
    monkeypatch.delenv("CIVICLAB_TRUST", raising=False)
    return folder


def desk_user(capsys: pytest.CaptureFixture[str], *argv: str) -> Out:
    code = main(["desk", "user", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def add(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str, role: str, password: str
) -> None:
    monkeypatch.setenv("NEW_PASSWORD", password)
    assert desk_user(capsys, "add", name, "--role", role, "--password-env", "NEW_PASSWORD")[0] == 0


def test_list_shows_role_state_key_created_and_last_sign_in(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.auth import Sessions

    code, out, _ = desk_user(capsys, "list")
    assert code == 0 and "no desk account" in out
    add(capsys, monkeypatch, "martin", "member", "martin-password")
    add(capsys, monkeypatch, "lea", "lab", "lea-lab-password")
    Sessions(AccountStore()).start("lea")
    code, out, _ = desk_user(capsys, "list")
    header, lea, martin = out.splitlines()
    assert header.split() == ["NAME", "ROLE", "STATE", "KEY", "CREATED", "LAST", "SIGN-IN"]
    assert lea.split()[:4] == ["lea", "lab", "active", "-"] and lea.split()[5].endswith("Z")
    assert martin.split()[:4] == ["martin", "member", "active", "desk-martin"] and martin.endswith("never")
    code, out, _ = desk_user(capsys, "list", "--json")
    listed = {u["name"]: u for u in json.loads(out)}
    assert listed["martin"]["key_name"] == "desk-martin" and listed["martin"]["last_login"] is None
    assert listed["lea"]["state"] == "active" and listed["lea"]["last_login"].startswith("20")
    assert set(listed["lea"]) == {"name", "role", "key_name", "state", "created", "last_login"}


@pytest.mark.parametrize("action", ["disable", "enable", "remove", "role", "reset-password"])
def test_an_unknown_user_is_one_line_and_exit_2(
    action: str, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PW", "a-long-enough-password")
    extra = {"role": ["viewer"], "reset-password": ["--password-env", "PW"]}.get(action, [])
    code, out, err = desk_user(capsys, action, "nobody", *extra)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "civiclab: error: desk user: name: no user named 'nobody' (civiclab desk user list)"
    ]


def test_disable_enable_and_remove(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.auth import Sessions

    add(capsys, monkeypatch, "vic", "viewer", "vic-viewer-password")
    store = AccountStore()
    sessions = Sessions(store)
    open_session = sessions.start("vic")
    assert sessions.get(open_session.sid) is not None

    code, out, _ = desk_user(capsys, "disable", "vic")
    assert code == 0 and "signed out everywhere" in out
    assert sessions.get(open_session.sid) is None
    assert store.authenticate("vic", "vic-viewer-password") is None
    assert store.get("vic").state == "disabled"  # type: ignore[union-attr]
    assert desk_user(capsys, "enable", "vic")[0] == 0
    assert store.authenticate("vic", "vic-viewer-password") is not None
    assert sessions.get(open_session.sid) is None  # enabling opens no old session again

    user = store.get("vic")
    assert user is not None
    store.add_comment("0" * 32, user, "the rural gap needs a human channel")
    again = sessions.start("vic")
    code, out, _ = desk_user(capsys, "remove", "vic")
    assert code == 0 and "its comments stay" in out
    assert sessions.get(again.sid) is None and store.authenticate("vic", "vic-viewer-password") is None
    assert [(c.author, c.body) for c in store.comments("0" * 32)] == [
        ("vic", "the rural gap needs a human channel")
    ]
    assert store.get("vic") is None
    code, out, _ = desk_user(capsys, "list")
    assert out.splitlines()[1].split()[:4] == ["vic", "viewer", "removed", "-"]
    # The name stays with its comments: nobody added later writes under it, and it cannot come back.
    monkeypatch.setenv("PW", "vic-viewer-password")
    code, _, err = desk_user(capsys, "add", "vic", "--role", "viewer", "--password-env", "PW")
    assert code == 2 and "already exists (removed: its name stays with its comments)" in err
    assert desk_user(capsys, "enable", "vic")[0] == 2


def test_role_changes_and_a_member_needs_their_password_for_a_key(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from civiclab.desk.accounts import AccountStore
    from civiclab.evidence.signing.keys import keys_dir, load_signer

    add(capsys, monkeypatch, "lea", "lab", "lea-lab-password")
    add(capsys, monkeypatch, "martin", "member", "martin-password")
    assert desk_user(capsys, "role", "lea", "viewer")[0] == 0
    assert AccountStore().get("lea").role == "viewer"  # type: ignore[union-attr]

    monkeypatch.setenv("PW", "not-leas-password")
    code, _, err = desk_user(capsys, "role", "lea", "member", "--password-env", "PW")
    assert code == 2 and "a member's key is encrypted with their password" in err
    assert AccountStore().get("lea").role == "viewer"  # type: ignore[union-attr]
    monkeypatch.setenv("PW", "lea-lab-password")
    code, out, _ = desk_user(capsys, "role", "lea", "member", "--password-env", "PW")
    assert code == 0 and "desk-lea" in out and "trust file" in out
    lea = AccountStore().get("lea")
    assert lea is not None and (lea.role, lea.key_name) == ("member", "desk-lea")
    assert load_signer("desk-lea", passphrase="lea-lab-password").name == "desk-lea"

    code, _, err = desk_user(capsys, "role", "martin", "member", "--password-env", "PW")
    assert code == 2 and "already a member, with key desk-martin" in err
    assert desk_user(capsys, "role", "martin", "lab", "--key", "desk-lea")[0] == 2
    assert desk_user(capsys, "role", "martin", "lab")[0] == 0
    martin = AccountStore().get("martin")
    assert martin is not None and (martin.role, martin.key_name) == ("lab", None)
    assert (keys_dir() / "desk-martin.key").exists()  # the key that signed their reviews stays
    with pytest.raises(SystemExit) as refused:  # not a desk role: argparse lists the choices
        desk_user(capsys, "role", "martin", "chair")
    assert refused.value.code == 2 and "choose from 'member', 'lab', 'viewer'" in capsys.readouterr().err


def test_reset_password_of_a_member_reencrypts_the_key_or_says_it_must_be_linked_anew(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.auth import Sessions
    from civiclab.errors import SigningError
    from civiclab.evidence.signing.keys import key_info, load_signer

    add(capsys, monkeypatch, "martin", "member", "first-password")
    store = AccountStore()
    session = Sessions(store).start("martin")
    keyid = key_info("desk-martin").keyid

    monkeypatch.setenv("NEW", "second-password")
    monkeypatch.setenv("OLD", "not-the-first-one")
    code, _, err = desk_user(
        capsys, "reset-password", "martin", "--password-env", "NEW", "--old-password-env", "OLD"
    )
    assert code == 2 and "the old password does not unlock key 'desk-martin'" in err
    assert store.authenticate("martin", "first-password") is not None  # nothing changed
    assert Sessions(store).get(session.sid) is not None

    monkeypatch.setenv("OLD", "first-password")
    code, out, _ = desk_user(
        capsys, "reset-password", "martin", "--password-env", "NEW", "--old-password-env", "OLD"
    )
    assert code == 0 and "key desk-martin re-encrypted" in out
    assert Sessions(store).get(session.sid) is None
    assert store.authenticate("martin", "first-password") is None
    assert store.authenticate("martin", "second-password") is not None
    assert load_signer("desk-martin", passphrase="second-password").keyid == keyid
    with pytest.raises(SigningError):
        load_signer("desk-martin", passphrase="first-password")
    assert key_info("desk-martin").kdf == "scrypt"

    monkeypatch.setenv("NEW", "third-password")
    code, out, _ = desk_user(capsys, "reset-password", "martin", "--password-env", "NEW")
    assert code == 0 and "no longer linked" in out and "must link a new key" in out
    martin = store.get("martin")
    assert martin is not None and martin.role == "member" and martin.key_name is None
    assert load_signer("desk-martin", passphrase="second-password").keyid == keyid  # kept, not deleted
    assert "(none: link one)" in desk_user(capsys, "list")[1]
    # Linked anew: the old key does not open with the new password; a new key is made for it.
    code, _, err = desk_user(
        capsys, "role", "martin", "member", "--password-env", "NEW", "--key", "desk-martin"
    )
    assert code == 2 and "does not unlock key 'desk-martin'" in err
    code, out, _ = desk_user(capsys, "role", "martin", "member", "--password-env", "NEW")
    assert code == 0 and "desk-martin-2" in out
    assert store.get("martin").key_name == "desk-martin-2"  # type: ignore[union-attr]
    assert load_signer("desk-martin-2", passphrase="third-password").keyid != keyid

    monkeypatch.setenv("SHORT", "short")
    assert desk_user(capsys, "reset-password", "martin", "--password-env", "SHORT")[0] == 2
    assert store.authenticate("martin", "third-password") is not None


def _pbkdf2_key(folder: Path, name: str, passphrase: str) -> None:
    """A member key as earlier versions wrote it: PKCS#8 encrypted with PBKDF2."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from civiclab.evidence.signing.keys import public_key_id, public_raw

    private = Ed25519PrivateKey.generate()
    folder.mkdir(parents=True, exist_ok=True)
    encryption = serialization.BestAvailableEncryption(passphrase.encode())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    (folder / f"{name}.key").write_bytes(pem)
    (folder / f"{name}.key").chmod(0o600)  # as every version wrote it
    public = private.public_key()
    spki = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (folder / f"{name}.pub").write_bytes(spki)
    meta = {"name": name, "keyid": public_key_id(public_raw(public)), "encrypted": True, "created": "2024"}
    (folder / f"{name}.json").write_text(json.dumps(meta))


def test_add_key_refuses_unencrypted_weak_and_lab_keys(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from civiclab.desk.accounts import AccountStore
    from civiclab.evidence.signing.keys import export_public, init_key, keys_dir

    password = "dupont-password"
    monkeypatch.setenv("PW", password)

    def link(key: str) -> Out:
        return desk_user(capsys, "add", "dupont", "--role", "member", "--password-env", "PW", "--key", key)

    init_key("lab")  # the lab's run-signing key (the first made), unencrypted
    code, _, err = link("lab")
    assert code == 2 and err.splitlines() == [
        "civiclab: error: desk user: --key: key 'lab' is not encrypted: a reviewer's key must be encrypted "
        "with a passphrase"
    ]
    init_key("lab-encrypted", passphrase=password)
    monkeypatch.setenv("CIVICLAB_KEY", "lab-encrypted")
    code, _, err = link("lab-encrypted")
    assert code == 2 and "the lab's default run-signing key" in err
    monkeypatch.delenv("CIVICLAB_KEY")

    init_key("other-lab", passphrase=password)
    trust = home / "trust.yaml"
    trust.write_text(
        json.dumps(
            {"version": 1, "labs": [{"name": "Other lab", "public_key": export_public("other-lab", "pem")}]}
        )
    )
    monkeypatch.setenv("CIVICLAB_TRUST", str(trust))
    code, _, err = link("other-lab")
    assert code == 2 and "a lab's run-signing key in the trust file" in err

    _pbkdf2_key(keys_dir(), "old-member", password)
    code, _, err = link("old-member")
    assert code == 2 and "weak encryption (PBKDF2)" in err and "civiclab keys reencrypt old-member" in err
    assert link("nobody")[2].strip().endswith("no signing key named 'nobody' (civiclab keys list)")
    assert AccountStore().get("dupont") is None

    init_key("dupont-own", passphrase=password)
    code, out, _ = link("dupont-own")
    assert code == 0 and "dupont-own" in out
    assert AccountStore().get("dupont").key_name == "dupont-own"  # type: ignore[union-attr]


def test_an_older_desk_db_gains_states_and_sessions(home: Path) -> None:
    from argon2 import PasswordHasher

    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.auth import Sessions

    home.mkdir(parents=True)
    db = sqlite3.connect(home / "desk.db")
    db.executescript(
        "CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, "
        "key_name TEXT, created TEXT NOT NULL);"
    )
    db.execute(
        "INSERT INTO users VALUES ('vic', 'viewer', ?, NULL, '2024-01-01T00:00:00Z')",
        (PasswordHasher().hash("vic-viewer-password"),),
    )
    db.commit()
    db.close()
    store = AccountStore()
    user = store.authenticate("vic", "vic-viewer-password")
    assert user is not None and (user.state, user.created, user.last_login) == (
        "active",
        "2024-01-01T00:00:00Z",
        None,
    )
    session = Sessions(store).start("vic")
    assert Sessions(AccountStore()).get(session.sid) is not None
    store.set_active("vic", False)
    assert Sessions(store).get(session.sid) is None
