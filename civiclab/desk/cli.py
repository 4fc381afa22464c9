"""`civiclab desk`: serve the committee's desk; `civiclab desk user add`: create an account."""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import sys
from typing import TYPE_CHECKING

from civiclab.desk.oidc import CALLBACK_PATH, SECRET_SETTING
from civiclab.errors import SpecError

if TYPE_CHECKING:
    from civiclab.desk.oidc import OidcSignIn

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, or a SpecError (one line, exit 2) for a bad or busy port."""
    if not 1 <= port <= 65535:
        raise SpecError("desk", "--port", f"{port} is not a TCP port (1-65535)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise SpecError("desk", "--port", f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def cmd_desk(args: argparse.Namespace) -> int:
    if getattr(args, "desk_command", None) == "user":
        return cmd_user_add(args)
    import uvicorn

    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.app import create_app
    from civiclab.evidence.signing.trust import load_trust
    from civiclab.store.tracker import Tracker

    sock = bind(args.host, args.port)
    try:
        loaded = load_trust(args.trust)  # a bad trust file is refused before serving
        oidc = _oidc_sign_in(args)  # and so is an identity provider that cannot be read
        tracker = Tracker(args.tracking_uri)
        accounts = AccountStore()
        if not accounts.users():
            print("warning: no desk account yet: civiclab desk user add NAME --role member", file=sys.stderr)
        secure = args.host not in LOOPBACK
        if secure:
            print(
                f"warning: binding {args.host}: serve the desk behind a TLS reverse proxy; cookies are Secure",
                file=sys.stderr,
            )
        app = create_app(
            tracker, accounts, trust=loaded[1] if loaded else None, secure_cookies=secure, oidc=oidc
        )
        print(
            f"civiclab desk serving on http://{args.host}:{args.port}/ (store {tracker.uri})", file=sys.stderr
        )
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


def _oidc_sign_in(args: argparse.Namespace) -> OidcSignIn | None:
    """The sign-in with the identity provider the flags name, read from the provider now (None without one)."""
    from civiclab.desk.oidc import discover, settings_from_flags

    settings = settings_from_flags(
        issuer=args.oidc_issuer,
        client_id=args.oidc_client_id,
        redirect_base=args.oidc_redirect_base,
        account_claim=args.oidc_claim,
        email_domain=args.oidc_email_domain,
        role_claim=args.oidc_role_claim,
        name=args.oidc_name,
        only=args.oidc_only,
    )
    if settings is None:
        return None
    sign_in = discover(settings)
    print(f"sign-in with {sign_in.name} ({settings.issuer}) as {settings.redirect_uri}", file=sys.stderr)
    return sign_in


def cmd_user_add(args: argparse.Namespace) -> int:
    from civiclab.desk.accounts import AccountStore

    if args.password_env:
        password = os.environ.get(args.password_env, "")
        if not password:
            raise SpecError(
                "desk user", "--password-env", f"environment variable {args.password_env} is not set"
            )
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if password != getpass.getpass("again: "):
            raise SpecError("desk user", "password", "the two passwords differ")
    store = AccountStore()
    user = store.add_user(args.name, args.role, password, key=args.key)
    print(f"desk user {user.name} added ({user.role}) in {store.path}")
    if user.key_name:
        print(
            f"signs reviews with key {user.key_name} (encrypted with the password); add it to the committee's "
            f"trust file: civiclab keys export {user.key_name} --format jwk"
        )
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `desk` (and `desk user add`) on the civiclab command line."""
    p = sub.add_parser(
        "desk",
        help="the committee's desk: a web page to read, compare and sign reviews",
        description="Serve the desk on 127.0.0.1 by default, over any tracking store. Accounts live in "
        "CIVICLAB_HOME/desk.db (civiclab desk user add).",
    )
    p.add_argument("--port", type=int, default=8100)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--trust", help="the committee's trust file (default: CIVICLAB_TRUST)")
    p.add_argument("--tracking-uri", default=argparse.SUPPRESS, help="MLflow store to read")
    oidc = p.add_argument_group(
        "sign-in with an identity provider (OpenID Connect)",
        f"The client secret is read from {SECRET_SETTING}, never from the command line. Only existing desk "
        "accounts sign in; a member still signs reviews with the key their desk password opens.",
    )
    oidc.add_argument(
        "--oidc-issuer", metavar="URL", help="the provider's issuer (its discovery document is read)"
    )
    oidc.add_argument("--oidc-client-id", metavar="ID", help="the desk's client id at the provider")
    oidc.add_argument(
        "--oidc-redirect-base",
        metavar="URL",
        help=f"the desk's public URL; the provider sends people back to URL{CALLBACK_PATH}",
    )
    oidc.add_argument(
        "--oidc-claim",
        choices=["preferred_username", "email"],
        default="preferred_username",
        help="the claim that names the desk account (default: preferred_username)",
    )
    oidc.add_argument(
        "--oidc-email-domain",
        metavar="DOMAIN",
        help="with --oidc-claim email: a verified address NAME@DOMAIN signs in as desk account NAME",
    )
    oidc.add_argument(
        "--oidc-role-claim",
        metavar="CLAIM",
        help="a claim that must hold the account's desk role (member, lab, viewer); it can only refuse",
    )
    oidc.add_argument(
        "--oidc-name", metavar="TEXT", help="the provider's name on the button (default: its host)"
    )
    oidc.add_argument("--oidc-only", action="store_true", help="no password login: only the provider")
    p.set_defaults(handler=cmd_desk)
    commands = p.add_subparsers(dest="desk_command", metavar="user")
    user = commands.add_parser("user", help="desk accounts")
    actions = user.add_subparsers(dest="user_action", metavar="add", required=True)
    add = actions.add_parser("add", help="create an account (asks the password, or --password-env VAR)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["member", "lab", "viewer"])
    add.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable")
    add.add_argument("--key", help="link an existing encrypted signing key instead of creating one (members)")
    add.set_defaults(handler=cmd_desk)
