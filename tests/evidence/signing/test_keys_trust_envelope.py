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
    listed = capsys.readouterr().out
    assert listed.startswith("lab ") and "(default)" in listed
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
