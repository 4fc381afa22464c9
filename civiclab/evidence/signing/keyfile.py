"""How a private key is kept on disk: encrypted with scrypt and AES-256-GCM, or plain PKCS#8.

An encrypted key is an armored block around the key's PKCS#8 DER:

    -----BEGIN CIVICLAB ENCRYPTED PRIVATE KEY-----
    Format: civiclab-key-1
    KDF: scrypt n=65536 r=8 p=1
    Salt: <base64, 16 bytes>
    Cipher: AES-256-GCM
    Nonce: <base64, 12 bytes>

    <base64 of the ciphertext and its tag>
    -----END CIVICLAB ENCRYPTED PRIVATE KEY-----

scrypt is memory-hard (64 MiB at n=2**16, r=8): each guess of a stolen file costs that memory and
about 0.15 s, where the PBKDF2 of cryptography's `BestAvailableEncryption` (2,048 iterations) costs
a GPU almost nothing. The header is the cipher's associated data, so its parameters cannot be
changed without the tag failing. Keys written by earlier versions (PKCS#8 PEM encrypted with PBKDF2)
are still read, and reported as weak.
"""

from __future__ import annotations

import base64
import os
import re
import textwrap
from typing import Literal

Kdf = Literal["scrypt", "pbkdf2", "none"]

BEGIN = b"-----BEGIN CIVICLAB ENCRYPTED PRIVATE KEY-----"
END = b"-----END CIVICLAB ENCRYPTED PRIVATE KEY-----"
FORMAT = "civiclab-key-1"
SCRYPT_N = 2**16
SCRYPT_R = 8
SCRYPT_P = 1
# A file is read only within these bounds: a planted header must not make the desk allocate gigabytes.
MAX_N = 2**20
MAX_R = 16
MAX_P = 4
_KDF = re.compile(r"^scrypt n=(\d+) r=(\d+) p=(\d+)$")


class BadKeyFile(ValueError):
    """The armored key is damaged, or the passphrase does not open it."""


def kdf_of(data: bytes) -> Kdf:
    """How a key file is protected: "scrypt" (this format), "pbkdf2" (PKCS#8 of earlier versions), "none"."""
    head = data.lstrip()[:64]
    if head.startswith(BEGIN):
        return "scrypt"
    if head.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"):
        return "pbkdf2"
    return "none"


def _scrypt_key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def encrypt_private(der: bytes, passphrase: str) -> bytes:
    """The armored block of a PKCS#8 DER private key, encrypted with `passphrase`."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    header = (
        f"Format: {FORMAT}\n"
        f"KDF: scrypt n={SCRYPT_N} r={SCRYPT_R} p={SCRYPT_P}\n"
        f"Salt: {base64.b64encode(salt).decode()}\n"
        "Cipher: AES-256-GCM\n"
        f"Nonce: {base64.b64encode(nonce).decode()}\n"
    )
    key = _scrypt_key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    sealed = AESGCM(key).encrypt(nonce, der, header.encode())
    body = "\n".join(textwrap.wrap(base64.b64encode(sealed).decode(), 64))
    return BEGIN + b"\n" + header.encode() + b"\n" + body.encode() + b"\n" + END + b"\n"


def decrypt_private(data: bytes, passphrase: str) -> bytes:
    """The PKCS#8 DER inside an armored block.

    Raises:
        BadKeyFile: a damaged block, parameters out of bounds, or the wrong passphrase.
    """
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        text = data.decode("ascii").strip()
        head, rest = text.split("\n", 1)
        inner, tail = rest.rsplit("\n", 1)
        header, body = inner.split("\n\n", 1)
    except (UnicodeDecodeError, ValueError):
        raise BadKeyFile("not an armored key") from None
    if head.encode() != BEGIN or tail.encode() != END:
        raise BadKeyFile("not an armored key")
    fields = dict(line.split(": ", 1) for line in header.splitlines() if ": " in line)
    found = _KDF.match(fields.get("KDF", ""))
    if fields.get("Format") != FORMAT or fields.get("Cipher") != "AES-256-GCM" or found is None:
        raise BadKeyFile("unknown key format")
    n, r, p = (int(v) for v in found.groups())
    if not (2 <= n <= MAX_N and n & (n - 1) == 0 and 1 <= r <= MAX_R and 1 <= p <= MAX_P):
        raise BadKeyFile("scrypt parameters out of bounds")
    try:
        salt = base64.b64decode(fields.get("Salt", ""), validate=True)
        nonce = base64.b64decode(fields.get("Nonce", ""), validate=True)
        sealed = base64.b64decode("".join(body.split()), validate=True)
    except ValueError:
        raise BadKeyFile("damaged base64") from None
    if len(nonce) != 12 or len(salt) < 16:
        raise BadKeyFile("damaged header")
    try:
        return AESGCM(_scrypt_key(passphrase, salt, n, r, p)).decrypt(nonce, sealed, (header + "\n").encode())
    except InvalidTag:
        raise BadKeyFile("wrong passphrase or damaged file") from None
