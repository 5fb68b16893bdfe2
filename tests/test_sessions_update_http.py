"""Session update (PATCH), config history, multi-account rules and the refused session
operations, over HTTP (aiohttp test client) and in the domain."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio.domain import sessions
from mockcomposio.domain.connected_accounts import Origin
from mockcomposio.engine import Engine
from mockcomposio.errors import ComposioError
from mockcomposio.testing.tenant import Tenant

from .conftest import KEY
from .test_http_auth_configs import error_of
from .test_sessions_http import new_session

SESSION = "/api/v3.1/tool_router/session"


@pytest.mark.parametrize("prefix", ["/api/v3", "/api/v3.1"])
async def test_patch_on_both_prefixes(api: TestClient[Any, Any], prefix: str) -> None:
    s = await new_session(api, toolkits={"enable": ["github", "gmail"]})
    resp = await api.patch(f"{prefix}/tool_router/session/{s['session_id']}",
                           json={"toolkits": {"enable": ["github"]}}, headers=KEY)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["session_id"] == s["session_id"] and body["config_version"] == 2
    assert body["config"]["toolkits"] == {"enabled": ["github"]}
    assert body["tool_router_tools"] == s["tool_router_tools"]


async def test_patch_rules_and_history(api: TestClient[Any, Any]) -> None:
    s = await new_session(api, toolkits={"enable": ["github"]}, tags=["readOnlyHint"],
                          manage_connections={"enable": True, "callback_url": "https://a.x/cb",
                                              "enable_wait_for_connections": True},
                          workbench={"enable_proxy_execution": False, "sandbox_size": "large"})
    path = f"{SESSION}/{s['session_id']}"

    async def patch(body: dict[str, Any]) -> dict[str, Any]:
        resp = await api.patch(path, json=body, headers=KEY)
        assert resp.status == 200, await resp.text()
        return dict(await resp.json())

    # merged blocks: a null field drops that field only
    cfg = (await patch({"manage_connections": {"callback_url": None},
                        "workbench": {"sandbox_size": "xlarge"}}))["config"]
    assert cfg["manage_connections"] == {"enabled": True, "enable_wait_for_connections": True}
    assert cfg["workbench"] == {"proxy_execution_enabled": False, "sandbox_size": "xlarge"}
    assert cfg["toolkits"] == {"enabled": ["github"]}
    assert cfg["tags"] == {"enabled": ["readOnlyHint"]}
    # a null block removes the override; meta tools follow manage_connections
    body = await patch({"toolkits": None, "tags": None, "manage_connections": {"enable": False}})
    assert "toolkits" not in body["config"] and "tags" not in body["config"]
    assert "COMPOSIO_MANAGE_CONNECTIONS" not in body["tool_router_tools"]
    # search / multi-execute off
    body = await patch({"search": {"enable": False}, "execute": {"enable_multi_execute": False}})
    assert body["tool_router_tools"] == [] and body["config_version"] == 4
    # the session's toolkits follow the update at once
    page = await (await api.get(f"{path}/toolkits?toolkits=gmail", headers=KEY)).json()
    assert page["items"][0]["enabled"] is True

    history = await (await api.get(f"{path}/config_history?limit=2", headers=KEY)).json()
    assert [(i["version"], i["is_current"]) for i in history["items"]] == [(4, True), (3, False)]
    assert history["total_items"] == 4 and history["next_cursor"]
    rest = await (await api.get(f"{path}/config_history?cursor={history['next_cursor']}",
                                headers=KEY)).json()
    assert [i["version"] for i in rest["items"]] == [2, 1]
    assert rest["items"][1]["config"]["toolkits"] == {"enabled": ["github"]}


async def test_conditional_patch_and_refusals_change_nothing(api: TestClient[Any, Any]) -> None:
    s = await new_session(api, toolkits={"enable": ["github"]})
    path = f"{SESSION}/{s['session_id']}"
    resp = await api.patch(path, json={"toolkits": {"enable": ["gmail"]},
                                       "expected_config_version": 2}, headers=KEY)
    err = await error_of(resp, 409)
    assert err["slug"] == "ToolRouterV2_ConfigVersionConflict" and "version 1" in err["message"]
    for bad, needle in (({"toolkit": {"enable": ["gmail"]}}, "did you mean 'toolkits'"),
                        ({"user_id": "someone-else"}, "user_id"),
                        ({"workbench": {"auto_offload_threshold": 0}}, "auto_offload_threshold"),
                        ({"multi_account": {"max_accounts_per_toolkit": 1}}, "minimum of 2"),
                        ({"instant": None}, "instant"),
                        ({"toolkits": {"enable": ["nosuch"]}}, "nosuch"),
                        ({"tools": {"gmial": {"enable": ["GMAIL_SEND_EMAIL"]}}}, "gmail"),
                        ({"connected_accounts": {"github": ["ca_missing000000"]}}, "ca_missing"),
                        ({"experimental": {"session_config_id": "sc_1"}}, "not served")):
        resp = await api.patch(path, json=bad, headers=KEY)
        assert resp.status in (400, 404), await resp.text()
        assert needle in await resp.text(), (bad, await resp.text())
    after = await (await api.get(path, headers=KEY)).json()
    assert after["config_version"] == 1 and after["config"] == s["config"]
    resp = await api.patch(path, json={"expected_config_version": 1,
                                       "toolkits": {"enable": ["gmail"]}}, headers=KEY)
    assert resp.status == 200 and (await resp.json())["config_version"] == 2
    err = await error_of(await api.patch(f"{SESSION}/trs_nosuchsession", json={},
                                         headers=KEY), 404)
    assert err["slug"] == "ToolRouterV2_SessionNotFound"
    await error_of(await api.patch(f"{SESSION}/nope", json={}, headers=KEY), 400)


async def test_not_served_operations_name_themselves(api: TestClient[Any, Any]) -> None:
    s = await new_session(api)
    sid = s["session_id"]
    for method, path, name in (
            ("GET", "/api/v3.1/session_configs", "sessionConfigs.list()"),
            ("GET", "/api/v3/session_configs/sc_123", "sessionConfigs.get()"),
            ("POST", f"{SESSION}/{sid}/attach", "custom_tools"),
            ("POST", f"{SESSION}/{sid}/proxy_execute", "proxy_execute()"),
            ("GET", f"{SESSION}/{sid}/mounts/files/items", "mounts/{mount_id}/items"),
            ("POST", f"{SESSION}/{sid}/mounts/files/upload_url", "upload_url")):
        resp = await api.request(method, path, headers=KEY, json={} if method == "POST" else None)
        err = await error_of(resp, 400)
        assert err["slug"] == "ToolRouterV2_NotSupportedByMock"
        assert name in err["message"] and "not served by mockcomposio" in err["message"]
        assert err["suggested_fix"]
    err = await error_of(await api.post(f"{SESSION}/trs_nosuchsession/proxy_execute", json={},
                                        headers=KEY), 404)
    assert err["slug"] == "ToolRouterV2_SessionNotFound"


def test_domain_selection_rules(engine: Engine) -> None:
    origin = Origin("http://127.0.0.1:1")
    tenant = Tenant(engine, "domain", origin.base_url)  # the plugin's arrange helpers
    project = tenant.project
    a = tenant.add_account("github", "u")
    b = tenant.add_account("github", "u")
    tenant.add_account("github", "someone-else")
    plain = sessions.create(project, origin, {"user_id": "u"})
    assert sessions.current_account(project, plain, "github") is b  # most recent ACTIVE
    assert sessions.select_account(project, plain, "github") is b  # no explicit selection
    with pytest.raises(ComposioError, match="at most 1"):
        sessions.create(project, origin, {"user_id": "u", "connected_accounts": {
            "github": [a.id, b.id]}})
    multi = sessions.create(project, origin, {"user_id": "u", "multi_account": {
        "enable": True, "require_explicit_selection": True}})
    with pytest.raises(ComposioError, match="explicit account selection") as err:
        sessions.select_account(project, multi, "github")
    assert err.value.slug == "ToolRouterV2_AccountSelectionRequired"
    assert sessions.select_account(project, multi, "github", a.id) is a
    with pytest.raises(ComposioError, match="not a github account this session can use"):
        sessions.select_account(project, multi, "github", "ca_someoneelse")
    # pinning narrows the choice to the pinned accounts
    pinned = sessions.update(project, multi.id, {"connected_accounts": {"github": [a.id]}})
    assert sessions.select_account(project, pinned, "github") is a
    assert pinned.config_version == 2 and len(pinned.history) == 1


async def test_updated_session_survives_a_state_export_and_import(
        api: TestClient[Any, Any]) -> None:
    s = await new_session(api, toolkits={"enable": ["github"]})
    path = f"{SESSION}/{s['session_id']}"
    assert (await api.patch(path, json={"toolkits": {"enable": ["gmail"]}},
                            headers=KEY)).status == 200
    state = await (await api.get("/_mock/state?secrets=true", headers=KEY)).json()
    assert (await api.post("/_mock/reset", json={}, headers=KEY)).status == 200
    assert (await api.get(path, headers=KEY)).status == 404
    assert (await api.post("/_mock/state", json=state, headers=KEY)).status < 300
    back = await (await api.get(path, headers=KEY)).json()
    assert back["config_version"] == 2 and back["config"]["toolkits"] == {"enabled": ["gmail"]}
    history = await (await api.get(f"{path}/config_history", headers=KEY)).json()
    assert [i["version"] for i in history["items"]] == [2, 1]
    # and it keeps updating from there
    resp = await api.patch(path, json={"toolkits": None}, headers=KEY)
    assert resp.status == 200 and (await resp.json())["config_version"] == 3
