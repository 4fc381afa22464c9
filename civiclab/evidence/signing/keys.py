"""Ed25519 signing keys of a lab or a committee member, kept under CIVICLAB_HOME.

Layout: `$CIVICLAB_HOME/keys/NAME.key` (mode 0600: PKCS#8 PEM, or when a passphrase is given the
scrypt + AES-256-GCM block of `civiclab.evidence.signing.keyfile`), `NAME.pub` (SubjectPublicKeyInfo
PEM) and `NAME.json` (key id and which environment variable holds its passphrase). A private key is
never printed nor logged.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import os
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from civiclab.errors import SigningError, SpecError
from civiclab.evidence.signing.keyfile import BadKeyFile, Kdf, decrypt_private, encrypt_private, kdf_of
from civiclab.home import lab_home, text_setting

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

log = logging.getLogger(__name__)

KEY_ENV = "CIVICLAB_KEY"
DEFAULT_FILE = "default"
DEMO_KEY = "local-demo"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

ExportFormat = Literal["pem", "jwk"]


def keys_dir(home: Path | None = None) -> Path:
    return (home or lab_home()) / "keys"


def public_key_id(public_raw: bytes) -> str:
    """A key's id: the sha256 of its raw 32-byte public key, in hex."""
    return hashlib.sha256(public_raw).hexdigest()


def public_raw(public: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


KDF_LABELS: dict[str, str] = {
    "scrypt": "scrypt",
    "pbkdf2": "weak encryption (PBKDF2): re-encrypt",
    "none": "not encrypted",
}


@dataclass(frozen=True)
class KeyInfo:
    """A key as `civiclab keys list` shows it (never its private part).

    `kdf` is read from the key file itself: "scrypt" (keys made now), "pbkdf2" (encrypted keys made
    by earlier versions: weak, to re-encrypt) or "none".
    """

    name: str
    keyid: str
    encrypted: bool
    passphrase_env: str | None
    created: str
    default: bool = False
    kdf: Kdf = "none"
    problem: str | None = None
    """Why the key cannot be used (a damaged or missing file), for a listing that goes on past it."""

    @property
    def weak(self) -> bool:
        return self.kdf == "pbkdf2"


@dataclass(frozen=True)
class Signer:
    """A loaded private key: signs bytes, tells its id and public key."""

    name: str
    keyid: str
    public_key: bytes
    _private: Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def __repr__(self) -> str:  # never show the private key, even in a traceback
        return f"Signer(name={self.name!r}, keyid={self.keyid[:16]}…)"


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise SpecError("keys", "name", f"{name!r}: use letters, digits, '.', '_' or '-' (64 at most)")
    return name


def init_key(
    name: str,
    *,
    passphrase_env: str | None = None,
    home: Path | None = None,
    passphrase: str | None = None,
) -> KeyInfo:
    """Create an Ed25519 key pair NAME; the first key created becomes the default signing key.

    The key is encrypted with the passphrase in `passphrase_env` (what `civiclab keys init` reads), or
    with `passphrase` given directly by a caller that holds it (the desk, with a member's password:
    never put in the process environment, where a child process would inherit it). With both, the
    key is encrypted with `passphrase` and the CLI later reads it from `passphrase_env`.

    Raises:
        SpecError: a bad name, an existing key, or a passphrase variable that is not set.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _check_name(name)
    folder = keys_dir(home)
    if (folder / f"{name}.key").exists():
        raise SpecError("keys", "name", f"a key named {name!r} already exists in {folder}")
    if passphrase is None and passphrase_env:
        passphrase = _passphrase_from(passphrase_env)
    if passphrase is not None and not passphrase:
        raise SpecError("keys", "passphrase", "an empty passphrase encrypts nothing")
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    private = Ed25519PrivateKey.generate()
    _write_private(folder / f"{name}.key", _private_file(private, passphrase), replace=False)
    public = private.public_key()
    (folder / f"{name}.pub").write_bytes(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    keyid = public_key_id(public_raw(public))
    meta = {
        "name": name,
        "keyid": keyid,
        "encrypted": passphrase is not None,
        "passphrase_env": passphrase_env,
        "created": created,
    }
    (folder / f"{name}.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    if not (folder / DEFAULT_FILE).exists():
        (folder / DEFAULT_FILE).write_text(name, encoding="utf-8")
    log.info("created signing key %s (%s)", name, keyid[:16])
    return _info(folder, name)


def _passphrase_from(variable: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise SpecError("keys", "--passphrase-env", f"environment variable {variable} is not set")
    return value


def _private_file(private: Ed25519PrivateKey, passphrase: str | None) -> bytes:
    """The bytes of NAME.key: the scrypt + AES-256-GCM block with a passphrase, else PKCS#8 PEM."""
    from cryptography.hazmat.primitives import serialization

    if passphrase is None:
        return private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return encrypt_private(der, passphrase)


def _write_private(path: Path, data: bytes, *, replace: bool) -> None:
    """Write a private key file created with mode 0600: never a moment when another user could read it."""
    target = path.with_name(path.name + ".new") if replace else path
    if replace:
        target.unlink(missing_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    if replace:
        os.replace(target, path)


def _info(folder: Path, name: str) -> KeyInfo:
    meta_file = folder / f"{name}.json"
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        with (folder / f"{name}.key").open("rb") as fh:
            kdf = kdf_of(fh.read(128))  # the file says how it is protected, not the metadata
    except OSError as exc:
        raise SigningError(f"key {name!r}: cannot read {exc.filename}: {exc.strerror or exc}") from None
    except ValueError:
        raise SigningError(f"key {name!r}: {meta_file} is not JSON") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("keyid"), str) or not meta["keyid"]:
        raise SigningError(f"key {name!r}: {meta_file} has no key id (`keyid`)")
    return KeyInfo(
        name=name,
        keyid=meta["keyid"],
        encrypted=kdf != "none",
        passphrase_env=meta.get("passphrase_env"),
        created=str(meta.get("created", "")),
        default=default_key_name(folder.parent) == name,
        kdf=kdf,
    )


def default_key_name(home: Path | None = None) -> str | None:
    """The key runs are signed with: CIVICLAB_KEY, else the first key created."""
    chosen = text_setting(KEY_ENV)
    if chosen:
        return chosen
    marker = keys_dir(home) / DEFAULT_FILE
    return marker.read_text(encoding="utf-8").strip() if marker.exists() else None


def list_keys(home: Path | None = None) -> list[KeyInfo]:
    """Every key, in name order; a key whose files are damaged is listed with its `problem`."""
    folder = keys_dir(home)
    if not folder.is_dir():
        return []
    return [_listed(folder, p.stem) for p in sorted(folder.glob("*.key"))]


def _listed(folder: Path, name: str) -> KeyInfo:
    try:
        return _info(folder, name)
    except SigningError as exc:
        problem = str(exc).removeprefix(f"key {name!r}: ")
        default = default_key_name(folder.parent) == name
        return KeyInfo(name, "", False, None, "", default=default, problem=problem)


def load_public(name: str, home: Path | None = None) -> Ed25519PublicKey:
    """The public key NAME.

    Raises:
        SpecError: no such key.
        SigningError: its file is damaged or holds another kind of key.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    path = keys_dir(home) / f"{_check_name(name)}.pub"
    if not path.exists():
        raise SpecError("keys", "name", f"no key named {name!r} in {path.parent}")
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, UnsupportedAlgorithm):
        raise SigningError(f"{path}: not a PEM public key (damaged file)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{path}: not an Ed25519 public key")
    return key


def load_signer(
    name: str | None = None, home: Path | None = None, *, passphrase: str | None = None
) -> Signer:
    """Load a private key (the default one when `name` is None), decrypting it if needed.

    An encrypted key is opened with `passphrase` when the caller holds it (the desk, with the
    password just typed), else with the environment variable its metadata names (the CLI). Keys
    encrypted by earlier versions (PKCS#8 with PBKDF2) still open.

    Raises:
        SpecError: no such key, or its passphrase variable is not set.
        SigningError: the key file is unreadable or the passphrase is wrong.
    """
    name = name or default_key_name(home)
    if not name:
        raise SpecError("keys", "name", "no signing key: create one with `civiclab keys init --name NAME`")
    folder = keys_dir(home)
    path = folder / f"{_check_name(name)}.key"
    if not path.exists():
        raise SpecError("keys", "name", f"no key named {name!r} in {folder}")
    check_private_mode(path)
    info = _info(folder, name)
    if info.encrypted and passphrase is None:
        var = info.passphrase_env or ""
        if not os.environ.get(var):
            raise SpecError("keys", name, f"key is encrypted: set its passphrase in {var}")
        passphrase = os.environ[var]
    private = _open_private(name, path.read_bytes(), passphrase if info.encrypted else None)
    raw = public_raw(private.public_key())
    return Signer(name=name, keyid=public_key_id(raw), public_key=raw, _private=private)


def check_private_mode(path: Path) -> None:
    """Refuse a private key file other users may read or write, as ssh does.

    Raises:
        SpecError: the file's mode gives group or others any access; the message says how to fix it.
    """
    import stat

    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SpecError(
            path,
            "",
            f"private key readable by other users (mode {mode:04o}): refused; run `chmod 600 {path}`",
        )


def _open_private(name: str, data: bytes, passphrase: str | None) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        if kdf_of(data) == "scrypt":
            private = serialization.load_der_private_key(decrypt_private(data, passphrase or ""), None)
        else:
            password = passphrase.encode() if passphrase is not None else None
            private = serialization.load_pem_private_key(data, password=password)
    except (BadKeyFile, ValueError, TypeError):
        # The message of cryptography never holds key material, but keep ours to one fixed line.
        raise SigningError(f"key {name!r}: cannot be loaded (wrong passphrase or damaged file)") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningError(f"key {name!r}: not an Ed25519 key")
    return private


def reencrypt_key(
    name: str,
    new_passphrase: str,
    *,
    passphrase: str | None = None,
    passphrase_env: str | None = None,
    home: Path | None = None,
) -> KeyInfo:
    """Encrypt key NAME anew with scrypt under `new_passphrase` (a weak or unencrypted key, a new password).

    The key is opened as `load_signer` opens it (`passphrase`, else its own variable), then
    replaced in one step: a crash leaves the old file or the new one, never half of either.
    `passphrase_env`, when given, becomes the variable the CLI reads the new passphrase from.

    Raises:
        SpecError: no such key, an empty passphrase, or the old passphrase is not available.
        SigningError: the old passphrase does not open the key.
    """
    if not new_passphrase:
        raise SpecError("keys", "passphrase", "an empty passphrase encrypts nothing")
    folder = keys_dir(home)
    signer = load_signer(name, home, passphrase=passphrase)
    _write_private(folder / f"{name}.key", _private_file(signer._private, new_passphrase), replace=True)
    meta_file = folder / f"{name}.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta["encrypted"] = True
    if passphrase_env:
        meta["passphrase_env"] = passphrase_env
    meta_file.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    log.info("re-encrypted signing key %s (%s) with scrypt", name, signer.keyid[:16])
    return _info(folder, name)


def reviewer_key_problem(
    key: KeyInfo | str, *, lab_keyids: Collection[str] = (), home: Path | None = None
) -> str | None:
    """Why a key may not sign reviews, in one line, or None when it may.

    A reviewer's key must be encrypted, with scrypt (a PBKDF2 key is cracked too cheaply if its
    file leaks), and must not be a key that signs runs: the lab's default key (CIVICLAB_KEY, else
    the first key made) or one of `lab_keyids` (the trust file's `labs`, when the caller has one).

    Raises:
        SpecError: `key` names no key.
    """
    info = key if isinstance(key, KeyInfo) else key_info(key, home)
    if not info.encrypted:
        return f"key {info.name!r} is not encrypted: a reviewer's key must be encrypted with a passphrase"
    if info.weak:
        return (
            f"key {info.name!r} has weak encryption (PBKDF2): re-encrypt it with "
            f"`civiclab keys reencrypt {info.name} --passphrase-env VAR`"
        )
    if info.name == default_key_name(home):
        return f"key {info.name!r} is the lab's default run-signing key: a review needs the member's own key"
    if info.keyid in lab_keyids:
        return f"key {info.name!r} is a lab's run-signing key in the trust file: it cannot sign reviews"
    return None


def key_info(name: str, home: Path | None = None) -> KeyInfo:
    """The key NAME as `civiclab keys list` shows it.

    Raises:
        SpecError: no such key.
    """
    folder = keys_dir(home)
    if not (folder / f"{_check_name(name)}.key").exists():
        raise SpecError("keys", "name", f"no key named {name!r} in {folder}")
    return _info(folder, name)


def ensure_demo_key(home: Path | None = None) -> tuple[str, bool]:
    """The default key's name, creating an unencrypted local demo key when there is none.

    Raises:
        SpecError: CIVICLAB_KEY (or the default marker) names a key that does not exist.

    Returns:
        (name, created): `created` is True only the first time, so callers say so once.
    """
    name = default_key_name(home)
    folder = keys_dir(home)
    if name and (folder / f"{name}.key").exists():
        return name, False
    if name:  # CIVICLAB_KEY, or the default marker, names a key that is not there: no demo key instead
        where = KEY_ENV if text_setting(KEY_ENV) else str(folder / DEFAULT_FILE)
        raise SpecError("keys", where, f"no key named {name!r} in {folder}")
    init_key(DEMO_KEY, home=home)
    return DEMO_KEY, True


def export_public(name: str, fmt: ExportFormat = "pem", home: Path | None = None) -> str:
    """A public key as PEM or as a JWK (OKP, Ed25519) with its key id."""
    from cryptography.hazmat.primitives import serialization

    public = load_public(name, home)
    if fmt == "pem":
        return public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
    raw = public_raw(public)
    return json.dumps({"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": public_key_id(raw)})
