"""The signing keys of committee members on the desk: made, linked and re-encrypted with their password.

A member's key is encrypted with the member's own password (scrypt + AES-256-GCM): the desk never
holds it in clear and opens it only while signing, with the password just typed. A key may be
linked only when it could sign reviews (`reviewer_key_problem`: encrypted with scrypt, not the
lab's run-signing key nor a lab key of the trust file) and the password given opens it.
"""

from __future__ import annotations

import re

from civiclab.errors import SigningError, SpecError


def passphrase_variable(key_name: str) -> str:
    """The environment variable the signing helper reads this key's passphrase from, while signing."""
    return "CIVICLAB_DESK_KEY_" + re.sub(r"[^A-Z0-9]", "_", key_name.upper())


def lab_keyids() -> set[str]:
    """Key ids of the trust file's `labs` (CIVICLAB_TRUST), empty when no trust file is set."""
    from civiclab.evidence.signing.trust import load_trust

    loaded = load_trust(None)
    return set(loaded[0].lab_keys()) if loaded else set()


def create_member_key(account: str, password: str) -> str:
    """A new key for `account` (desk-NAME, or desk-NAME-2… when taken), encrypted with `password`."""
    from civiclab.evidence.signing.keys import DEFAULT_FILE, default_key_name, init_key, keys_dir

    folder = keys_dir()
    key_name = f"desk-{account}"
    suffix = 2
    while (folder / f"{key_name}.key").exists():
        key_name = f"desk-{account}-{suffix}"
        suffix += 1
    had_default = default_key_name() is not None
    # Encrypted with the password itself, never through the environment (a child process started
    # meanwhile would inherit it); the CLI opens the key with the variable named here.
    init_key(key_name, passphrase_env=passphrase_variable(key_name), passphrase=password)
    if not had_default:
        # The first key made becomes the lab's default for signing runs; a member's key must never be.
        (folder / DEFAULT_FILE).unlink(missing_ok=True)
    return key_name


def check_member_key(key_name: str, password: str) -> None:
    """Refuse a key that may not sign reviews, or that `password` does not open.

    Raises:
        SpecError: no such key; unencrypted, weakly encrypted (PBKDF2), the lab's default key or a
            lab key of the trust file; or the password does not unlock it.
    """
    from civiclab.evidence.signing.keys import key_info, load_signer, reviewer_key_problem

    try:
        info = key_info(key_name)
    except SpecError:
        raise SpecError(
            "desk user", "--key", f"no signing key named {key_name!r} (civiclab keys list)"
        ) from None
    problem = reviewer_key_problem(info, lab_keyids=lab_keyids())
    if problem:
        raise SpecError("desk user", "--key", problem)
    try:
        load_signer(key_name, passphrase=password)
    except SigningError:
        raise SpecError(
            "desk user", "--key", f"the password given does not unlock key {key_name!r}"
        ) from None


def reencrypt_member_key(key_name: str, old_password: str, new_password: str) -> None:
    """Encrypt a member's key with their new password (scrypt); a weak key is upgraded on the way.

    Raises:
        SpecError: the old password does not open the key (nothing is changed then).
    """
    from civiclab.evidence.signing.keys import reencrypt_key

    try:
        reencrypt_key(key_name, new_password, passphrase=old_password)
    except SigningError:
        raise SpecError(
            "desk user", "--old-password-env", f"the old password does not unlock key {key_name!r}"
        ) from None
