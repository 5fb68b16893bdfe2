"""What the TypeScript SDK (`@composio/core` 0.21.0) needs from the server beyond what the
Python SDK does, pinned over HTTP (ts/test/*.test.mjs drive the real SDK; these keep the
server side honest without node).

From `../shared/reference/sdk-typescript-wire-contract.md`:
- the SDK JSON-parses a body only when `content-type` says JSON, errors included;
- enable/disable are `PATCH …/ENABLED|DISABLED` with no body and no content-type;
- 409/429/5xx are retried (3 attempts, ~1.3 s) unless `x-should-retry: false`;
- arrays in query strings are comma-joined, path slugs keep their case;
- request bodies are the exact shapes recorded below from the SDK's own traffic.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio.engine import Engine

from .conftest import KEY

V31 = "/api/v3.1"

# Bodies as @composio/core 0.21.0 sends them (recorded from ts/ with the recording fetch of
# ts/test/helpers.mjs). Note `authScheme` in camelCase inside auth_config.
TS_CREATE_CUSTOM = {
    "toolkit": {"slug": "github"},
    "auth_config": {
        "type": "use_custom_auth", "name": "GH", "authScheme": "OAUTH2",
        "credentials": {"client_id": "gh-client", "client_secret": "gh-secret",
                        "scopes": "repo"},
        "is_enabled_for_tool_router": True,
        "proxy_config": {"proxy_url": "https://proxy.example/x", "proxy_auth_key": "k-123456"},
        "tool_access_config": {"tools_for_connected_account_creation": ["GITHUB_GET_USER"]},
    },
}
TS_CREATE_MANAGED = {
    "toolkit": {"slug": "hubspot"},
    "auth_config": {"type": "use_composio_managed_auth", "credentials": {"scopes": "a,b"},
                    "name": "H", "is_enabled_for_tool_router": False,
                    "tool_access_config": {"tools_for_connected_account_creation": ["X"]}},
}


def assert_json(resp: Any) -> None:
    assert resp.headers["content-type"].startswith("application/json"), (
        resp.status, resp.headers.get("content-type"))


async def json_of(resp: Any, status: int) -> Any:
    assert resp.status == status, await resp.text()
    assert_json(resp)
    return json.loads(await resp.read())


async def create(api: TestClient[Any, Any], body: dict[str, Any]) -> str:
    created = await json_of(await api.post(f"{V31}/auth_configs", json=body, headers=KEY), 201)
    return str(created["auth_config"]["id"])


async def test_every_kind_of_response_is_declared_json(api: TestClient[Any, Any],
                                                       engine: Engine,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ac_id = await create(api, TS_CREATE_MANAGED)
    await json_of(await api.get(f"{V31}/auth_configs", headers=KEY), 200)
    await json_of(await api.get(f"{V31}/auth_configs/{ac_id}", headers=KEY), 200)
    await json_of(await api.get(f"{V31}/auth_configs"), 401)                       # no key
    await json_of(await api.get(f"{V31}/auth_configs/ac_missing", headers=KEY), 404)
    await json_of(await api.get(f"{V31}/no_such_route", headers=KEY), 404)
    await json_of(await api.put(f"{V31}/auth_configs", headers=KEY), 405)
    await json_of(await api.post(f"{V31}/auth_configs", data=b"{not json", headers={
        **KEY, "content-type": "application/json"}), 400)
    await json_of(await api.post(f"{V31}/auth_configs", data=b"x" * (1024 * 1024 + 1),
                                 headers={**KEY, "content-type": "application/json"}), 413)

    def broken(slug: str) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(engine.catalogue, "get", broken)
    body = await json_of(await api.get(f"{V31}/toolkits/github", headers=KEY), 500)
    assert body["error"]["status"] == 500


async def test_status_patch_needs_no_body_and_no_content_type(api: TestClient[Any, Any]) -> None:
    ac_id = await create(api, TS_CREATE_MANAGED)
    # exactly the SDK's request: PATCH, no body, no content-type
    resp = await api.patch(f"{V31}/auth_configs/{ac_id}/DISABLED", headers=KEY,
                           skip_auto_headers=["Content-Type"])
    assert "content-type" not in resp.request_info.headers
    assert (await json_of(resp, 200))["success"] is True
    got = await json_of(await api.get(f"{V31}/auth_configs/{ac_id}", headers=KEY), 200)
    assert got["status"] == "DISABLED"
    # a client that declares JSON but sends nothing is fine too
    resp = await api.patch(f"{V31}/auth_configs/{ac_id}/ENABLED",
                           headers={**KEY, "content-type": "application/json"})
    await json_of(resp, 200)
    got = await json_of(await api.get(f"{V31}/auth_configs/{ac_id}", headers=KEY), 200)
    assert got["status"] == "ENABLED"
    # and a wrong status word is a clear 400, not a retryable error
    resp = await api.patch(f"{V31}/auth_configs/{ac_id}/PAUSED", headers=KEY)
    assert resp.status == 400 and "x-should-retry" not in resp.headers
    assert_json(resp)


async def test_409_and_5xx_tell_the_sdk_not_to_retry(api: TestClient[Any, Any], engine: Engine,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ac_id = await create(api, TS_CREATE_CUSTOM)
    link = {"auth_config_id": ac_id, "user_id": "user_1", "alias": "work"}
    await json_of(await api.post(f"{V31}/connected_accounts/link", json=link, headers=KEY), 201)
    conflict = await api.post(f"{V31}/connected_accounts/link", json=link, headers=KEY)
    body = await json_of(conflict, 409)
    assert conflict.headers["x-should-retry"] == "false"
    assert "work" in body["error"]["message"]
    accounts = await json_of(await api.get(f"{V31}/connected_accounts?user_ids=user_1",
                                           headers=KEY), 200)
    assert len(accounts["items"]) == 1  # the refused link stored nothing

    def broken(slug: str) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(engine.catalogue, "get", broken)
    failure = await api.get(f"{V31}/toolkits/github", headers=KEY)
    await json_of(failure, 500)
    assert failure.headers["x-should-retry"] == "false"


async def test_the_sdks_create_bodies_are_accepted_and_stored(api: TestClient[Any, Any]) -> None:
    custom = await create(api, TS_CREATE_CUSTOM)
    got = await json_of(await api.get(f"{V31}/auth_configs/{custom}", headers=KEY), 200)
    assert got["auth_scheme"] == "OAUTH2" and got["is_composio_managed"] is False
    assert got["name"] == "GH"
    assert got["credentials"]["client_id"] == "gh-client"
    assert got["credentials"]["client_secret"] == "gh-s..."
    assert got["is_enabled_for_tool_router"] is True
    assert got["tool_access_config"]["tools_for_connected_account_creation"] == [
        "GITHUB_GET_USER"]
    assert got["proxy_config"] == {"proxy_url": "https://proxy.example/x",
                                   "proxy_auth_key": "k-12..."}

    managed = await create(api, TS_CREATE_MANAGED)
    got = await json_of(await api.get(f"{V31}/auth_configs/{managed}", headers=KEY), 200)
    assert got["is_composio_managed"] is True and got["credentials"]["scopes"] == "a,b"
    assert got["is_enabled_for_tool_router"] is False


async def test_the_sdks_update_bodies_change_scopes(api: TestClient[Any, Any]) -> None:
    ac_id = await create(api, TS_CREATE_CUSTOM)
    url = f"{V31}/auth_configs/{ac_id}"
    # authConfigs.update(id, {type:'default', scopes}) sends an empty tool_access_config
    default_patch = {"type": "default", "scopes": "repo,read:org,read:user",
                     "tool_access_config": {}}
    await json_of(await api.patch(url, json=default_patch, headers=KEY), 200)
    got = await json_of(await api.get(url, headers=KEY), 200)
    assert got["credentials"]["scopes"] == "repo,read:org,read:user"
    assert got["tool_access_config"]["tools_for_connected_account_creation"] == [
        "GITHUB_GET_USER"], "an empty tool_access_config changes nothing"

    custom_patch: dict[str, Any] = {
        "type": "custom", "credentials": {"scopes": "repo"}, "is_enabled_for_tool_router": False,
        "tool_access_config": {"tools_for_connected_account_creation": ["B"],
                               "tools_available_for_execution": ["A"]}}
    await json_of(await api.patch(url, json=custom_patch, headers=KEY), 200)
    got = await json_of(await api.get(url, headers=KEY), 200)
    assert got["credentials"]["scopes"] == "repo"
    assert got["credentials"]["client_id"] == "gh-client"
    assert got["is_enabled_for_tool_router"] is False
    assert got["tool_access_config"] == {"tools_for_connected_account_creation": ["B"],
                                         "tools_available_for_execution": ["A"]}


async def test_the_sdks_link_and_session_bodies_are_accepted(api: TestClient[Any, Any]) -> None:
    ac_id = await create(api, TS_CREATE_CUSTOM)
    link = {"auth_config_id": ac_id, "user_id": "u1", "callback_url": "https://e.x/cb",
            "alias": "a1", "experimental": {"account_type": "PRIVATE"}}
    created = await json_of(await api.post(f"{V31}/connected_accounts/link", json=link,
                                           headers=KEY), 201)
    assert created["connected_account_id"].startswith("ca_")
    assert created["redirect_url"].startswith("http://")

    initiate = {"auth_config": {"id": ac_id},
                "connection": {"callback_url": "https://e.x/cb", "user_id": "u2", "alias": "a2"}}
    started = await json_of(await api.post(f"{V31}/connected_accounts", json=initiate,
                                           headers=KEY), 201)
    assert started["connectionData"]["val"]["status"] == "INITIATED"
    assert started["connectionData"]["val"]["redirectUrl"].startswith("http://")

    session_body = {
        "user_id": "u3", "auth_configs": {"github": ac_id},
        "toolkits": {"enable": ["github"]}, "tools": {"github": {"enable": ["GITHUB_GET_USER"]}},
        "tags": {"enable": ["readOnlyHint"]},
        "manage_connections": {"enable": True, "callback_url": "https://e.x/cb"},
        "workbench": {"enable": False},
        "multi_account": {"enable": True, "require_explicit_selection": True},
        "preload": {"tools": ["GITHUB_GET_USER"]},
    }
    session = await json_of(await api.post(f"{V31}/tool_router/session", json=session_body,
                                           headers=KEY), 201)
    assert session["session_id"].startswith("trs_")
    assert isinstance(session["mcp"], dict) and isinstance(session["config"], dict)
    authorize = {"toolkit": "github", "callback_url": "https://e.x/cb", "alias": "x"}
    linked = await json_of(await api.post(
        f"{V31}/tool_router/session/{session['session_id']}/link", json=authorize,
        headers=KEY), 201)
    account = await json_of(await api.get(
        f"{V31}/connected_accounts/{linked['connected_account_id']}", headers=KEY), 200)
    assert account["auth_config"]["id"] == ac_id and account["status"] == "INITIATED"


async def test_query_arrays_comma_joined_and_path_slugs_in_any_case(
        api: TestClient[Any, Any]) -> None:
    ac_id = await create(api, {"toolkit": {"slug": "perplexityai"},
                               "auth_config": {"type": "use_custom_auth",
                                               "authScheme": "API_KEY", "credentials": {}}})
    ids = {}
    for user in ("user_a", "user_b", "user_c"):
        body = {"auth_config": {"id": ac_id},
                "connection": {"user_id": user,
                               "state": {"authScheme": "API_KEY",
                                         "val": {"generic_api_key": f"pplx-{user}"}}}}
        made = await json_of(await api.post(f"{V31}/connected_accounts", json=body,
                                            headers=KEY), 201)
        ids[user] = made["id"]
    listed = await json_of(await api.get(
        f"{V31}/connected_accounts?user_ids=user_a%2Cuser_c&statuses=ACTIVE%2CINITIATED",
        headers=KEY), 200)
    assert sorted(a["id"] for a in listed["items"]) == sorted([ids["user_a"], ids["user_c"]])

    toolkit = await json_of(await api.get(f"{V31}/toolkits/PERPLEXITYAI", headers=KEY), 200)
    assert toolkit["slug"] == "perplexityai"
    # getAuthConfigCreationFields looks the scheme up by exact `mode` and reads camelCase
    # `displayName` in each field
    modes = {d["mode"]: d for d in toolkit["auth_config_details"]}
    fields = modes["API_KEY"]["fields"]["connected_account_initiation"]["required"]
    assert [f["name"] for f in fields] == ["generic_api_key"]
    assert isinstance(fields[0]["displayName"], str)
