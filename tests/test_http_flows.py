"""Connected accounts and the redirect flow over raw HTTP (aiohttp test client): the consent
page contract, provider attacks, custom-app failures, list filters, isolation, bad input."""

from __future__ import annotations

import base64
import copy
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio.domain.provider import OAuthApp
from mockcomposio.engine import Engine

from .conftest import KEY, OTHER

V31 = "/api/v3.1"
Client = TestClient[Any, Any]


async def make_config(api: Client, toolkit: str = "github", **options: Any) -> str:
    body: dict[str, Any] = {"toolkit": {"slug": toolkit}}
    if options:
        body["auth_config"] = options
    resp = await api.post(f"{V31}/auth_configs", json=body, headers=KEY)
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["auth_config"]["id"])


async def link(api: Client, ac: str, user: str = "u1", callback: str | None = None,
               headers: dict[str, str] = KEY) -> dict[str, Any]:
    body = {"auth_config_id": ac, "user_id": user}
    if callback:
        body["callback_url"] = callback
    resp = await api.post(f"{V31}/connected_accounts/link", json=body, headers=headers)
    assert resp.status == 201, await resp.text()
    return dict(await resp.json())


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def form_fields(html: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields.setdefault(name.group(1), []).append(value.group(1) if value else "")
    return fields


async def to_consent(api: Client, redirect_url: str) -> tuple[str, str]:
    """Link page → continue → provider authorize page. Returns (authorize path, page html)."""
    page = await api.get(path_of(redirect_url))
    assert page.status == 200
    resp = await api.post(path_of(redirect_url), data={"action": "continue"},
                          allow_redirects=False)
    assert resp.status == 302
    authorize = path_of(resp.headers["Location"])
    consent = await api.get(authorize)
    assert consent.status == 200
    return authorize, await consent.text()


async def decide(api: Client, authorize: str, html: str, decision: str = "allow",
                 scopes: list[str] | None = None) -> str:
    fields = form_fields(html)
    data: list[tuple[str, str]] = [("pending", fields["pending"][0]), ("decision", decision)]
    data += [("scope", s) for s in (fields["scope"] if scopes is None else scopes)]
    resp = await api.post(authorize, data=data, allow_redirects=False)
    assert resp.status == 302, await resp.text()
    return str(resp.headers["Location"])


async def test_consent_page_is_the_documented_contract(api: Client) -> None:
    ac = await make_config(api, "hubspot", type="use_composio_managed_auth",
                           credentials={"scopes": "sales-email-read,tickets"})
    got = await link(api, ac)
    page = await (await api.get(path_of(got["redirect_url"]))).text()
    assert "sales-email-read" in page and "tickets" in page  # the Connect Link page
    authorize, html = await to_consent(api, got["redirect_url"])
    assert html.count("<form") == 1 and 'method="post"' in html
    assert form_fields(html)["scope"] == ["sales-email-read", "tickets"]
    assert 'type="checkbox" name="scope"' in html and "checked" in html
    assert 'name="decision" value="allow"' in html and 'name="decision" value="deny"' in html
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"][0]


async def test_full_flow_and_callback_params(api: Client) -> None:
    ac = await make_config(api)
    got = await link(api, ac, callback="https://app.example/cb?x=1")
    assert got["connected_account_id"].startswith("ca_")
    assert got["link_token"].startswith("lk_") and got["redirect_url"].endswith(got["link_token"])
    pending = await (await api.get(f"{V31}/connected_accounts/{got['connected_account_id']}",
                                   headers=KEY)).json()
    assert pending["status"] == "INITIATED"
    authorize, html = await to_consent(api, got["redirect_url"])
    callback = await decide(api, authorize, html)
    assert urlsplit(callback).path == "/api/v3.1/toolkits/auth/callback"
    final = await api.get(path_of(callback), allow_redirects=False)
    assert final.status == 302
    app_url = final.headers["Location"]
    assert app_url.startswith("https://app.example/cb?x=1&")
    q = parse_qs(urlsplit(app_url).query)
    assert q["status"] == ["success"] and q["connected_account_id"] == [
        got["connected_account_id"]]
    account = await (await api.get(f"{V31}/connected_accounts/{got['connected_account_id']}",
                                   headers=KEY)).json()
    assert account["status"] == "ACTIVE"
    # A managed config's connection: tokens always REDACTED (changelog 2026-04-22).
    assert account["state"]["val"]["access_token"] == "REDACTED"
    # The callback can't be replayed.
    again = await api.get(path_of(callback), allow_redirects=False)
    assert again.status == 409


async def test_forged_state_is_refused(api: Client) -> None:
    resp = await api.get(f"{V31}/toolkits/auth/callback?code=abc&state=forged")
    assert resp.status == 400 and "state" in (await resp.text()).lower()


async def test_unregistered_redirect_uri_is_not_followed(api: Client, engine: Engine) -> None:
    ac = await make_config(api)
    got = await link(api, ac)
    authorize, _ = await to_consent(api, got["redirect_url"])
    parts = urlsplit(authorize)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["redirect_uri"] = "https://evil.example/steal"
    resp = await api.get(parts.path, params=query, allow_redirects=False)
    assert resp.status == 400
    assert "Location" not in resp.headers
    assert "redirect_uri" in await resp.text()


async def test_pkce_and_code_reuse_at_token_endpoint(api: Client, engine: Engine) -> None:
    ac = await make_config(api, "gmail")
    got = await link(api, ac)
    authorize, html = await to_consent(api, got["redirect_url"])
    callback = await decide(api, authorize, html)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    project = engine.project("key-a")
    app = project.provider.get_app("composio-managed-gmail")
    assert app is not None
    token_path = urlsplit(authorize).path.replace("/authorize", "/token")
    redirect_uri = parse_qs(urlsplit(authorize).query)["redirect_uri"][0]
    wrong = await api.post(token_path, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "code_verifier": "x" * 50}, headers=basic(app.client_id, app.client_secret))
    assert wrong.status == 400 and (await wrong.json())["error"] == "invalid_grant"
    # The real callback still completes with the right verifier (a failed attempt does not
    # consume the code)...
    done = await api.get(path_of(callback), allow_redirects=False)
    assert done.status == 200
    account = await (await api.get(f"{V31}/connected_accounts/{got['connected_account_id']}",
                                   headers=KEY)).json()
    assert account["status"] == "ACTIVE"
    # ...and once used, the code is dead.
    link_obj = project.links[got["link_token"]]
    reused = await api.post(token_path, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "code_verifier": link_obj.code_verifier}, headers=basic(app.client_id, app.client_secret))
    assert reused.status == 400 and (await reused.json())["error"] == "invalid_grant"
    bogus = await api.post(token_path, data={"grant_type": "refresh_token",
                                             "refresh_token": "rt_bogus"},
                           headers=basic(app.client_id, app.client_secret))
    assert bogus.status == 400 and (await bogus.json())["error"] == "invalid_grant"
    userinfo = await api.get(token_path.replace("/token", "/userinfo"),
                             headers={"Authorization": "Bearer nope"})
    assert userinfo.status == 401


async def test_custom_app_wrong_secret_fails_the_account(api: Client, engine: Engine) -> None:
    project = engine.project("key-a")
    base = str(api.make_url("")).rstrip("/")
    project.provider.register_app(OAuthApp(
        client_id="my-gh-app", client_secret="the-real-secret", toolkit="github",
        redirect_uris=[f"{base}/api/v3.1/toolkits/auth/callback"],
        allowed_scopes=frozenset({"repo", "user"}), scope_separator=","))
    ac = await make_config(api, type="use_custom_auth", authScheme="OAUTH2",
                           credentials={"client_id": "my-gh-app", "client_secret": "typo",
                                        "scopes": "repo"})
    got = await link(api, ac, callback="https://app.example/cb")
    authorize, html = await to_consent(api, got["redirect_url"])
    callback = await decide(api, authorize, html)
    final = await api.get(path_of(callback), allow_redirects=False)
    q = parse_qs(urlsplit(final.headers["Location"]).query)
    assert q["status"] == ["failed"] and "invalid_client" in q["error"][0]
    account = await (await api.get(f"{V31}/connected_accounts/{got['connected_account_id']}",
                                   headers=KEY)).json()
    assert account["status"] == "FAILED"
    assert account["status_reason"].startswith("OAuth callback failed during token exchange")


async def test_custom_scopes_beyond_toolkit_are_refused_by_provider(api: Client) -> None:
    ac = await make_config(api, type="use_custom_auth", authScheme="OAUTH2",
                           credentials={"client_id": "c", "client_secret": "s",
                                        "scopes": "repo,admin:everything"})
    got = await link(api, ac, callback="https://app.example/cb")
    resp = await api.post(path_of(got["redirect_url"]), data={"action": "continue"},
                          allow_redirects=False)
    authorize = await api.get(path_of(resp.headers["Location"]), allow_redirects=False)
    assert authorize.status == 302  # RFC 6749: invalid_scope goes back to the client
    final = await api.get(path_of(authorize.headers["Location"]), allow_redirects=False)
    q = parse_qs(urlsplit(final.headers["Location"]).query)
    assert q["status"] == ["failed"] and "invalid_scope" in q["error"][0]


async def test_api_key_link_page_collects_the_key(api: Client) -> None:
    ac = await make_config(api, "perplexityai", type="use_custom_auth", authScheme="API_KEY",
                           credentials={})
    got = await link(api, ac, callback="https://app.example/cb")
    page = await (await api.get(path_of(got["redirect_url"]))).text()
    assert 'name="generic_api_key"' in page and 'type="password"' in page
    missing = await api.post(path_of(got["redirect_url"]), data={"action": "connect"},
                             allow_redirects=False)
    assert missing.status == 400
    resp = await api.post(path_of(got["redirect_url"]),
                          data={"action": "connect", "generic_api_key": "pplx-123456"},
                          allow_redirects=False)
    assert resp.status == 302 and "status=success" in resp.headers["Location"]


async def test_list_filters_order_and_pages(api: Client) -> None:
    gh = await make_config(api)
    pplx = await make_config(api, "perplexityai", type="use_custom_auth", authScheme="API_KEY",
                             credentials={})
    ids = []
    for i in range(5):
        resp = await api.post(f"{V31}/connected_accounts", headers=KEY, json={
            "auth_config": {"id": pplx}, "connection": {
                "user_id": f"user-{i % 2}",
                "state": {"authScheme": "API_KEY",
                          "val": {"status": "ACTIVE", "generic_api_key": f"key-{i}"}}}})
        assert resp.status == 201, await resp.text()
        ids.append((await resp.json())["id"])
    pending = (await link(api, gh, user="user-0"))["connected_account_id"]

    async def listing(query: str) -> dict[str, Any]:
        resp = await api.get(f"{V31}/connected_accounts?{query}", headers=KEY)
        assert resp.status == 200, await resp.text()
        return dict(await resp.json())

    user0 = await listing("user_ids=user-0")
    assert [a["id"] for a in user0["items"]] == [pending, ids[4], ids[2], ids[0]]
    asc = await listing("user_ids=user-0&order_direction=asc")
    assert [a["id"] for a in asc["items"]] == [ids[0], ids[2], ids[4], pending]
    active = await listing("user_ids=user-0,user-1&statuses=ACTIVE")
    assert active["total_items"] == 5
    assert (await listing("statuses=INITIATED&toolkit_slugs=github"))["total_items"] == 1
    assert (await listing(f"auth_config_ids={gh}"))["total_items"] == 1
    assert (await listing(f"connected_account_ids={ids[1]},{ids[3]}"))["total_items"] == 2
    page = await listing("limit=4")
    assert len(page["items"]) == 4 and page["total_pages"] == 2 and page["next_cursor"]
    rest = await listing(f"limit=4&cursor={page['next_cursor']}")
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    assert not {a["id"] for a in page["items"]} & {a["id"] for a in rest["items"]}
    bad = await api.get(f"{V31}/connected_accounts?statuses=BOGUS", headers=KEY)
    assert bad.status == 400 and "BOGUS" in (await bad.json())["error"]["message"]


async def test_accounts_are_isolated_between_projects(api: Client) -> None:
    ac = await make_config(api)
    got = await link(api, ac)
    account = got["connected_account_id"]
    for method, path, body in [
        ("GET", f"/connected_accounts/{account}", None),
        ("DELETE", f"/connected_accounts/{account}", None),
        ("PATCH", f"/connected_accounts/{account}/status", {"enabled": False}),
        ("PATCH", f"/connected_accounts/{account}", {"alias": "x"}),
        ("POST", f"/connected_accounts/{account}/refresh", {}),
        ("POST", f"/connected_accounts/{account}/revoke", None),
        ("POST", "/connected_accounts/link", {"auth_config_id": ac, "user_id": "x"}),
        ("POST", "/connected_accounts", {"auth_config": {"id": ac}, "connection": {}}),
    ]:
        resp = await api.request(method, V31 + path, json=body, headers=OTHER)
        assert resp.status == 404, (method, path, await resp.text())
    listing = await (await api.get(f"{V31}/connected_accounts", headers=OTHER)).json()
    assert listing["items"] == []
    still = await api.get(f"{V31}/connected_accounts/{account}", headers=KEY)
    assert (await still.json())["status"] == "INITIATED"


BAD: list[tuple[str, str, Any]] = [
    ("POST", "/connected_accounts/link", {"auth_config_id": "{ac}"}),
    ("POST", "/connected_accounts/link", {"auth_config_id": "{ac}", "user_id": ""}),
    ("POST", "/connected_accounts/link", {"auth_config_id": 7, "user_id": "u"}),
    ("POST", "/connected_accounts/link", "{{{"),
    ("POST", "/connected_accounts", {"auth_config": {"id": "{ac}"}}),
    ("POST", "/connected_accounts", {"auth_config": {"id": "ac_missing"}, "connection": {}}),
    ("PATCH", "/connected_accounts/{ca}/status", {"enabled": "yes"}),
    ("PATCH", "/connected_accounts/{ca}/status", {}),
    ("PATCH", "/connected_accounts/{ca}", {"alias": 5}),
    ("POST", "/connected_accounts/{ca}/revoke", None),
    ("PATCH", "/connected_accounts/{ca}/status", {"enabled": False}),
    ("GET", "/connected_accounts?order_by=name", None),
    ("GET", "/connected_accounts?limit=-1", None),
    ("GET", "/connected_accounts/ca_<script>alert(1)</script>", None),
    ("DELETE", "/connected_accounts/ca_nope", None),
]


@pytest.mark.parametrize(("method", "path", "body"), BAD)
async def test_bad_account_input_is_4xx_and_changes_nothing(
        api: Client, engine: Engine, method: str, path: str, body: Any) -> None:
    ac = await make_config(api)
    ca = (await link(api, ac))["connected_account_id"]
    project = engine.project("key-a")
    before = (copy.deepcopy(project.accounts), copy.deepcopy(project.auth_configs))
    kwargs: dict[str, Any] = {"headers": {**KEY, "content-type": "application/json"}}
    if body is not None:
        raw = body if isinstance(body, str) else json.dumps(body)
        kwargs["data"] = raw.replace("{ac}", ac).replace("{ca}", ca)
    resp = await api.request(method, V31 + path.replace("{ca}", ca), **kwargs)
    assert 400 <= resp.status < 500, await resp.text()
    err = (await resp.json())["error"]
    assert err["status"] == resp.status and err["message"] and err["slug"]
    assert (project.accounts, project.auth_configs) == before
