"""The `keys` command group (added to `civiclab` by civiclab/cli.py)."""

from __future__ import annotations

import argparse
import json


def cmd_keys_init(args: argparse.Namespace) -> int:
    from civiclab.evidence.signing.keys import init_key, keys_dir

    info = init_key(args.name, passphrase_env=args.passphrase_env)
    where = keys_dir()
    state = f"encrypted with the passphrase in {info.passphrase_env}" if info.encrypted else "not encrypted"
    print(f"key {info.name} created in {where} ({state}); key id {info.keyid}")
    print(f"give the committee its public key for their trust file: civiclab keys export {info.name}")
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    from civiclab.evidence.signing.keys import KDF_LABELS, keys_dir, list_keys

    keys = list_keys()
    if args.json:
        print(json.dumps([k.__dict__ for k in keys]))
        return 0
    if not keys:
        print(f"no keys in {keys_dir()}: create one with `civiclab keys init --name NAME`")
        return 0
    print(f"{'NAME':20} {'KEY ID':17}  {'KDF':7} CREATED")
    for k in keys:
        if k.problem is not None:  # listed, not fatal: the other keys are still usable
            default = " (default)" if k.default else ""
            print(f"{k.name:20} {'-':17}  {'-':7} -  BROKEN{default}: {k.problem}")
            continue
        notes = ", ".join(
            n for n in ("default" if k.default else "", KDF_LABELS[k.kdf] if k.weak else "") if n
        )
        print(f"{k.name:20} {k.keyid[:16]}…  {k.kdf:7} {k.created}{f'  ({notes})' if notes else ''}")
    return 0


def cmd_keys_reencrypt(args: argparse.Namespace) -> int:
    import os

    from civiclab.errors import SpecError
    from civiclab.evidence.signing.keys import reencrypt_key

    new = os.environ.get(args.passphrase_env, "")
    if not new:
        raise SpecError("keys", "--passphrase-env", f"environment variable {args.passphrase_env} is not set")
    old = None
    if args.old_passphrase_env:
        old = os.environ.get(args.old_passphrase_env) or None
        if old is None:
            raise SpecError(
                "keys", "--old-passphrase-env", f"environment variable {args.old_passphrase_env} is not set"
            )
    info = reencrypt_key(args.name, new, passphrase=old, passphrase_env=args.passphrase_env)
    print(
        f"key {info.name} encrypted with {info.kdf} (passphrase in {info.passphrase_env}); key id unchanged"
    )
    return 0


def cmd_keys_export(args: argparse.Namespace) -> int:
    from civiclab.evidence.signing.keys import export_public

    print(export_public(args.name, args.format).rstrip("\n"))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `keys init|list|export|reencrypt` on the civiclab command line."""
    p = sub.add_parser(
        "keys",
        help="create, list and export the Ed25519 keys that sign runs and reviews",
        description="Keys live under CIVICLAB_HOME (default ~/.config/civiclab)/keys, private files mode 0600. "
        "Runs are signed with CIVICLAB_KEY, else the first key created.",
    )
    keys = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    k = keys.add_parser("init", help="create a key pair")
    k.add_argument("--name", required=True)
    k.add_argument(
        "--passphrase-env", metavar="VAR", help="encrypt the private key with the passphrase in VAR"
    )
    k.set_defaults(handler=cmd_keys_init)
    k = keys.add_parser("list", help="list keys (never their private part)")
    k.add_argument("--json", action="store_true")
    k.set_defaults(handler=cmd_keys_list)
    k = keys.add_parser("export", help="print a public key for a trust file")
    k.add_argument("name")
    k.add_argument("--format", choices=["pem", "jwk"], default="pem")
    k.set_defaults(handler=cmd_keys_export)
    k = keys.add_parser(
        "reencrypt",
        help="encrypt a key anew with scrypt (a weak PBKDF2 key, an unencrypted key, a new passphrase)",
    )
    k.add_argument("name")
    k.add_argument("--passphrase-env", metavar="VAR", required=True, help="the new passphrase")
    k.add_argument(
        "--old-passphrase-env",
        metavar="VAR",
        help="the current passphrase (default: the variable the key's metadata names)",
    )
    k.set_defaults(handler=cmd_keys_reencrypt)
