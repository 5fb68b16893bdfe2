"""The fake OAuth 2.0 provider (mockcomposio.domain.provider), driven without HTTP."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockcomposio.clock import VirtualClock
from mockcomposio.domain.provider import (
    RFC_ERROR_CODES,
    EndUser,
    OAuthApp,
    OAuthProvider,
    PendingAuthorization,
    ProviderError,
    TokenSet,
)
from mockcomposio.ids import IdFactory

VERIFIER = "v3rifier-" + "x" * 40  # 49 chars of the RFC 7636 alphabet
GH_REDIRECT = "http://localhost:8000/callback?tenant=t1"
GOOGLE_REDIRECTS = ["https://app.example.com/cb", "https://app.example.com/other"]


def challenge(verifier: str = VERIFIER) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


@pytest.fixture
def clock() -> VirtualClock:
    clock = VirtualClock()
    clock.freeze()
    return clock


@pytest.fixture
def provider(clock: VirtualClock) -> OAuthProvider:
    p = OAuthProvider(clock, IdFactory(seed=7), faker_seed=42)
    p.register_app(
        OAuthApp(
            client_id="gh-client",
            client_secret="gh-secret",
            toolkit="github",
            redirect_uris=[GH_REDIRECT],
            allowed_scopes=frozenset({"repo", "user", "read:org"}),
            scope_separator=",",
        )
    )
    p.register_app(
        OAuthApp(
            client_id="google-client",
            client_secret="google-secret",
            toolkit="gmail",
            redirect_uris=list(GOOGLE_REDIRECTS),
            allowed_scopes=frozenset({"openid", "email", "gmail.readonly"}),
            managed=True,
        )
    )
    p.register_app(
        OAuthApp(
            client_id="notion-client",
            client_secret="notion-secret",
            toolkit="notion",
            redirect_uris=["https://app.example.com/notion"],
            allowed_scopes=frozenset(),
            access_token_lifetime=None,
            issue_refresh_tokens=False,
        )
    )
    return p


def gh_query(**overrides: str | None) -> dict[str, str]:
    query: dict[str, str | None] = {
        "response_type": "code",
        "client_id": "gh-client",
        "redirect_uri": GH_REDIRECT,
        "scope": "repo,user",
        "state": "st-123",
        "code_challenge": challenge(),
        "code_challenge_method": "S256",
    }
    query.update(overrides)
    return {k: v for k, v in query.items() if v is not None}


def gh_code(provider: OAuthProvider, **decide: Any) -> str:
    pending = provider.start_authorization(gh_query())
    return query_of(provider.decide(pending.id, allow=True, **decide))["code"]


def gh_exchange_form(code: str, **overrides: str | None) -> dict[str, str]:
    form: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": GH_REDIRECT,
        "client_id": "gh-client",
        "client_secret": "gh-secret",
        "code_verifier": VERIFIER,
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def gh_tokens(provider: OAuthProvider) -> dict[str, Any]:
    status, body = provider.token_endpoint(gh_exchange_form(gh_code(provider)), {})
    assert status == 200, body
    return body


def refresh_form(refresh_token: str, client: str = "gh") -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": f"{client}-client",
        "client_secret": f"{client}-secret",
    }


def bearer(token: str) -> str:
    return f"Bearer {token}"


# ---- the happy path ----------------------------------------------------------------------------


def test_full_happy_path(provider: OAuthProvider, clock: VirtualClock) -> None:
    pending = provider.start_authorization(gh_query(scope="repo,user read:org"))
    assert isinstance(pending, PendingAuthorization)
    assert pending.scopes == ["repo", "user", "read:org"]  # "," and " " both split, order kept
    assert (pending.state, pending.redirect_uri) == ("st-123", GH_REDIRECT)
    assert (pending.code_challenge_method, pending.expires_at) == ("S256", clock.now() + 600)
    assert provider.get_pending(pending.id) is pending

    user = EndUser(id="1", email="ada@example.com", name="Ada Lovelace", login="ada")
    redirect = provider.decide(pending.id, allow=True, user=user)
    params = query_of(redirect)
    assert redirect.startswith("http://localhost:8000/callback?")
    assert params["tenant"] == "t1"  # the registered redirect_uri's own query is kept
    assert params["state"] == "st-123"

    status, body = provider.token_endpoint(gh_exchange_form(params["code"]), {})
    assert status == 200, body
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("gho_")
    assert body["refresh_token"].startswith("rt_")
    assert body["expires_in"] == 3600
    assert body["scope"] == "repo,user,read:org"  # joined with github's separator

    assert provider.userinfo(bearer(body["access_token"])) == (
        200,
        {"sub": "1", "email": "ada@example.com", "name": "Ada Lovelace", "login": "ada"},
    )
    record = provider.token_info(body["access_token"])
    assert record is not None and record.user is user and record.expires_at == clock.now() + 3600

    status, refreshed = provider.token_endpoint(refresh_form(body["refresh_token"]), {})
    assert status == 200, refreshed
    assert refreshed["refresh_token"] != body["refresh_token"]  # rotated
    assert refreshed["scope"] == "repo,user,read:org"
    assert provider.userinfo(bearer(refreshed["access_token"]))[1]["login"] == "ada"

    status, error = provider.token_endpoint(refresh_form(body["refresh_token"]), {})
    assert (status, error["error"]) == (400, "invalid_grant")
    assert "rotated" in error["error_description"]
    # The access token minted before the rotation stays valid until it expires.
    assert provider.token_info(body["access_token"]) is not None


def test_engine_conveniences_return_token_sets(
    provider: OAuthProvider, clock: VirtualClock
) -> None:
    code = gh_code(provider)
    tokens = provider.exchange_code(
        client_id="gh-client",
        client_secret="gh-secret",
        code=code,
        redirect_uri=GH_REDIRECT,
        code_verifier=VERIFIER,
    )
    assert isinstance(tokens, TokenSet)
    assert tokens.scopes == ["repo", "user"]
    assert tokens.expires_at == clock.now() + 3600
    assert tokens.user is not None and tokens.refresh_token is not None

    renewed = provider.refresh(
        client_id="gh-client", client_secret="gh-secret", refresh_token=tokens.refresh_token
    )
    assert renewed.user == tokens.user and renewed.access_token != tokens.access_token

    with pytest.raises(ProviderError) as info:
        provider.refresh(
            client_id="gh-client", client_secret="gh-secret", refresh_token=tokens.refresh_token
        )
    assert (info.value.error, info.value.status) == ("invalid_grant", 400)


def test_google_style_tokens_and_basic_auth(provider: OAuthProvider) -> None:
    pending = provider.start_authorization(
        {
            "response_type": "code",
            "client_id": "google-client",
            "redirect_uri": GOOGLE_REDIRECTS[1],
            "scope": "openid email",
            "code_challenge": challenge(),
            "code_challenge_method": "S256",
        }
    )
    assert pending.state is None
    redirect = provider.decide(pending.id, allow=True)
    assert "state" not in query_of(redirect)
    form = {
        "grant_type": "authorization_code",
        "code": query_of(redirect)["code"],
        "redirect_uri": GOOGLE_REDIRECTS[1],
        "code_verifier": VERIFIER,
    }
    status, body = provider.token_endpoint(form, basic("google-client", "google-secret"))
    assert status == 200, body
    assert body["access_token"].startswith("ya29.")
    assert body["scope"] == "openid email"


def test_app_without_expiry_or_refresh_tokens(provider: OAuthProvider, clock: VirtualClock) -> None:
    pending = provider.start_authorization(
        {
            "response_type": "code",
            "client_id": "notion-client",  # one registered redirect_uri: it may be omitted
            "code_challenge": challenge(),
            "code_challenge_method": "S256",
        }
    )
    assert pending.redirect_uri == "https://app.example.com/notion" and pending.scopes == []
    code = query_of(provider.decide(pending.id, allow=True))["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "notion-client",
        "client_secret": "notion-secret",
        "code_verifier": VERIFIER,
    }
    status, body = provider.token_endpoint(form, {})  # no redirect_uri: none was sent either
    assert status == 200, body
    assert body["access_token"].startswith("at_")
    assert "expires_in" not in body and "refresh_token" not in body
    clock.advance(10 * 365 * 86400)
    assert provider.userinfo(bearer(body["access_token"]))[0] == 200


def test_seeded_faker_users_are_reproducible(clock: VirtualClock) -> None:
    users = [OAuthProvider(clock, IdFactory(seed=1), faker_seed=3).new_user() for _ in range(2)]
    assert users[0] == users[1]
    assert users[0].email.startswith(users[0].login + "@")


# ---- consent decisions ---------------------------------------------------------------------------


def test_partial_grant(provider: OAuthProvider) -> None:
    pending = provider.start_authorization(gh_query(scope="repo,user,read:org"))
    code = query_of(provider.decide(pending.id, allow=True, granted_scopes=["read:org", "repo"]))[
        "code"
    ]
    status, body = provider.token_endpoint(gh_exchange_form(code), {})
    assert status == 200
    assert body["scope"] == "repo,read:org"  # request order
    record = provider.token_info(body["access_token"])
    assert record is not None and record.scopes == ["repo", "read:org"]


def test_granting_unrequested_scope_is_refused_and_pending_stays_open(
    provider: OAuthProvider,
) -> None:
    pending = provider.start_authorization(gh_query(scope="repo"))
    with pytest.raises(ProviderError) as info:
        provider.decide(pending.id, allow=True, granted_scopes=["repo", "user"])
    assert info.value.error == "invalid_scope" and info.value.redirect_to is None
    assert "code" in query_of(provider.decide(pending.id, allow=True))


def test_empty_grant_is_a_denial(provider: OAuthProvider) -> None:
    pending = provider.start_authorization(gh_query())
    params = query_of(provider.decide(pending.id, allow=True, granted_scopes=[]))
    assert params["error"] == "access_denied" and "code" not in params


def test_deny_redirects_with_access_denied_and_state(provider: OAuthProvider) -> None:
    pending = provider.start_authorization(gh_query())
    redirect = provider.decide(pending.id, allow=False)
    params = query_of(redirect)
    assert redirect.startswith("http://localhost:8000/callback?")
    assert (params["error"], params["state"], params["tenant"]) == (
        "access_denied",
        "st-123",
        "t1",
    )
    assert params["error_description"]
    with pytest.raises(ProviderError) as info:  # single-use
        provider.decide(pending.id, allow=True)
    assert info.value.error == "invalid_request" and info.value.redirect_to is None


def test_scripted_provider_error(provider: OAuthProvider) -> None:
    pending = provider.start_authorization(gh_query())
    params = query_of(provider.decide(pending.id, allow=True, error="temporarily_unavailable"))
    assert (params["error"], params["state"]) == ("temporarily_unavailable", "st-123")


def test_pending_authorization_expires(provider: OAuthProvider, clock: VirtualClock) -> None:
    pending = provider.start_authorization(gh_query())
    clock.advance(601)
    with pytest.raises(ProviderError) as info:
        provider.get_pending(pending.id)
    assert info.value.error == "invalid_request"


# ---- authorization request errors ----------------------------------------------------------------


def test_unregistered_redirect_uri_is_not_redirected_to(provider: OAuthProvider) -> None:
    with pytest.raises(ProviderError) as info:
        provider.start_authorization(gh_query(redirect_uri="https://evil.example.com/cb"))
    assert info.value.error == "redirect_uri_mismatch"
    assert info.value.redirect_to is None and info.value.status == 400
    assert GH_REDIRECT in info.value.description  # says what is registered


def test_unknown_client_is_not_redirected_to(provider: OAuthProvider) -> None:
    with pytest.raises(ProviderError) as info:
        provider.start_authorization(gh_query(client_id="who"))
    assert (info.value.error, info.value.redirect_to) == ("invalid_client", None)


def test_redirect_uri_required_when_several_registered(provider: OAuthProvider) -> None:
    with pytest.raises(ProviderError) as info:
        provider.start_authorization(
            {"response_type": "code", "client_id": "google-client", "code_challenge": challenge()}
        )
    assert (info.value.error, info.value.redirect_to) == ("invalid_request", None)


def test_unknown_scope_is_redirected_as_invalid_scope(provider: OAuthProvider) -> None:
    with pytest.raises(ProviderError) as info:
        provider.start_authorization(gh_query(scope="repo,admin:org"))
    assert info.value.error == "invalid_scope" and info.value.status == 302
    assert info.value.redirect_to is not None
    params = query_of(info.value.redirect_to)
    assert (params["error"], params["state"], params["tenant"]) == ("invalid_scope", "st-123", "t1")
    assert "admin:org" in params["error_description"]


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "code_challenge is required"),
        ({"code_challenge_method": "plain"}, "S256"),
        ({"code_challenge_method": None}, "S256"),  # RFC 7636 defaults to plain: refused too
        ({"code_challenge": "too-short"}, "43 characters"),
        ({"response_type": "token"}, "response_type"),
    ],
)
def test_pkce_and_response_type_errors_go_to_redirect_uri(
    provider: OAuthProvider, overrides: dict[str, str | None], needle: str
) -> None:
    with pytest.raises(ProviderError) as info:
        provider.start_authorization(gh_query(**overrides))
    assert info.value.redirect_to is not None
    params = query_of(info.value.redirect_to)
    assert params["error"] in {"invalid_request", "unsupported_response_type"}
    assert needle in params["error_description"] and params["state"] == "st-123"


def test_repeated_parameter_is_refused(provider: OAuthProvider) -> None:
    class MultiDict(dict[str, str]):
        def getall(self, key: str, default: Any = ()) -> list[str]:
            if key == "state":
                return [self[key], self[key]]
            return [self[key]] if key in self else []

    with pytest.raises(ProviderError) as info:
        provider.start_authorization(MultiDict(gh_query()))
    assert (info.value.error, info.value.redirect_to) == ("invalid_request", None)


# ---- token endpoint errors -----------------------------------------------------------------------


def test_wrong_code_verifier_is_invalid_grant(provider: OAuthProvider) -> None:
    code = gh_code(provider)
    status, body = provider.token_endpoint(gh_exchange_form(code, code_verifier="y" * 43), {})
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "code_verifier" in body["error_description"]
    status, body = provider.token_endpoint(gh_exchange_form(code, code_verifier=None), {})
    assert (status, body["error"]) == (400, "invalid_request")
    assert provider.token_endpoint(gh_exchange_form(code), {})[0] == 200  # failures don't burn it


def test_reused_code_is_refused_and_revokes_its_tokens(provider: OAuthProvider) -> None:
    code = gh_code(provider)
    status, first = provider.token_endpoint(gh_exchange_form(code), {})
    assert status == 200
    status, body = provider.token_endpoint(gh_exchange_form(code), {})
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "already used" in body["error_description"]
    assert provider.userinfo(bearer(first["access_token"]))[0] == 401
    assert provider.token_info(first["access_token"]) is None
    status, body = provider.token_endpoint(refresh_form(first["refresh_token"]), {})
    assert (status, body["error"]) == (400, "invalid_grant")


def test_expired_code_is_refused(provider: OAuthProvider, clock: VirtualClock) -> None:
    code = gh_code(provider)
    clock.advance(600)
    status, body = provider.token_endpoint(gh_exchange_form(code), {})
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "expired" in body["error_description"]


def test_redirect_uri_must_match_the_authorization_request(provider: OAuthProvider) -> None:
    pending = provider.start_authorization(
        {
            "response_type": "code",
            "client_id": "google-client",
            "redirect_uri": GOOGLE_REDIRECTS[0],
            "code_challenge": challenge(),
            "code_challenge_method": "S256",
        }
    )
    code = query_of(provider.decide(pending.id, allow=True))["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "google-client",
        "client_secret": "google-secret",
        "code_verifier": VERIFIER,
        "redirect_uri": GOOGLE_REDIRECTS[1],  # registered, but not the one used
    }
    status, body = provider.token_endpoint(form, {})
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "redirect_uri" in body["error_description"]
    del form["redirect_uri"]  # RFC 6749 §4.1.3: required when the authorize request had it
    assert provider.token_endpoint(form, {})[1]["error"] == "invalid_request"
    # Also with a single registered URI, which could otherwise have been defaulted.
    status, body = provider.token_endpoint(
        gh_exchange_form(gh_code(provider), redirect_uri=None), {}
    )
    assert (status, body["error"]) == (400, "invalid_request")
    assert "redirect_uri is required" in body["error_description"]


@pytest.mark.parametrize("via", ["form", "basic"])
def test_wrong_client_secret_is_invalid_client_401(provider: OAuthProvider, via: str) -> None:
    code = gh_code(provider)
    if via == "form":
        form, headers = gh_exchange_form(code, client_secret="nope"), {}
    else:
        form = gh_exchange_form(code, client_id=None, client_secret=None)
        headers = basic("gh-client", "nope")
    status, body = provider.token_endpoint(form, headers)
    assert (status, body["error"]) == (401, "invalid_client")
    assert "client_secret" in body["error_description"]
    # The same request with the right secret works: the code was not consumed.
    if via == "form":
        form["client_secret"] = "gh-secret"
    else:
        headers = basic("gh-client", "gh-secret")
    assert provider.token_endpoint(form, headers)[0] == 200


def test_basic_auth_variants(provider: OAuthProvider) -> None:
    code = gh_code(provider)
    form = gh_exchange_form(code, client_secret=None)  # client_id in the form agrees: fine
    status, body = provider.token_endpoint(form, basic("gh-client", "gh-secret"))
    assert status == 200, body
    status, body = provider.token_endpoint(
        gh_exchange_form(gh_code(provider), client_id="google-client", client_secret=None),
        basic("gh-client", "gh-secret"),
    )
    assert (status, body["error"]) == (401, "invalid_client")
    assert "disagree" in body["error_description"]
    status, body = provider.token_endpoint(
        gh_exchange_form(gh_code(provider)), {"authorization": "Basic !!notbase64"}
    )
    assert (status, body["error"]) == (401, "invalid_client")
    assert "Malformed" in body["error_description"]
    # RFC 6749 §2.3.1: the halves are form-urlencoded before base64.
    provider.register_app(
        OAuthApp("id with space", "s3cr:t", "slack", ["https://x.example/cb"], frozenset({"chat"}))
    )
    pending = provider.start_authorization(
        {
            "response_type": "code",
            "client_id": "id with space",
            "code_challenge": challenge(),
            "code_challenge_method": "S256",
            "scope": "chat",
        }
    )
    code = query_of(provider.decide(pending.id, allow=True))["code"]
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER}
    status, body = provider.token_endpoint(form, basic("id+with+space", "s3cr%3At"))
    assert status == 200, body
    assert body["access_token"].startswith("xoxp-")


def test_missing_client_credentials_and_bad_grant_type(provider: OAuthProvider) -> None:
    code = gh_code(provider)
    status, body = provider.token_endpoint(gh_exchange_form(code, client_secret=None), {})
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = provider.token_endpoint({"grant_type": "password"}, {})
    assert (status, body["error"]) == (400, "unsupported_grant_type")
    status, body = provider.token_endpoint({}, {})
    assert (status, body["error"]) == (400, "invalid_request")


def test_bogus_refresh_token_is_invalid_grant(provider: OAuthProvider) -> None:
    status, body = provider.token_endpoint(refresh_form("rt_bogus"), {})
    assert (status, body["error"]) == (400, "invalid_grant")


def test_refresh_token_is_bound_to_its_client(provider: OAuthProvider) -> None:
    tokens = gh_tokens(provider)
    status, body = provider.token_endpoint(refresh_form(tokens["refresh_token"], "google"), {})
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "another client" in body["error_description"]


def test_refresh_may_narrow_but_not_widen_scope(provider: OAuthProvider) -> None:
    tokens = gh_tokens(provider)  # repo,user
    wider = {**refresh_form(tokens["refresh_token"]), "scope": "repo,read:org"}
    status, body = provider.token_endpoint(wider, {})
    assert (status, body["error"]) == (400, "invalid_scope")
    narrower = {**refresh_form(tokens["refresh_token"]), "scope": "user"}
    status, body = provider.token_endpoint(narrower, {})
    assert (status, body["scope"]) == (200, "user")
    # The rotated refresh token keeps the original grant.
    status, body = provider.token_endpoint(refresh_form(body["refresh_token"]), {})
    assert (status, body["scope"]) == (200, "repo,user")


def test_refresh_grant_on_app_without_refresh_tokens(provider: OAuthProvider) -> None:
    form = {**refresh_form("rt_x"), "client_id": "notion-client", "client_secret": "notion-secret"}
    status, body = provider.token_endpoint(form, {})
    assert (status, body["error"]) == (400, "unauthorized_client")


# ---- expiry and revocation -----------------------------------------------------------------------


def test_access_token_expires_on_the_virtual_clock(
    provider: OAuthProvider, clock: VirtualClock
) -> None:
    tokens = gh_tokens(provider)
    clock.advance(3599)
    assert provider.userinfo(bearer(tokens["access_token"]))[0] == 200
    clock.advance(1)
    status, body = provider.userinfo(bearer(tokens["access_token"]))
    assert (status, body["error"]) == (401, "invalid_token")
    assert "expired" in body["error_description"]
    assert provider.token_info(tokens["access_token"]) is None
    assert provider.token_endpoint(refresh_form(tokens["refresh_token"]), {})[0] == 200


def test_revoke_user_grants(provider: OAuthProvider) -> None:
    tokens = gh_tokens(provider)
    other = gh_tokens(provider)
    google_code = provider.start_authorization(
        {
            "response_type": "code",
            "client_id": "google-client",
            "redirect_uri": GOOGLE_REDIRECTS[0],
            "code_challenge": challenge(),
            "code_challenge_method": "S256",
        }
    )
    provider.decide(google_code.id, allow=True)

    assert provider.revoke_user_grants(refresh_token=tokens["refresh_token"]) == 2
    assert provider.userinfo(bearer(tokens["access_token"]))[0] == 401
    assert provider.token_endpoint(refresh_form(tokens["refresh_token"]), {})[0] == 400
    assert provider.userinfo(bearer(other["access_token"]))[0] == 200

    pending_code = gh_code(provider)  # not exchanged yet: dies with the grant too
    assert provider.revoke_user_grants(client_id="gh-client") == 2
    status, body = provider.token_endpoint(refresh_form(other["refresh_token"]), {})
    assert (status, body["error"]) == (400, "invalid_grant")
    assert provider.userinfo(bearer(other["access_token"]))[0] == 401
    assert provider.token_endpoint(gh_exchange_form(pending_code), {})[1]["error"] == (
        "invalid_grant"
    )
    assert provider.revoke_user_grants(client_id="gh-client") == 0


def test_revocation_endpoint(provider: OAuthProvider) -> None:
    creds = {"client_id": "gh-client", "client_secret": "gh-secret"}
    tokens = gh_tokens(provider)
    assert provider.revocation_endpoint({"token": tokens["access_token"], **creds}, {}) == (200, {})
    assert provider.userinfo(bearer(tokens["access_token"]))[0] == 401
    assert provider.token_endpoint(refresh_form(tokens["refresh_token"]), {})[0] == 200

    tokens = gh_tokens(provider)
    form = {"token": tokens["refresh_token"], "token_type_hint": "refresh_token"}
    assert provider.revocation_endpoint(form, basic("gh-client", "gh-secret")) == (200, {})
    assert provider.userinfo(bearer(tokens["access_token"]))[0] == 401  # its access tokens too
    assert provider.token_endpoint(refresh_form(tokens["refresh_token"]), {})[0] == 400

    assert provider.revocation_endpoint({"token": "unknown", **creds}, {}) == (200, {})
    status, body = provider.revocation_endpoint(
        {"token": "unknown", "client_id": "gh-client", "client_secret": "bad"}, {}
    )
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = provider.revocation_endpoint(creds, {})
    assert (status, body["error"]) == (400, "invalid_request")

    # Another client cannot revoke gh-client's token (silently ignored).
    tokens = gh_tokens(provider)
    google = {"client_id": "google-client", "client_secret": "google-secret"}
    form = {"token": tokens["access_token"], **google}
    assert provider.revocation_endpoint(form, {}) == (200, {})
    assert provider.userinfo(bearer(tokens["access_token"]))[0] == 200


def test_userinfo_rejects_malformed_headers(provider: OAuthProvider) -> None:
    for header in ("", "Bearer", "Basic abc", "Bearer nope"):
        status, body = provider.userinfo(header)
        assert (status, body["error"]) == (401, "invalid_token")


# ---- junk never crashes --------------------------------------------------------------------------

# Plain junk plus values that are meaningful somewhere, so junk also reaches the deep checks.
JUNK = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            *("", " ", "\x00", "\ud800", "%zz", "Basic", "a,b c", "code", "S256", "plain"),
            *("refresh_token", "authorization_code", "repo", "repo,user admin", "gh-client"),
            *("google-client", "https://app.example.com/cb", GH_REDIRECT + "x", "x" * 43),
        ]
    ),
)
AUTHORIZE_KEYS = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
]
TOKEN_KEYS = [
    "grant_type",
    "code",
    "redirect_uri",
    "client_id",
    "client_secret",
    "code_verifier",
    "refresh_token",
    "scope",
    "user",
    "client",
    "scopes",
]


def junk_over(valid: dict[str, str], keys: list[str]) -> st.SearchStrategy[dict[str, str]]:
    """A valid request with up to 4 of `keys` dropped or replaced by junk, plus unknown keys."""

    def build(corrupt: dict[str, str | None], extra: dict[str, str]) -> dict[str, str]:
        request = {**extra, **valid}
        for key, value in corrupt.items():
            if value is None:
                request.pop(key, None)
            else:
                request[key] = value
        return request

    corrupt = st.dictionaries(st.sampled_from(keys), st.one_of(st.none(), JUNK), max_size=4)
    extra = st.dictionaries(st.text(max_size=10), JUNK, max_size=3)
    return st.builds(build, corrupt, extra)


# The provider fixture is shared by the examples on purpose: state piles up as it would in a run.
JUNK_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@JUNK_SETTINGS
@given(query=junk_over(gh_query(), AUTHORIZE_KEYS))
def test_junk_authorization_requests_only_raise_provider_errors(
    provider: OAuthProvider, query: dict[str, str]
) -> None:
    try:
        pending = provider.start_authorization(query)
    except ProviderError as exc:
        assert exc.error in RFC_ERROR_CODES and exc.description
        assert (exc.redirect_to is None) == (exc.status != 302)
    else:
        assert pending.code_challenge_method == "S256"
        assert set(pending.scopes) <= pending.app.allowed_scopes


@JUNK_SETTINGS
@given(data=st.data())
def test_junk_token_requests_get_rfc_errors(provider: OAuthProvider, data: st.DataObject) -> None:
    code = gh_code(provider)
    tokens = gh_tokens(provider)
    grant_type = data.draw(st.sampled_from(["authorization_code", "refresh_token"]))
    valid = {
        **gh_exchange_form(code, grant_type=grant_type),
        "refresh_token": tokens["refresh_token"],
    }
    form = data.draw(junk_over(valid, TOKEN_KEYS))
    headers = data.draw(
        st.one_of(
            st.just({}),
            st.builds(lambda v: {"Authorization": v}, JUNK),
            st.builds(
                lambda raw: {"authorization": "Basic " + base64.b64encode(raw).decode()},
                st.binary(max_size=30),
            ),
        )
    )
    status, body = provider.token_endpoint(form, headers)
    if status == 200:
        assert body["token_type"] == "Bearer" and body["access_token"]
        return
    assert 400 <= status < 500
    assert body["error"] in RFC_ERROR_CODES and isinstance(body["error_description"], str)
    status, body = provider.revocation_endpoint(form, headers)
    assert status == 200 or (400 <= status < 500 and body["error"] in RFC_ERROR_CODES)
