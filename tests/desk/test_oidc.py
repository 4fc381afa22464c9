"""Signing in to the desk with an OpenID Connect provider.

ID tokens are checked with tokens this file signs itself (real RSA keys, joserfc); the flow runs against a
real provider (panva's oidc-provider under node, tests/desk/oidc_provider.mjs), first driven by an HTTP
client, then by Chromium, where a member signs in through the provider and signs a review.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
import yaml

from civiclab.desk.oidc import (
    CALLBACK_PATH,
    IdTokenRejected,
    OidcSignIn,
    PendingSignIn,
    PendingSignIns,
    SignInRefused,
    discover,
    settings_from_flags,
    verify_id_token,
)
from tests.browser import axe_violations, chromium, free_port, served
from tests.desk.oidc_node import CLIENT_ID, CLIENT_SECRET, oidc_provider

DESK = "http://127.0.0.1:8100"  # the desk's public URL as the provider knows it, in the HTTP-client tests
ISSUER = "https://idp.belleval.example"
NONCE = "n-0S6_WzA2Mj"
MARTIN_PASSWORD = "martin-desk-password"


# ID tokens ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def provider_key() -> Any:
    from joserfc.jwk import RSAKey

    return RSAKey.generate_key(2048, parameters={"kid": "idp-2026", "use": "sig", "alg": "RS256"})


@pytest.fixture(scope="module")
def published(provider_key: Any) -> Any:
    """The key set the provider publishes at its jwks_uri: public keys only."""
    from joserfc.jwk import KeySet

    return KeySet.import_key_set({"keys": [provider_key.as_dict(private=False)]})


def id_token(key: Any, header: dict[str, Any] | None = None, **changes: Any) -> str:
    from joserfc import jwt

    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "248289761001",
        "preferred_username": "martin",
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(header or {"alg": "RS256", "kid": "idp-2026"}, claims, key)


def check(token: str, keys: Any) -> dict[str, Any]:
    return verify_id_token(token, keys, issuer=ISSUER, client_id=CLIENT_ID, nonce=NONCE)


def test_an_id_token_of_the_provider_for_the_desk_gives_its_claims(provider_key: Any, published: Any) -> None:
    claims = check(id_token(provider_key), published)
    assert (claims["sub"], claims["preferred_username"]) == ("248289761001", "martin")
    # Several audiences: accepted when the desk is the authorized party.
    assert (
        check(id_token(provider_key, aud=[CLIENT_ID, "other-app"], azp=CLIENT_ID), published)["azp"]
        == CLIENT_ID
    )


@pytest.mark.parametrize(
    ("case", "why"),
    [
        ("another issuer", "has a wrong 'iss'"),
        ("another audience", "has a wrong 'aud'"),
        ("two audiences, the other app authorized", "is meant for another party ('azp')"),
        ("expired", "has expired"),
        ("another nonce", "has a wrong 'nonce'"),
        ("no nonce", "is incomplete"),
        ("no subject", "is incomplete"),
        ("signed by another key under the provider's kid", "does not verify (bad_signature)"),
        ("signed by a key the provider does not publish", "signed with a key the provider does not publish"),
        ("unsigned (alg none)", "does not verify (unsupported_algorithm)"),
        ("HMAC under the client secret", "does not verify (unsupported_algorithm)"),
        ("not a JWT", "does not verify (decode_error)"),
    ],
)
def test_an_id_token_is_refused(provider_key: Any, published: Any, case: str, why: str) -> None:
    from joserfc import jws
    from joserfc.jwk import OctKey, RSAKey

    other = RSAKey.generate_key(2048)
    token = {
        "another issuer": lambda: id_token(provider_key, iss="https://idp.elsewhere.example"),
        "another audience": lambda: id_token(provider_key, aud="another-client"),
        "two audiences, the other app authorized": lambda: id_token(
            provider_key, aud=[CLIENT_ID, "other-app"], azp="other-app"
        ),
        "expired": lambda: id_token(provider_key, iat=int(time.time()) - 900, exp=int(time.time()) - 600),
        "another nonce": lambda: id_token(provider_key, nonce="replayed-from-another-sign-in"),
        "no nonce": lambda: id_token(provider_key, nonce=None),
        "no subject": lambda: id_token(provider_key, sub=None),
        "signed by another key under the provider's kid": lambda: id_token(other),
        "signed by a key the provider does not publish": lambda: id_token(
            other, {"alg": "RS256", "kid": "evil"}
        ),
        "unsigned (alg none)": lambda: _unsigned(id_token(provider_key)),
        "HMAC under the client secret": lambda: id_token(
            OctKey.import_key(CLIENT_SECRET), {"alg": "HS256", "kid": "idp-2026"}
        ),
        "not a JWT": lambda: "not.a.token",
    }[case]()
    assert (
        jws
    )  # joserfc's JWS registry is what refuses `none` and HS256 (the desk passes asymmetric algorithms)
    with pytest.raises(IdTokenRejected) as refused:
        check(token, published)
    assert str(refused.value).startswith(why)


def _unsigned(token: str) -> str:
    from joserfc.util import urlsafe_b64encode

    _, payload, _ = token.split(".")
    return urlsafe_b64encode(b'{"alg":"none"}').decode() + "." + payload + "."


# Pending sign-ins ---------------------------------------------------------------------------------


def test_a_state_serves_once_in_the_browser_that_began_it_and_for_ten_minutes() -> None:
    now = [1000.0]
    pending = PendingSignIns(clock=lambda: now[0])

    def begin(state: str) -> None:
        pending.put(state, PendingSignIn("cookie-" + state, "nonce", "verifier", "/runs", now[0]))

    begin("s1")
    assert pending.take("s1", "cookie-s1").next == "/runs"
    with pytest.raises(SignInRefused, match="oidc_expired"):  # replayed
        pending.take("s1", "cookie-s1")
    begin("s2")
    with pytest.raises(SignInRefused):  # another browser's cookie (or none): refused, and the state is spent
        pending.take("s2", "cookie-s1")
    with pytest.raises(SignInRefused):
        pending.take("s2", "cookie-s2")
    begin("s3")
    now[0] += 599
    begin("s4")
    now[0] += 2
    with pytest.raises(SignInRefused):  # 10 minutes and one second later
        pending.take("s3", "cookie-s3")
    assert pending.take("s4", "cookie-s4").nonce == "nonce"
    assert len(pending) == 0


# Settings ------------------------------------------------------------------------------------------


def test_settings_are_refused_in_one_line_naming_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    from civiclab.errors import SpecError

    monkeypatch.setenv("CIVICLAB_DESK_OIDC_SECRET", CLIENT_SECRET)
    good = {"issuer": ISSUER, "client_id": CLIENT_ID, "redirect_base": "https://desk.belleval.example"}
    refused = {
        "--oidc-issuer: 'http://idp.belleval.example' must be an https URL (plain http only on this machine)": {
            **good,
            "issuer": "http://idp.belleval.example",
        },
        "--oidc-redirect-base: needed to sign in with an identity provider": {**good, "redirect_base": None},
        "--oidc-email-domain: needed with --oidc-claim email (the lab's e-mail domain)": {
            **good,
            "account_claim": "email",
        },
        "--oidc-issuer: --oidc-client-id needs the identity provider's issuer URL": {**good, "issuer": None},
    }
    for message, flags in refused.items():
        with pytest.raises(SpecError) as error:
            settings_from_flags(**flags)
        assert str(error.value) == f"desk: {message}"
    settings = settings_from_flags(**good)
    assert settings is not None
    assert settings.redirect_uri == "https://desk.belleval.example/login/oidc/callback"
    assert settings.shown_name == "idp.belleval.example"
    assert CLIENT_SECRET not in repr(settings)
    monkeypatch.delenv("CIVICLAB_DESK_OIDC_SECRET")
    with pytest.raises(SpecError, match="CIVICLAB_DESK_OIDC_SECRET: set it to the client secret"):
        settings_from_flags(**good)
    assert settings_from_flags(issuer=None, client_id=None, redirect_base=None) is None


def test_an_unreachable_provider_stops_the_desk_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from civiclab.cli import main

    monkeypatch.setenv("CIVICLAB_DESK_OIDC_SECRET", CLIENT_SECRET)
    closed = free_port()  # nothing listens there
    flags = ["--oidc-client-id", CLIENT_ID, "--oidc-redirect-base", DESK]
    assert (
        main(["desk", "--port", str(free_port()), "--oidc-issuer", f"http://127.0.0.1:{closed}", *flags]) == 2
    )
    out, err = capsys.readouterr()
    assert "serving on" not in out + err
    assert re.fullmatch(
        rf"civiclab: error: desk: --oidc-issuer: cannot read http://127\.0\.0\.1:{closed}"
        r"/\.well-known/openid-configuration: .*Connection refused.*",
        err.strip(),
    ), err


def test_the_account_claim_and_the_role_claim() -> None:
    from civiclab.desk.oidc import OidcSettings, ProviderMetadata

    metadata = ProviderMetadata(issuer=ISSUER, authorization_endpoint="a", token_endpoint="t", jwks_uri="j")

    def sign_in(**settings: Any) -> OidcSignIn:
        base = {"issuer": ISSUER, "client_id": CLIENT_ID, "client_secret": "s", "redirect_base": DESK}
        return OidcSignIn(OidcSettings.model_validate({**base, **settings}), metadata, keys=None)

    by_email = sign_in(account_claim="email", email_domain="belleval.example")
    assert by_email.account_name({"email": "martin@Belleval.example", "email_verified": True}) == "martin"
    for claims, reason in [
        ({"email": "martin@belleval.example", "email_verified": False}, "oidc_unverified_email"),
        ({"email": "martin@belleval.example"}, "oidc_unverified_email"),
        ({"email": "martin@elsewhere.example", "email_verified": True}, "oidc_no_account"),
        ({"preferred_username": "martin"}, "oidc_no_claim"),
    ]:
        with pytest.raises(SignInRefused) as refused:
            by_email.account_name(claims)
        assert refused.value.reason == reason
    with pytest.raises(SignInRefused, match="oidc_no_claim"):
        sign_in().account_name({"email": "martin@belleval.example"})

    with_roles = sign_in(role_claim="desk_role")
    with_roles.check_role({"desk_role": "member"}, "martin", "member")
    with_roles.check_role({"desk_role": ["staff", "viewer"]}, "vera", "viewer")
    for claims in ({"desk_role": "member"}, {"desk_role": ["member", "staff"]}, {}):
        with pytest.raises(SignInRefused, match="oidc_role"):  # the provider can only refuse, never raise
            with_roles.check_role(claims, "bob", "lab")
    sign_in().check_role({}, "bob", "lab")  # no role claim set: the desk's own role alone


# Against a real provider, through an HTTP client ----------------------------------------------------


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with oidc_provider([DESK + CALLBACK_PATH]) as url:
        yield url


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Desk accounts of a lab of these tests: martin (member), vera (viewer), bob (lab staff)."""
    from civiclab.desk.accounts import AccountStore

    folder = tmp_path_factory.mktemp("oidc-lab")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CIVICLAB_HOME", str(folder / "home"))  # martin's key goes there
        store = AccountStore(folder / "desk.db")
        store.add_user("martin", "member", MARTIN_PASSWORD)
        store.add_user("vera", "viewer", "vera-viewer-password")
        store.add_user("bob", "lab", "bob-lab-password")
    return store


def desk_client(accounts: Any, issuer: str, **flags: Any) -> Any:
    """A desk (TestClient) that signs in with the provider; `flags` as `civiclab desk --oidc-*` gives them."""
    from fastapi.testclient import TestClient

    from civiclab.desk.app import create_app
    from civiclab.store.tracker import Tracker

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CIVICLAB_DESK_OIDC_SECRET", CLIENT_SECRET)
        settings = settings_from_flags(
            issuer=issuer, client_id=CLIENT_ID, redirect_base=DESK, name="Belleval Connect", **flags
        )
    assert settings is not None
    tracker = Tracker(f"sqlite:///{accounts.path.parent / 'mlruns' / 'mlflow.db'}")  # one empty store for all
    app = create_app(tracker, accounts, oidc=discover(settings), background_verify=False)
    return TestClient(app, base_url="http://127.0.0.1")


def through_provider(desk: Any, issuer: str, who: str, next_path: str = "/runs") -> str:
    """Begin a sign-in at the desk, log in at the provider's own form as `who`: the callback URL it sends back."""
    import httpx

    start = desk.get(f"/login/oidc?{urlencode({'next': next_path})}", follow_redirects=False)
    assert start.status_code == 303, start.text
    url = start.headers["location"]
    request = dict(parse_qsl(urlsplit(url).query))
    assert (request["code_challenge_method"], request["response_type"]) == ("S256", "code")
    assert len(request["code_challenge"]) == 43 and request["nonce"] and request["state"]
    with httpx.Client(timeout=10) as browser:  # the person's browser, at the provider
        for _ in range(10):
            answer = browser.get(url)
            if answer.status_code == 200:  # the provider's login form
                action = re.search(r'action="([^"]+)"', answer.text)
                assert action, answer.text[:300]
                login = {"prompt": "login", "login": who, "password": "the provider checks it"}
                answer = browser.post(urljoin(issuer, action[1]), data=login)
            assert answer.status_code in (302, 303), answer.text[:300]
            url = urljoin(issuer, answer.headers["location"])
            if url.startswith(DESK):
                return url[len(DESK) :]
    raise AssertionError("the provider never sent the browser back to the desk")


def alert(page: str) -> str:
    """The text of the page's alert (the login page's error), unescaped."""
    import html

    found = re.search(r'role="alert"[^>]*>([^<]*)<', page)
    return html.unescape(found[1]) if found else ""


@pytest.mark.integration
def test_a_member_signs_in_with_a_fresh_session_and_the_callback_serves_once(
    accounts: Any, issuer: str
) -> None:
    from civiclab.desk.auth import SESSION_COOKIE
    from civiclab.desk.oidc import FLOW_COOKIE

    with desk_client(accounts, issuer, role_claim="desk_role") as desk:
        login_page = desk.get("/login?lang=en")
        assert 'id="oidc-login"' in login_page.text and "Sign in with Belleval Connect" in login_page.text
        assert 'name="password"' in login_page.text  # password login stays
        planted = "attacker-chosen-session-id-0123456789"
        desk.cookies.set(SESSION_COOKIE, planted)
        callback = through_provider(desk, issuer, "martin", next_path="/runs?experiment=journey")
        binding = desk.cookies.get(FLOW_COOKIE)
        done = desk.get(callback, follow_redirects=False)
        assert done.status_code == 200, alert(done.text)
        assert 'content="0; url=/runs?experiment=journey"' in done.text
        session = done.cookies.get(SESSION_COOKIE)
        assert session and session != planted
        desk.cookies.clear()
        desk.cookies.set(SESSION_COOKIE, session)
        runs = desk.get("/runs", follow_redirects=False)
        assert runs.status_code == 200 and "martin" in runs.text

        # The same callback URL again, even from the same browser (a replayed code): refused before the
        # code reaches the provider.
        desk.cookies.clear()
        desk.cookies.set(FLOW_COOKIE, str(binding))
        again = desk.get(callback + "&lang=en", follow_redirects=False)
        assert again.status_code == 400
        assert alert(again.text) == "This sign-in has expired or was already used: please start again."
        assert again.cookies.get(SESSION_COOKIE) is None


@pytest.mark.integration
def test_the_desk_reads_the_provider_at_start_up(issuer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from civiclab.errors import SpecError

    monkeypatch.setenv("CIVICLAB_DESK_OIDC_SECRET", CLIENT_SECRET)
    settings = settings_from_flags(issuer=issuer, client_id=CLIENT_ID, redirect_base=DESK)
    assert settings is not None
    sign_in = discover(settings)
    assert sign_in.metadata.token_endpoint == f"{issuer}/token"
    assert sign_in.algorithms == ("RS256",) and len(sign_in.keys.keys) == 1
    # The issuer must be spelt as the provider names itself (here, without the final slash).
    mistyped = settings_from_flags(issuer=issuer + "/", client_id=CLIENT_ID, redirect_base=DESK)
    assert mistyped is not None
    with pytest.raises(SpecError) as refused:
        discover(mistyped)
    assert str(refused.value) == (
        f"desk: --oidc-issuer: the provider at {issuer}/.well-known/openid-configuration names itself "
        f"'{issuer}': use exactly that"
    )


@pytest.mark.integration
def test_a_wrong_state_or_another_browser_is_refused(accounts: Any, issuer: str) -> None:
    from civiclab.desk.auth import SESSION_COOKIE
    from civiclab.desk.oidc import FLOW_COOKIE

    with desk_client(accounts, issuer) as desk:
        callback = through_provider(desk, issuer, "martin")
        path, _, query = callback.partition("?")
        params = dict(parse_qsl(query))
        wrong = desk.get(f"{path}?{urlencode({**params, 'state': 'x' + params['state'][1:], 'lang': 'en'})}")
        assert wrong.status_code == 400 and "expired or was already used" in alert(wrong.text)
        assert wrong.cookies.get(SESSION_COOKIE) is None

        # The right state in a browser without the cookie of the one that began: refused (login CSRF).
        callback = through_provider(desk, issuer, "martin")
        desk.cookies.delete(FLOW_COOKIE, path="/login/oidc")
        other = desk.get(callback + "&lang=en")
        assert other.status_code == 400 and "expired or was already used" in alert(other.text)
        assert other.cookies.get(SESSION_COOKIE) is None

        # An answer naming another issuer (RFC 9207): refused before its code is exchanged.
        path, _, query = through_provider(desk, issuer, "martin").partition("?")
        params = {**dict(parse_qsl(query)), "iss": "https://idp.elsewhere.example", "lang": "en"}
        mixed = desk.get(f"{path}?{urlencode(params)}")
        assert mixed.status_code == 400
        assert alert(mixed.text) == (
            "The answer from Belleval Connect is refused (the response comes from another issuer)."
        )
        assert mixed.cookies.get(SESSION_COOKIE) is None


@pytest.mark.integration
def test_who_may_sign_in_is_the_desk_s_accounts_and_roles(accounts: Any, issuer: str) -> None:
    from civiclab.desk.auth import SESSION_COOKIE

    with desk_client(accounts, issuer, role_claim="desk_role") as desk:
        unknown = desk.get(through_provider(desk, issuer, "nadia") + "&lang=en")
        assert unknown.status_code == 403
        assert alert(unknown.text) == (
            "No desk account for nadia: ask the desk's administrator to create it (civiclab desk user add)."
        )
        assert unknown.cookies.get(SESSION_COOKIE) is None
        # bob is lab staff at the desk: the provider calling him a member gives him nothing, it refuses him.
        bob = desk.get(through_provider(desk, issuer, "bob") + "&lang=en")
        assert bob.status_code == 403
        assert alert(bob.text) == "Belleval Connect does not give bob the role of their desk account (lab)."
        vera = desk.get(through_provider(desk, issuer, "vera"), follow_redirects=False)
        assert vera.status_code == 200 and vera.cookies.get(SESSION_COOKIE)


@pytest.mark.integration
def test_by_verified_email_and_without_passwords(accounts: Any, issuer: str) -> None:
    with desk_client(
        accounts, issuer, account_claim="email", email_domain="belleval.example", only=True
    ) as desk:
        page = desk.get("/login?lang=en")
        assert 'id="oidc-login"' in page.text and 'name="password"' not in page.text
        posted = desk.post("/login", data={"username": "martin", "password": MARTIN_PASSWORD})
        assert posted.status_code == 404  # no password login at all (not even a CSRF check to fail)
        # mallory's provider account claims martin's address without having verified it.
        mallory = desk.get(through_provider(desk, issuer, "mallory") + "&lang=en")
        assert mallory.status_code == 403
        assert alert(mallory.text) == "Belleval Connect has not verified the address martin@belleval.example."
        martin = desk.get(through_provider(desk, issuer, "martin"), follow_redirects=False)
        assert martin.status_code == 200 and "martin" in martin.text


# In Chromium ----------------------------------------------------------------------------------------


@pytest.fixture
def oidc_desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, str, Path]]:
    """A desk over a signed journey run of its own, with martin (a member in the trust file) and a provider.

    The provider listens on 127.0.0.2 and the desk on 127.0.0.1: two sites, as in production, so the
    browser treats the provider's redirect back as the cross-site navigation it is.
    Yields the desk's URL, the store, the run and the trust file.
    """
    import json

    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.app import create_app
    from civiclab.evidence.signing.keys import default_key_name, export_public
    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment
    from civiclab.store.tracker import Tracker
    from tests.desk.conftest import _journey_copy

    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    spec = _journey_copy(tmp_path / "experiments")
    experiment = load_experiment(
        spec, {"population.sessions": 24, "population.seed": 7, "energy.tracker": "none"}
    )
    run = run_experiment(experiment, tracking_uri=uri).run_id
    accounts = AccountStore(tmp_path / "desk.db")
    accounts.add_user("martin", "member", MARTIN_PASSWORD)
    lab = default_key_name()
    assert lab is not None
    trust = tmp_path / "trust.yaml"
    committee = [
        {
            "name": "martin",
            "role": "member",
            "public_key": json.loads(export_public("desk-martin", "jwk"))["x"],
        }
    ]
    trust.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "labs": [{"name": "Lab Belleval", "public_key": export_public(lab, "pem")}],
                "committee": committee,
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )

    port = free_port()
    monkeypatch.setenv("CIVICLAB_DESK_OIDC_SECRET", CLIENT_SECRET)
    with oidc_provider([f"http://127.0.0.1:{port}{CALLBACK_PATH}"], host="127.0.0.2") as url:
        settings = settings_from_flags(
            issuer=url, client_id=CLIENT_ID, redirect_base=f"http://127.0.0.1:{port}", name="Belleval Connect"
        )
        assert settings is not None
        app = create_app(
            Tracker(uri), accounts, trust=trust, background_verify=False, oidc=discover(settings)
        )
        with served(app, "desk", port=port) as base:
            yield base, uri, run, trust


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_a_member_signs_in_through_the_provider_and_signs_a_review(
    oidc_desk: tuple[str, str, str, Path],
) -> None:
    from civiclab.evidence.verify.verification import verify
    from civiclab.store.tracker import Tracker

    base, uri, run, trust = oidc_desk
    assert verify(Tracker(uri), run, trust).reviews == []
    with chromium() as browser:
        context = browser.new_context(bypass_csp=True)  # lets the test inject axe; users keep the CSP
        page = context.new_page()
        page.goto(f"{base}/runs/{run}?lang=en")
        assert page.url.startswith(f"{base}/login")
        assert page.inner_text("#oidc-login") == "Sign in with Belleval Connect"
        violations = axe_violations(page)
        page.goto(f"{base}/login?lang=fr&next=/runs/{run}")
        assert page.inner_text("#oidc-login") == "Se connecter avec Belleval Connect"
        violations += axe_violations(page)
        assert violations == []

        callbacks: list[str] = []
        page.on("request", lambda r: callbacks.append(r.url) if CALLBACK_PATH in r.url else None)
        page.click("#oidc-login")
        page.wait_for_selector("input[name=login]")  # the provider's own form, on the other site
        assert urlsplit(page.url).hostname == "127.0.0.2"
        page.fill("input[name=login]", "martin")
        page.fill("input[name=password]", "martin's password at the provider")
        page.click("button[type=submit]")
        page.wait_for_selector("#review-password")  # back at the desk, on the run's page, signed in
        assert page.url == f"{base}/runs/{run}"
        assert "martin" in page.inner_text("header")

        # Signing still takes the member's own desk password: it opens their key.
        page.check("#decision-approve")
        page.fill("#review-comment", "Read after signing in with Belleval Connect.")
        page.fill("#review-password", MARTIN_PASSWORD)
        page.press("#review-password", "Enter")
        page.wait_for_selector("p.success")

        # The provider's answer replayed in the same browser: refused, and says so.
        assert len(callbacks) == 1
        page.goto(callbacks[0])
        assert page.inner_text("#login-error") == "Cette connexion a expiré ou a déjà servi : recommencez."
        assert axe_violations(page) == []

    result = verify(Tracker(uri), run, trust)
    assert result.ok, result.table()
    assert len(result.reviews) == 1
    assert (result.reviews[-1].decision, result.reviews[-1].trusted) == ("approve", True)
    assert "martin" in result.reviews[-1].signer
