"""Provider security over HTTP, beyond tests/test_provider.py (domain) and test_http_flows.py:
code expiry, a wrong client secret that leaves the code usable, refresh tokens bound to their
client, PKCE enforced end to end, ``state`` bound to its own link (and a refreshed link
superseding the old one), exact redirect-URI matching, and the ``callback_url`` policy: the app's
callback URL is taken only from API-key-authenticated requests; nothing a browser sends to the
unauthenticated pages, provider or callback changes where it is redirected.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio.engine import Engine

from .conftest import KEY
from .test_http_flows import basic, decide, link, make_config, path_of, to_consent

Client = TestClient[Any, Any]
V31 = "/api/v3.1"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def code_for(api: Client, ac: str) -> tuple[dict[str, Any], str, str]:
    """A link walked to the provider's redirect: (link response, authorize path, callback)."""
    got = await link(api, ac, callback="https://app.example/cb?keep=1")
    authorize, html = await to_consent(api, got["redirect_url"])
    return got, authorize, await decide(api, authorize, html)


async def status_of(api: Client, account_id: str) -> str:
    resp = await api.get(f"{V31}/connected_accounts/{account_id}", headers=KEY)
    return str((await resp.json())["status"])


def token_form(engine: Engine, got: dict[str, Any], callback: str) -> dict[str, str]:
    link_obj = engine.project("key-a").links[got["link_token"]]
    return {"grant_type": "authorization_code", "code": query(callback)["code"],
            "redirect_uri": link_obj.redirect_uri or "",
            "code_verifier": link_obj.code_verifier or ""}


def token_path(authorize: str) -> str:
    return urlsplit(authorize).path.replace("/authorize", "/token")


@pytest.mark.parametrize(("wait", "expected"), [(599, 200), (601, 400)])
async def test_authorization_codes_expire(api: Client, engine: Engine, wait: int,
                                          expected: int) -> None:
    ac = await make_config(api, "gmail")
    got, authorize, callback = await code_for(api, ac)
    project = engine.project("key-a")
    app = project.provider.get_app("composio-managed-gmail")
    assert app is not None
    project.advance_clock(wait)
    resp = await api.post(token_path(authorize), data=token_form(engine, got, callback),
                          headers=basic(app.client_id, app.client_secret))
    body = await resp.json()
    assert resp.status == expected, body
    if expected == 400:
        assert body["error"] == "invalid_grant" and "expired" in body["error_description"]


async def test_wrong_client_secret_is_refused_and_leaves_the_code_usable(
        api: Client, engine: Engine) -> None:
    ac = await make_config(api, "gmail")
    got, authorize, callback = await code_for(api, ac)
    app = engine.project("key-a").provider.get_app("composio-managed-gmail")
    assert app is not None
    form = token_form(engine, got, callback)
    for headers, extra in [(basic(app.client_id, "wrong-secret"), {}),
                           ({}, {"client_id": app.client_id, "client_secret": "wrong"}),
                           ({}, {"client_id": app.client_id}),  # no secret at all
                           (basic("another-client", app.client_secret), {})]:
        resp = await api.post(token_path(authorize), data={**form, **extra}, headers=headers)
        assert resp.status == 401, await resp.text()
        assert (await resp.json())["error"] == "invalid_client"
    # The code was not consumed by the refused attempts: the real callback still completes.
    final = await api.get(path_of(callback), allow_redirects=False)
    assert final.status == 302 and query(final.headers["Location"])["status"] == "success"
    assert await status_of(api, got["connected_account_id"]) == "ACTIVE"


async def test_refresh_tokens_are_bound_to_their_client(api: Client, engine: Engine) -> None:
    """Two custom apps in one tenant: app two can't use app one's refresh token."""
    configs = {}
    for client_id in ("app-one", "app-two"):
        configs[client_id] = await make_config(
            api, "linear", type="use_custom_auth", authScheme="OAUTH2",
            credentials={"client_id": client_id, "client_secret": f"{client_id}-secret",
                         "scopes": "read"})
    got, authorize, callback = await code_for(api, configs["app-one"])
    await api.get(path_of(callback), allow_redirects=False)
    account = engine.project("key-a").accounts[got["connected_account_id"]]
    assert account.status == "ACTIVE" and account.token is not None
    refresh = account.token.refresh_token
    assert refresh
    await code_for(api, configs["app-two"])  # registers app two with the provider
    path = token_path(authorize)
    stolen = await api.post(path, data={"grant_type": "refresh_token", "refresh_token": refresh},
                            headers=basic("app-two", "app-two-secret"))
    body = await stolen.json()
    assert stolen.status == 400 and body["error"] == "invalid_grant"
    assert "another client" in body["error_description"]
    wrong_secret = await api.post(path, data={"grant_type": "refresh_token",
                                              "refresh_token": refresh},
                                  headers=basic("app-one", "app-two-secret"))
    assert wrong_secret.status == 401
    own = await api.post(path, data={"grant_type": "refresh_token", "refresh_token": refresh},
                         headers=basic("app-one", "app-one-secret"))
    assert own.status == 200, await own.text()  # the refused attempts did not burn it


@pytest.mark.parametrize("tamper", [
    {"code_challenge": None},
    {"code_challenge_method": "plain"},
    {"code_challenge_method": None},
    {"code_challenge": "too-short"},
])
async def test_pkce_is_required_end_to_end(api: Client, tamper: dict[str, str | None]) -> None:
    """An authorize request without proper S256 PKCE never yields an ACTIVE account: the
    provider sends the error back through Composio's callback, which fails the account."""
    ac = await make_config(api, "gmail")
    got = await link(api, ac, callback="https://app.example/cb")
    resp = await api.post(path_of(got["redirect_url"]), data={"action": "continue"},
                          allow_redirects=False)
    authorize = urlsplit(resp.headers["Location"])
    params = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    for name, value in tamper.items():
        if value is None:
            params.pop(name)
        else:
            params[name] = value
    refused = await api.get(f"{authorize.path}?{urlencode(params)}", allow_redirects=False)
    assert refused.status == 302
    error = query(refused.headers["Location"])
    assert (error["error"] == "invalid_request" and "S256" in error["error_description"]) \
        or "code_challenge" in error["error_description"]
    final = await api.get(path_of(refused.headers["Location"]), allow_redirects=False)
    assert query(final.headers["Location"])["status"] == "failed"
    assert await status_of(api, got["connected_account_id"]) == "FAILED"


async def test_state_is_bound_to_its_own_link(api: Client) -> None:
    """A code from link B presented with link A's state never activates A (PKCE binds the
    code to B's verifier); B's own callback still completes B."""
    ac = await make_config(api, "gmail")
    got_a, _, callback_a = await code_for(api, ac)
    got_b, _, callback_b = await code_for(api, ac)
    mixed = urlsplit(callback_a)._replace(query=urlencode({
        "code": query(callback_b)["code"], "state": query(callback_a)["state"]}))
    resp = await api.get(path_of(mixed.geturl()), allow_redirects=False)
    assert query(resp.headers["Location"])["status"] == "failed"
    assert await status_of(api, got_a["connected_account_id"]) == "FAILED"
    final = await api.get(path_of(callback_b), allow_redirects=False)
    assert query(final.headers["Location"])["status"] == "success"
    assert await status_of(api, got_b["connected_account_id"]) == "ACTIVE"
    for bad in ("", "state=", f"code={query(callback_b)['code']}"):  # no or empty state
        resp = await api.get(f"{V31}/toolkits/auth/callback?{bad}", allow_redirects=False)
        assert resp.status == 400 and "Location" not in resp.headers


async def test_a_refreshed_connection_can_only_complete_through_its_newest_link(
        api: Client) -> None:
    """Regression: after ``refresh`` re-issued a link, the old link (and a consent already
    open on it) still completed the account."""
    ac = await make_config(api, "gmail")
    got = await link(api, ac, callback="https://app.example/cb")
    authorize, html = await to_consent(api, got["redirect_url"])
    account = got["connected_account_id"]
    resp = await api.post(f"{V31}/connected_accounts/{account}/refresh", json={}, headers=KEY)
    new_redirect = (await resp.json())["redirect_url"]
    stale_callback = await decide(api, authorize, html)
    stale = await api.get(path_of(stale_callback), allow_redirects=False)
    assert stale.status == 410 and "newer link" in await stale.text()
    old_page = await api.get(path_of(got["redirect_url"]))
    assert old_page.status == 410
    assert await status_of(api, account) == "INITIATED"
    authorize, html = await to_consent(api, new_redirect)
    final = await api.get(path_of(await decide(api, authorize, html)), allow_redirects=False)
    assert query(final.headers["Location"])["status"] == "success"
    assert await status_of(api, account) == "ACTIVE"


async def test_continuing_twice_keeps_the_first_authorization_valid(api: Client) -> None:
    """Regression: submitting the Connect Link page twice (double click, a second tab) drew a
    new PKCE verifier, so the first tab's consent came back and failed the account."""
    ac = await make_config(api, "gmail")
    got = await link(api, ac, callback="https://app.example/cb")
    first_authorize, first_html = await to_consent(api, got["redirect_url"])
    second_authorize, second_html = await to_consent(api, got["redirect_url"])
    assert query(first_authorize)["state"] == query(second_authorize)["state"]
    first = await api.get(path_of(await decide(api, first_authorize, first_html)),
                          allow_redirects=False)
    assert query(first.headers["Location"])["status"] == "success"
    assert await status_of(api, got["connected_account_id"]) == "ACTIVE"
    second = await api.get(path_of(await decide(api, second_authorize, second_html)),
                           allow_redirects=False)
    assert second.status == 409  # already completed; the account stays ACTIVE
    assert await status_of(api, got["connected_account_id"]) == "ACTIVE"


REDIRECT_VARIANTS = [
    lambda u: u + "/",
    lambda u: u + "?extra=1",
    lambda u: u + "#fragment",
    lambda u: u.replace("http://", "https://"),
    lambda u: u.replace("127.0.0.1", "localhost"),
    lambda u: u.replace("/callback", "/CALLBACK"),
    lambda u: u.replace("/callback", "/callback/../callback"),
    lambda u: u.replace("/callback", "/callback%2F"),
    lambda u: u.replace("http://", "http://evil.example@"),
    lambda u: u.replace("http://", "http://evil.example#@"),
    lambda u: u.rsplit(":", 1)[0] + ":1" + u.rsplit(":", 1)[1][u.rsplit(":", 1)[1].index("/"):],
    lambda u: "https://evil.example/api/v3.1/toolkits/auth/callback",
    lambda u: u[:-1],
    lambda u: " " + u,
]


@pytest.mark.parametrize("variant", range(len(REDIRECT_VARIANTS)))
async def test_redirect_uri_must_match_exactly(api: Client, variant: int) -> None:
    ac = await make_config(api, "gmail")
    got = await link(api, ac)
    authorize, _ = await to_consent(api, got["redirect_url"])
    parts = urlsplit(authorize)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    registered = params["redirect_uri"]
    params["redirect_uri"] = REDIRECT_VARIANTS[variant](registered)
    assert params["redirect_uri"] != registered
    resp = await api.get(parts.path, params=params, allow_redirects=False)
    assert resp.status == 400, params["redirect_uri"]
    assert "Location" not in resp.headers  # an error page, never a redirect
    assert "redirect_uri" in await resp.text()


async def test_the_browser_cannot_choose_where_it_is_sent(api: Client) -> None:
    """Extra redirect-ish parameters on the unauthenticated steps are ignored: the provider
    redirects to the registered URI, the callback to the app's registered callback_url."""
    evil = "https://evil.example/steal"
    ac = await make_config(api, "gmail")
    got = await link(api, ac, callback="https://app.example/cb?keep=1")
    resp = await api.post(path_of(got["redirect_url"]), allow_redirects=False, data={
        "action": "continue", "callback_url": evil, "redirect_uri": evil, "redirect_url": evil})
    authorize = resp.headers["Location"]
    assert "evil" not in authorize
    consent = await api.get(path_of(authorize) + "&" + urlencode({"next": evil}))
    html = await consent.text()
    callback = await decide(api, path_of(authorize), html)
    assert urlsplit(callback).netloc == urlsplit(authorize).netloc and "evil" not in callback
    hostile = path_of(callback) + "&" + urlencode(
        {"callback_url": evil, "redirect_url": evil, "redirect_uri": evil, "next": evil})
    final = await api.get(hostile, allow_redirects=False)
    location = final.headers["Location"]
    assert location.startswith("https://app.example/cb?keep=1&") and "evil" not in location
    assert query(location)["status"] == "success"


async def test_callback_url_is_kept_as_the_app_gave_it(api: Client) -> None:
    """Policy: ``callback_url`` is any string (the spec gives it no format) set with the API
    key; the fake keeps the app's own query and appends Composio's parameters."""
    ac = await make_config(api, "gmail")
    cb = "http://localhost:3000/done?session=abc&status=mine"
    got = await link(api, ac, callback=cb)
    authorize, html = await to_consent(api, got["redirect_url"])
    final = await api.get(path_of(await decide(api, authorize, html)), allow_redirects=False)
    location = final.headers["Location"]
    assert location.startswith("http://localhost:3000/done?session=abc&status=mine&")
    assert parse_qs(urlsplit(location).query)["status"] == ["mine", "success"]
