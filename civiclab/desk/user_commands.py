"""`civiclab desk user add|list|disable|enable|remove|role|reset-password`: the desk's accounts.

Accounts live in CIVICLAB_HOME/desk.db, read by a running desk at every request: disabling,
removing or resetting an account signs its browsers out at once, without restarting the desk.
Passwords are asked twice on the terminal, or read from an environment variable (`--password-env`).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from civiclab.errors import SpecError

ACTIONS = ("add", "list", "disable", "enable", "remove", "role", "reset-password")


def _from_env(variable: str, option: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        raise SpecError("desk user", option, f"environment variable {variable} is not set")
    return value


def _new_password(args: argparse.Namespace) -> str:
    if args.password_env:
        return _from_env(args.password_env, "--password-env")
    password = getpass.getpass(f"password for {args.name}: ")
    if password != getpass.getpass("again: "):
        raise SpecError("desk user", "password", "the two passwords differ")
    return password


def _trust_hint(key_name: str) -> str:
    return (
        f"signs reviews with key {key_name} (encrypted with the password); add it to the committee of "
        f"the desk's trust file: civiclab keys export {key_name} --format jwk"
    )


def cmd_add(args: argparse.Namespace) -> int:
    from civiclab.desk.accounts import AccountStore

    password = _new_password(args)
    store = AccountStore()
    user = store.add_user(args.name, args.role, password, key=args.key)
    print(f"desk user {user.name} added ({user.role}) in {store.path}")
    if user.key_name:
        print(_trust_hint(user.key_name))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from civiclab.desk.accounts import AccountStore

    store = AccountStore()
    users = store.users(removed=True)
    if args.json:
        print(json.dumps([asdict(u) for u in users]))
        return 0
    if not users:
        print(f"no desk account in {store.path}: civiclab desk user add NAME --role member")
        return 0
    rows = [("NAME", "ROLE", "STATE", "KEY", "CREATED", "LAST SIGN-IN")]
    for u in users:
        key = u.key_name or ("(none: link one)" if u.role == "member" and u.state != "removed" else "-")
        rows.append((u.name, u.role, u.state, key, u.created, u.last_login or "never"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    from civiclab.desk.accounts import AccountStore

    AccountStore().set_active(args.name, False)
    print(
        f"desk user {args.name} disabled: signed out everywhere, cannot sign in (civiclab desk user enable)"
    )
    return 0


def cmd_enable(args: argparse.Namespace) -> int:
    from civiclab.desk.accounts import AccountStore

    AccountStore().set_active(args.name, True)
    print(f"desk user {args.name} enabled")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from civiclab.desk.accounts import AccountStore

    store = AccountStore()
    user = store.existing(args.name)
    store.remove(args.name)
    kept = f"; key {user.key_name} stays in the key folder" if user.key_name else ""
    print(f"desk user {args.name} removed: signed out, cannot sign in; its comments stay{kept}")
    return 0


def cmd_role(args: argparse.Namespace) -> int:
    from civiclab.desk.accounts import AccountStore

    store = AccountStore()
    password = None
    if args.role == "member":
        if args.password_env:
            password = _from_env(args.password_env, "--password-env")
        elif store.get(args.name) is not None:
            password = getpass.getpass(f"{args.name}'s password (it encrypts the member's key): ")
    user = store.set_role(args.name, args.role, password=password, key=args.key)
    print(f"desk user {user.name} is now {user.role}")
    if user.key_name:
        print(_trust_hint(user.key_name))
    return 0


def cmd_reset_password(args: argparse.Namespace) -> int:
    from civiclab.desk.accounts import AccountStore

    store = AccountStore()
    before = store.existing(args.name)
    password = _new_password(args)
    old = _from_env(args.old_password_env, "--old-password-env") if args.old_password_env else None
    user = store.reset_password(args.name, password, old_password=old)
    print(f"desk user {user.name}: password changed, signed out everywhere")
    if before.key_name and user.key_name:
        print(f"key {user.key_name} re-encrypted with the new password")
    elif before.key_name:
        print(
            f"key {before.key_name} is still encrypted with the old password and is no longer linked: "
            f"{user.name} must link a new key before signing (civiclab desk user role {user.name} member)"
        )
    return 0


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "add": cmd_add,
    "list": cmd_list,
    "disable": cmd_disable,
    "enable": cmd_enable,
    "remove": cmd_remove,
    "role": cmd_role,
    "reset-password": cmd_reset_password,
}


def run_user_command(args: argparse.Namespace) -> int:
    return HANDLERS[args.user_action](args)


def add_user_commands(desk: argparse.ArgumentParser, handler: Callable[[argparse.Namespace], Any]) -> None:
    """Register `desk user ACTION` under the `desk` parser (dispatched by `handler`)."""
    commands = desk.add_subparsers(dest="desk_command", metavar="user")
    user = commands.add_parser("user", help="desk accounts")
    actions = user.add_subparsers(dest="user_action", metavar="ACTION", required=True)
    roles = ["member", "lab", "viewer"]

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        p = actions.add_parser(name, help=help_text)
        p.set_defaults(handler=handler)
        if name != "list":
            p.add_argument("name")
        return p

    add = action("add", "create an account (asks the password, or --password-env VAR)")
    add.add_argument("--role", required=True, choices=roles)
    add.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable")
    add.add_argument("--key", help="link an existing encrypted signing key instead of creating one (members)")
    listing = action("list", "name, role, state, key, created and last sign-in of every account")
    listing.add_argument("--json", action="store_true")
    action("disable", "sign the account out everywhere and refuse its sign-in (reversible)")
    action("enable", "let a disabled account sign in again")
    action("remove", "remove an account for good: it cannot sign in; its comments stay")
    role = action("role", "change an account's role (a member needs a key: asks the member's password)")
    role.add_argument("role", choices=roles)
    role.add_argument("--key", help="the member's existing encrypted key to link (default: make a new one)")
    role.add_argument("--password-env", metavar="VAR", help="read the member's password from this variable")
    reset = action("reset-password", "set a new password (asks it twice) and sign the account out everywhere")
    reset.add_argument("--password-env", metavar="VAR", help="read the new password from this variable")
    reset.add_argument(
        "--old-password-env",
        metavar="VAR",
        help="the old password: a member's key is then re-encrypted, else it must be linked anew",
    )
