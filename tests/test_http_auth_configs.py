"""Auth configs and toolkits over HTTP, through aiohttp's test client."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio.engine import Engine

from .conftest import KEY, OTHER

V31 = "/api/v3.1"


async def create(api: TestClient[Any, Any], toolkit: str, options: dict[str, Any] | None = None,
                 headers: dict[str, str] = KEY) -> dict[str, Any]:
    body: dict[str, Any] = {"toolkit": {"slug": toolkit}}
    if options is not None:
        body["auth_config"] = options
    resp = await api.post(f"{V31}/auth_configs", json=body, headers=headers)
    assert resp.status == 201, await resp.text()
    return dict(await resp.json())


async def error_of(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    body = await resp.json()
    err = body["error"]
    assert set(err) >= {"message", "code", "slug", "status", "request_id", "suggested_fix",
                        "errors"}
    assert err["status"] == status
    assert isinstance(err["code"], int) and isinstance(err["errors"], list)
    assert resp.headers["x-request-id"] == err["request_id"]
    return dict(err)


async def test_managed_create_get_with_scope_override(api: TestClient[Any, Any]) -> None:
    created = await create(api, "HUBSPOT", {"type": "use_composio_managed_auth", "name": "HubSpot",
                                            "credentials": {"scopes": "sales-email-read,tickets"}})
    ac = created["auth_config"]
    assert created["toolkit"] == {"slug": "hubspot"}
    assert ac["id"].startswith("ac_") and len(ac["id"]) == 15
    assert ac["is_composio_managed"] is True and ac["auth_scheme"] == "OAUTH2"
    got = await (await api.get(f"{V31}/auth_configs/{ac['id']}", headers=KEY)).json()
    assert got["type"] == "default" and got["status"] == "ENABLED"
    assert got["name"] == "HubSpot" and got["toolkit"]["slug"] == "hubspot"
    assert got["scopes"] == ["sales-email-read", "tickets"]
    assert got["no_of_connections"] == 0


async def test_same_routes_under_v3(api: TestClient[Any, Any]) -> None:
    ac = (await create(api, "github"))["auth_config"]
    resp = await api.get(f"/api/v3/auth_configs/{ac['id']}", headers=KEY)
    assert resp.status == 200
    assert (await resp.json())["id"] == ac["id"]


async def test_custom_oauth_needs_fields_and_masks_secret(api: TestClient[Any, Any]) -> None:
    resp = await api.post(f"{V31}/auth_configs", headers=KEY, json={
        "toolkit": {"slug": "notion"},
        "auth_config": {"type": "use_custom_auth", "authScheme": "OAUTH2",
                        "credentials": {"client_id": "1234567890"}}})
    err = await error_of(resp, 400)
    assert "client_secret" in err["message"] and "notion" in err["message"]
    resp = await api.post(f"{V31}/auth_configs", headers=KEY, json={
        "toolkit": {"slug": "notion"},
        "auth_config": {"type": "use_custom_auth", "credentials": {"client_id": "x"}}})
    err = await error_of(resp, 400)
    assert "authScheme" in err["message"]
    created = await create(api, "notion", {
        "type": "use_custom_auth", "authScheme": "OAUTH2", "name": "Notion Auth",
        "credentials": {"client_id": "1234567890", "client_secret": "supersecretvalue"}})
    got = await (await api.get(f"{V31}/auth_configs/{created['auth_config']['id']}",
                               headers=KEY)).json()
    assert got["credentials"]["client_secret"] == "supe..."
    assert got["credentials"]["client_id"] == "1234567890"
    # The default redirect URI points at this server's own callback.
    assert got["credentials"]["oauth_redirect_uri"].endswith("/api/v3.1/toolkits/auth/callback")
    assert got["type"] == "custom"


async def test_toolkit_rules(api: TestClient[Any, Any]) -> None:
    err = await error_of(await api.post(f"{V31}/auth_configs", headers=KEY, json={
        "toolkit": {"slug": "twitter"}, "auth_config": {"type": "use_composio_managed_auth"}}),
        400)
    assert "use_custom_auth" in err["suggested_fix"] and "twitter" in err["message"]
    err = await error_of(await api.post(f"{V31}/auth_configs", headers=KEY, json={
        "toolkit": {"slug": "hackernews"}}), 400)
    assert err["slug"] == "Auth_Config_NoAuthApp"
    err = await error_of(await api.post(f"{V31}/auth_configs", headers=KEY, json={
        "toolkit": {"slug": "githib"}}), 404)
    assert "github" in err["message"]
    # API-key toolkits take custom auth with no creation fields (seed 001, perplexityai).
    created = await create(api, "perplexityai", {"type": "use_custom_auth",
                                                 "authScheme": "API_KEY", "credentials": {}})
    assert created["auth_config"]["auth_scheme"] == "API_KEY"


async def test_list_filters_and_pagination(api: TestClient[Any, Any]) -> None:
    ids = [(await create(api, "github", {"type": "use_composio_managed_auth",
                                         "name": f"gh-{i}"}))["auth_config"]["id"]
           for i in range(5)]
    await create(api, "gmail")
    await create(api, "github", headers=OTHER)
    page = await (await api.get(f"{V31}/auth_configs?toolkit_slug=github&limit=2",
                                headers=KEY)).json()
    assert page["total_items"] == 5 and page["total_pages"] == 3 and page["current_page"] == 1
    seen = [i["id"] for i in page["items"]]
    while page["next_cursor"]:
        page = await (await api.get(
            f"{V31}/auth_configs?toolkit_slug=github&limit=2&cursor={page['next_cursor']}",
            headers=KEY)).json()
        seen += [i["id"] for i in page["items"]]
    assert sorted(seen) == sorted(ids)
    both = await (await api.get(f"{V31}/auth_configs?toolkit_slug=github,gmail",
                                headers=KEY)).json()
    assert both["total_items"] == 6
    found = await (await api.get(f"{V31}/auth_configs?search=gh-3", headers=KEY)).json()
    assert [i["name"] for i in found["items"]] == ["gh-3"]
    await api.patch(f"{V31}/auth_configs/{ids[0]}/DISABLED", headers=KEY)
    hidden = await (await api.get(f"{V31}/auth_configs?toolkit_slug=github", headers=KEY)).json()
    assert hidden["total_items"] == 4
    shown = await (await api.get(f"{V31}/auth_configs?toolkit_slug=github&show_disabled=true",
                                 headers=KEY)).json()
    assert shown["total_items"] == 5
    err = await error_of(await api.get(f"{V31}/auth_configs?cursor=%%%", headers=KEY), 400)
    assert "cursor" in err["message"]


async def test_patch_merges_credentials(api: TestClient[Any, Any]) -> None:
    ac = (await create(api, "github", {
        "type": "use_custom_auth", "authScheme": "OAUTH2",
        "credentials": {"client_id": "cid", "client_secret": "csecret-1",
                        "scopes": "repo,read:org"}}))["auth_config"]
    resp = await api.patch(f"{V31}/auth_configs/{ac['id']}", headers=KEY,
                           json={"type": "custom", "credentials": {"scopes": ["repo"]},
                                 "is_enabled_for_tool_router": True})
    assert resp.status == 200
    assert (await resp.json())["success"] is True
    got = await (await api.get(f"{V31}/auth_configs/{ac['id']}", headers=KEY)).json()
    assert got["credentials"]["client_id"] == "cid"  # kept: true PATCH semantics
    assert got["scopes"] == ["repo"]
    assert got["is_enabled_for_tool_router"] is True
    resp = await api.patch(f"{V31}/auth_configs/{ac['id']}", headers=KEY,
                           json={"type": "default", "scopes": "repo,read:org,read:user"})
    got = await (await api.get(f"{V31}/auth_configs/{ac['id']}", headers=KEY)).json()
    assert got["scopes"] == ["repo", "read:org", "read:user"]


async def test_delete_is_soft_then_404(api: TestClient[Any, Any]) -> None:
    ac = (await create(api, "github"))["auth_config"]
    resp = await api.delete(f"{V31}/auth_configs/{ac['id']}", headers=KEY)
    assert resp.status == 200 and (await resp.json())["success"] is True
    err = await error_of(await api.get(f"{V31}/auth_configs/{ac['id']}", headers=KEY), 404)
    assert err["slug"] == "Auth_Config_NotFound" and ac["id"] in err["message"]
    await error_of(await api.delete(f"{V31}/auth_configs/{ac['id']}", headers=KEY), 404)


async def test_toolkits(api: TestClient[Any, Any]) -> None:
    notion = await (await api.get(f"{V31}/toolkits/NOTION", headers=KEY)).json()
    oauth = next(d for d in notion["auth_config_details"] if d["mode"] == "OAUTH2")
    names = [f["name"] for f in oauth["fields"]["auth_config_creation"]["required"]]
    assert names == ["client_id", "client_secret"]
    top = await (await api.get(f"{V31}/toolkits", headers=KEY)).json()
    assert len(top["items"]) == 20  # Composio's default page: the top 20 by usage
    listing = await (await api.get(f"{V31}/toolkits?limit=1000", headers=KEY)).json()
    slugs = {t["slug"] for t in listing["items"]}
    assert {"github", "gmail", "slack", "twitter", "firecrawl", "hackernews"} <= slugs
    await error_of(await api.get(f"{V31}/toolkits/nope", headers=KEY), 404)


async def test_missing_api_key_is_401(api: TestClient[Any, Any]) -> None:
    err = await error_of(await api.get(f"{V31}/auth_configs"), 401)
    assert "x-api-key" in err["message"]


async def test_projects_are_isolated(api: TestClient[Any, Any]) -> None:
    ac = (await create(api, "github"))["auth_config"]
    await error_of(await api.get(f"{V31}/auth_configs/{ac['id']}", headers=OTHER), 404)
    await error_of(await api.patch(f"{V31}/auth_configs/{ac['id']}/DISABLED", headers=OTHER), 404)
    await error_of(await api.delete(f"{V31}/auth_configs/{ac['id']}", headers=OTHER), 404)
    listing = await (await api.get(f"{V31}/auth_configs", headers=OTHER)).json()
    assert listing["items"] == []


BAD_BODIES: list[tuple[str, str, Any]] = [
    ("POST", "/auth_configs", "not json"),
    ("POST", "/auth_configs", "[]"),
    ("POST", "/auth_configs", {"toolkit": "github"}),
    ("POST", "/auth_configs", {"toolkit": {"slug": 5}}),
    ("POST", "/auth_configs", {"toolkit": {"slug": "github"}, "auth_config": {"type": "x"}}),
    ("POST", "/auth_configs", {"toolkit": {"slug": "github"},
                               "auth_config": {"type": "use_composio_managed_auth",
                                               "credentials": {"scopes": 3}}}),
    ("PATCH", "/auth_configs/{id}", {"type": "custom", "credentials": {"scopes": {"a": 1}}}),
    ("PATCH", "/auth_configs/{id}", {"credentials": {"client_id": "z"}}),
    ("PATCH", "/auth_configs/{id}", {"type": "custom", "credentials": {"client_secret": ""}}),
    ("PATCH", "/auth_configs/{id}/MAYBE", None),
    ("PATCH", "/auth_configs/ac_doesnotexist", {"type": "custom"}),
    ("GET", "/auth_configs?limit=abc", None),
    ("GET", "/auth_configs?limit=0", None),
    ("GET", "/auth_configs?show_disabled=perhaps", None),
]


@pytest.mark.parametrize(("method", "path", "body"), BAD_BODIES)
async def test_bad_input_is_4xx_and_changes_nothing(api: TestClient[Any, Any], engine: Engine,
                                                    method: str, path: str, body: Any) -> None:
    ac = (await create(api, "github", {
        "type": "use_custom_auth", "authScheme": "OAUTH2",
        "credentials": {"client_id": "cid", "client_secret": "sec"}}))["auth_config"]
    before = copy.deepcopy(engine.project("key-a").auth_configs)
    kwargs: dict[str, Any] = {"headers": {**KEY, "content-type": "application/json"}}
    if body is not None:
        kwargs["data"] = body if isinstance(body, str) else json.dumps(body)
    resp = await api.request(method, V31 + path.replace("{id}", ac["id"]), **kwargs)
    assert 400 <= resp.status < 500, await resp.text()
    await error_of(resp, resp.status)
    assert engine.project("key-a").auth_configs == before


async def test_huge_body_is_413(api: TestClient[Any, Any]) -> None:
    resp = await api.post(f"{V31}/auth_configs", headers=KEY, data=b"{" + b" " * (2 << 20) + b"}")
    err = await error_of(resp, 413)
    assert "larger" in err["message"]


async def test_unknown_route_is_enveloped_404(api: TestClient[Any, Any]) -> None:
    err = await error_of(await api.get("/api/v2/whatever", headers=KEY), 404)
    assert "/api/v3.1" in err["message"]


async def test_delete_with_revoke_on_delete_revokes_api_key_accounts(
        api: TestClient[Any, Any]) -> None:
    ac = (await create(api, "perplexityai", {"type": "use_custom_auth", "authScheme": "API_KEY",
                                             "credentials": {}}))["auth_config"]
    resp = await api.post(f"{V31}/connected_accounts", headers=KEY, json={
        "auth_config": {"id": ac["id"]}, "connection": {"user_id": "u", "state": {
            "authScheme": "API_KEY", "val": {"status": "ACTIVE", "generic_api_key": "k"}}}})
    account = (await resp.json())["id"]
    resp = await api.delete(f"{V31}/auth_configs/{ac['id']}?revoke_on_delete=true", headers=KEY)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["revoke_job_id"].startswith("rj_")
    got = await (await api.get(f"{V31}/connected_accounts/{account}", headers=KEY)).json()
    assert got["status"] == "INACTIVE"
    assert got["status_reason"] == "Revoked as part of connection delete"
