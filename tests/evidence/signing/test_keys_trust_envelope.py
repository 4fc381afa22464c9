"""Keys, trust file and DSSE envelopes, on their own: what a user and an attacker can do with them."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from civiclab.cli import main
from civiclab.errors import SigningError, SpecError
from civiclab.evidence.signing.envelope import canonical, pae, read_envelope, sign_statement, verify_signature
from civiclab.evidence.signing.keys import export_public, init_key, keys_dir, list_keys, load_signer
from civiclab.evidence.signing.trust import load_trust


def test_keys_init_list_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CIVICLAB_HOME", str(tmp_path / "home"))
    assert main(["keys", "init", "--name", "lab"]) == 0
    private = tmp_path / "home" / "keys" / "lab.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    out = capsys.readouterr().out
    assert "BEGIN PRIVATE KEY" not in out and private.read_text() not in out
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split() == ["NAME", "KEY", "ID", "KDF", "CREATED"]
    assert listed[1].startswith("lab ") and listed[1].split()[2] == "none" and "(default)" in listed[1]
    assert main(["keys", "export", "lab", "--format", "jwk"]) == 0
    jwk = json.loads(capsys.readouterr().out)
    signer = load_signer("lab")
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["kid"] == signer.keyid
    assert base64.urlsafe_b64decode(jwk["x"] + "=") == signer.public_key
    assert main(["keys", "export", "lab"]) == 0
    assert capsys.readouterr().out.startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in repr(signer) and signer.name in repr(signer)
    assert main(["keys", "init", "--name", "lab"]) == 2  # no overwrite of an existing key


def test_passphrase_encrypted_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("LAB_PASS", "correct horse battery staple")
    info = init_key("lab", passphrase_env="LAB_PASS", home=home)
    assert info.encrypted and b"ENCRYPTED PRIVATE KEY" in (keys_dir(home) / "lab.key").read_bytes()
    assert load_signer("lab", home=home).keyid == info.keyid
    monkeypatch.setenv("LAB_PASS", "wrong")
    with pytest.raises(SigningError, match="wrong passphrase"):
        load_signer("lab", home=home)
    monkeypatch.delenv("LAB_PASS")
    with pytest.raises(SpecError, match="set its passphrase in LAB_PASS"):
        load_signer("lab", home=home)
    assert [k.name for k in list_keys(home)] == ["lab"]


def _legacy_key(home: Path, name: str, passphrase: str) -> str:
    """A key as earlier versions wrote it: PKCS#8 PEM encrypted by cryptography (PBKDF2), and its metadata."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from civiclab.evidence.signing.keys import public_key_id, public_raw

    private = Ed25519PrivateKey.generate()
    folder = keys_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.key").write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
    )
    (folder / f"{name}.key").chmod(0o600)  # as every version wrote it
    (folder / f"{name}.pub").write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    keyid = public_key_id(public_raw(private.public_key()))
    meta = {"name": name, "keyid": keyid, "encrypted": True, "passphrase_env": "OLD_PASS", "created": "2024"}
    (folder / f"{name}.json").write_text(json.dumps(meta))
    return keyid


def test_new_encrypted_keys_use_scrypt_and_aes_gcm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib
    import time

    from civiclab.evidence.signing.keyfile import SCRYPT_N, decrypt_private

    home = tmp_path / "home"
    monkeypatch.setenv("MEMBER_PASS", "a member's passphrase")
    info = init_key("member", passphrase_env="MEMBER_PASS", home=home)
    data = (keys_dir(home) / "member.key").read_bytes()
    assert data.startswith(b"-----BEGIN CIVICLAB ENCRYPTED PRIVATE KEY-----\nFormat: civiclab-key-1\n")
    assert f"KDF: scrypt n={SCRYPT_N} r=8 p=1".encode() in data and b"Cipher: AES-256-GCM" in data
    assert SCRYPT_N >= 2**15
    assert (info.kdf, info.encrypted, info.weak) == ("scrypt", True, False)
    started = time.perf_counter()
    signer = load_signer("member", home=home)
    unlock_s = time.perf_counter() - started
    assert signer.keyid == info.keyid == hashlib.sha256(signer.public_key).hexdigest()
    assert 0.02 < unlock_s < 5, unlock_s  # memory-hard: not free, yet quick enough to sign interactively
    assert load_signer("member", home=home, passphrase="a member's passphrase").keyid == info.keyid
    with pytest.raises(SigningError) as wrong:
        load_signer("member", home=home, passphrase="a member's passphrasE")
    assert str(wrong.value) == "key 'member': cannot be loaded (wrong passphrase or damaged file)"
    # The header is bound to the ciphertext: cheaper parameters written into it do not open the key,
    # and parameters past the bounds are refused before any memory is spent.
    for edit in (b"n=16384 r=8", b"n=1073741824 r=8"):
        (keys_dir(home) / "member.key").write_bytes(data.replace(f"n={SCRYPT_N} r=8".encode(), edit))
        started = time.perf_counter()
        with pytest.raises(SigningError, match="wrong passphrase or damaged file"):
            load_signer("member", home=home, passphrase="a member's passphrase")
        assert time.perf_counter() - started < 5
    with pytest.raises(ValueError):
        decrypt_private(data.replace(b"Format: civiclab-key-1", b"Format: other"), "a member's passphrase")


def test_an_old_pbkdf2_key_still_opens_and_is_flagged_weak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from civiclab.evidence.signing.keys import key_info, reviewer_key_problem

    home = tmp_path / "home"
    monkeypatch.setenv("CIVICLAB_HOME", str(home))
    keyid = _legacy_key(home, "old-member", "the old passphrase")
    monkeypatch.setenv("OLD_PASS", "the old passphrase")
    assert load_signer("old-member").keyid == keyid  # existing homes keep working
    info = key_info("old-member")
    assert (info.kdf, info.encrypted, info.weak) == ("pbkdf2", True, True)
    with pytest.raises(SigningError, match="wrong passphrase"):
        load_signer("old-member", passphrase="not the old one")
    assert main(["keys", "list"]) == 0
    line = next(row for row in capsys.readouterr().out.splitlines() if row.startswith("old-member "))
    assert line.split()[2] == "pbkdf2" and "weak encryption (PBKDF2): re-encrypt" in line
    assert main(["keys", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["kdf"] == "pbkdf2"
    problem = reviewer_key_problem("old-member")
    assert problem is not None and "weak encryption (PBKDF2)" in problem

    # Re-encrypted in place: same key id, scrypt, the new passphrase opens it and the old one no more.
    monkeypatch.setenv("NEW_PASS", "the new passphrase")
    assert main(["keys", "reencrypt", "old-member", "--passphrase-env", "NEW_PASS"]) == 0
    assert "encrypted with scrypt" in capsys.readouterr().out
    info = key_info("old-member")
    assert (info.kdf, info.keyid, info.passphrase_env) == ("scrypt", keyid, "NEW_PASS")
    assert load_signer("old-member").keyid == keyid
    with pytest.raises(SigningError):
        load_signer("old-member", passphrase="the old passphrase")
    assert stat.S_IMODE((keys_dir() / "old-member.key").stat().st_mode) == 0o600
    assert sorted(p.name for p in keys_dir().iterdir() if "old-member" in p.name) == [
        "old-member.json",
        "old-member.key",
        "old-member.pub",
    ]
    assert reviewer_key_problem("old-member") is None
    # A wrong old passphrase changes nothing and says so in one line.
    monkeypatch.setenv("WRONG", "not it at all")
    before = (keys_dir() / "old-member.key").read_bytes()
    assert (
        main(
            [
                "keys",
                "reencrypt",
                "old-member",
                "--passphrase-env",
                "NEW_PASS",
                "--old-passphrase-env",
                "WRONG",
            ]
        )
        == 1
    )
    assert capsys.readouterr().err.strip().splitlines() == [
        "civiclab: error: key 'old-member': cannot be loaded (wrong passphrase or damaged file)"
    ]
    assert (keys_dir() / "old-member.key").read_bytes() == before


def test_reviewer_key_problem_names_why_a_key_may_not_sign_reviews(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civiclab.evidence.signing.keys import key_info, reviewer_key_problem

    monkeypatch.setenv("CIVICLAB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CIVICLAB_KEY", raising=False)
    init_key("lab")  # the first key: the lab's default for signing runs
    init_key("member", passphrase="the member's passphrase")
    init_key("other-lab", passphrase="another lab's passphrase")
    assert "is not encrypted" in str(reviewer_key_problem("lab"))
    assert reviewer_key_problem("member") is None
    assert reviewer_key_problem(key_info("member")) is None
    other = key_info("other-lab").keyid
    assert "a lab's run-signing key in the trust file" in str(
        reviewer_key_problem("other-lab", lab_keyids={other})
    )
    monkeypatch.setenv("CIVICLAB_KEY", "member")
    assert "the lab's default run-signing key" in str(reviewer_key_problem("member"))
    with pytest.raises(SpecError, match="no key named 'nobody'"):
        reviewer_key_problem("nobody")


def test_envelope_signature_covers_type_and_payload(tmp_path: Path) -> None:
    init_key("a", home=tmp_path)
    init_key("b", home=tmp_path)
    a, b = load_signer("a", home=tmp_path), load_signer("b", home=tmp_path)
    envelope = sign_statement({"z": 1, "a": [1.0, "é"]}, a)
    assert envelope.payload_bytes() == canonical({"a": [1.0, "é"], "z": 1}) == '{"a":[1,"é"],"z":1}'.encode()
    assert pae("t", b"xy") == b"DSSEv1 1 t 2 xy"
    again = read_envelope(envelope.to_json())
    assert verify_signature(again, {a.keyid: a.public_key}) == a.keyid
    assert verify_signature(again, {b.keyid: b.public_key}) is None
    forged = again.model_copy(update={"payload_type": "text/plain"})
    assert verify_signature(forged, {a.keyid: a.public_key}) is None
    with pytest.raises(SigningError, match="not a DSSE envelope"):
        read_envelope('{"payload": "x"}')


def test_trust_file_is_strict(tmp_path: Path) -> None:
    init_key("lab", home=tmp_path)
    good = tmp_path / "trust.yaml"
    good.write_text(
        "version: 1\nlabs:\n  - name: Lab\n    public_key: |\n"
        + "".join(f"      {line}\n" for line in export_public("lab", "pem", home=tmp_path).splitlines())
    )
    loaded = load_trust(good)
    assert loaded is not None and loaded[0].lab(load_signer("lab", home=tmp_path).keyid) is not None
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nlabs:\n  - name: Lab\n    public_key: AAAA\n    extra: 1\n")
    with pytest.raises(SpecError, match=r"bad.yaml: labs\[0\]\."):
        load_trust(bad)
    assert load_trust(None) is None


def test_without_any_key_a_demo_key_is_made_and_announced_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from civiclab.evidence.signing.seal import run_signer

    monkeypatch.setenv("CIVICLAB_HOME", str(tmp_path / "fresh"))
    monkeypatch.delenv("CIVICLAB_KEY", raising=False)
    first = run_signer()
    err = capsys.readouterr().err
    assert first.name == "local-demo" and err.count("created a local demo signing key 'local-demo'") == 1
    assert "no committee trusts it" in err
    assert run_signer().keyid == first.keyid
    assert capsys.readouterr().err == ""  # said once
    with pytest.raises(SpecError, match="no key named 'nobody'"):
        run_signer("nobody")
