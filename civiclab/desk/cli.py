"""`civiclab desk`: serve the committee's desk; `civiclab desk user ...`: manage its accounts."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import TYPE_CHECKING, Any

from civiclab.desk.oidc import CALLBACK_PATH, SECRET_SETTING
from civiclab.desk.user_commands import add_user_commands, run_user_command
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


def server_config(app: Any, trusted_proxies: list[str] | None = None) -> Any:
    """uvicorn's configuration of the desk: proxy headers are read only from the proxies named.

    uvicorn otherwise takes X-Forwarded-For from 127.0.0.1 by default: any local client, or a proxy
    passing the header through unchecked, could then give itself a new address for every password
    guess. The login limit must count the real peer.
    """
    import uvicorn

    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies) if trusted_proxies else [],
    )


def cmd_desk(args: argparse.Namespace) -> int:
    if getattr(args, "desk_command", None) == "user":
        return run_user_command(args)
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
        if loaded is None:
            print(
                "warning: no trust file (--trust or CIVICLAB_TRUST): members cannot sign reviews",
                file=sys.stderr,
            )
        secure = args.host not in LOOPBACK
        if secure:
            print(
                f"warning: binding {args.host}: serve the desk behind a TLS reverse proxy; cookies are Secure",
                file=sys.stderr,
            )
            if not args.trusted_proxy:
                # Every client would otherwise share the proxy's address in the login limit.
                print(
                    "warning: name that proxy with --trusted-proxy IP, so that limits count clients",
                    file=sys.stderr,
                )
        app = create_app(
            tracker, accounts, trust=loaded[1] if loaded else None, secure_cookies=secure, oidc=oidc
        )
        print(
            f"civiclab desk serving on http://{args.host}:{args.port}/ (store {tracker.uri})", file=sys.stderr
        )
        server = uvicorn.Server(server_config(app, args.trusted_proxy))
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


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `desk` (and `desk user ACTION`) on the civiclab command line."""
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
    p.add_argument(
        "--trusted-proxy",
        action="append",
        metavar="IP",
        help="the reverse proxy whose X-Forwarded-For gives the client's address (repeat for several); "
        "without it, proxy headers are ignored",
    )
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
    add_user_commands(p, cmd_desk)
