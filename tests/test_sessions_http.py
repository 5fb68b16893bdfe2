"""Tool Router sessions over HTTP, through aiohttp's test client."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from mockcomposio.domain import auth_configs, connected_accounts
from mockcomposio.domain.connected_accounts import Origin
from mockcomposio.domain.models import ACTIVE
from mockcomposio.engine import Engine

from .conftest import KEY, OTHER
from .test_http_auth_configs import create as create_auth_config
from .test_http_auth_configs import error_of

V31 = "/api/v3.1"
SESSION = f"{V31}/tool_router/session"


async def new_session(api: TestClient[Any, Any], **body: Any) -> dict[str, Any]:
    body.setdefault("user_id", "user_123")
    resp = await api.post(SESSION, json=body, headers=KEY)
    assert resp.status == 201, await resp.text()
    return dict(await resp.json())


async def authorize(api: TestClient[Any, Any], session_id: str, toolkit: str,
                    **extra: Any) -> Any:
    return await api.post(f"{SESSION}/{session_id}/link", json={"toolkit": toolkit, **extra},
                          headers=KEY)


def activate(engine: Engine, account_id: str) -> None:
    """Stand-in for completing consent: the domain's own ACTIVE transition."""
    project = engine.project(KEY["x-api-key"])
    account = project.accounts[account_id]
    project.set_status(account, ACTIVE)


async def test_create_get_delete_shape(api: TestClient[Any, Any]) -> None:
    s = await new_session(api, toolkits={"enable": ["GitHub", "gmail"]},
                          manage_connections={"enable": True, "callback_url": "https://a.example/cb"},
                          hooks={"before": "x"}, tags=["readOnlyHint"],
                          workbench={"enable_proxy_execution": False},
                          multi_account={"enable": True, "max_accounts_per_toolkit": 3})
    sid = s["session_id"]
    assert sid.startswith("trs_") and len(sid) == 16
    assert s["mcp"]["type"] == "http"
    assert s["mcp"]["url"].startswith(str(api.make_url("/"))) and sid in s["mcp"]["url"]
    assert "COMPOSIO_MANAGE_CONNECTIONS" in s["tool_router_tools"]
    assert isinstance(s["config_version"], int)
    cfg = s["config"]
    assert cfg["user_id"] == "user_123"
    assert cfg["toolkits"] == {"enabled": ["github", "gmail"]}
    assert cfg["manage_connections"] == {"enabled": True, "callback_url": "https://a.example/cb"}
    assert cfg["execute"] == {} and cfg["search"] == {} and cfg["instant"] is False
    assert cfg["preload"] == {"tools": []}
    assert cfg["hooks"] == {"before": "x"} and cfg["tags"] == {"enabled": ["readOnlyHint"]}
    assert cfg["workbench"] == {"proxy_execution_enabled": False}
    assert cfg["multi_account"] == {"enable": True, "max_accounts_per_toolkit": 3}

    for prefix in ("/api/v3", V31):
        got = await api.get(f"{prefix}/tool_router/session/{sid}", headers=KEY)
        assert got.status == 200
        assert await got.json() == s
    # Another API key is another project: the session does not exist there.
    await error_of(await api.get(f"{SESSION}/{sid}", headers=OTHER), 404)

    deleted = await api.delete(f"{SESSION}/{sid}", headers=KEY)
    assert deleted.status == 200
    assert await deleted.json() == {"session_id": sid, "deleted": True}
    err = await error_of(await api.get(f"{SESSION}/{sid}", headers=KEY), 404)
    assert sid in err["message"]
    await error_of(await api.delete(f"{SESSION}/{sid}", headers=KEY), 404)


async def test_malformed_and_unknown_session_ids(api: TestClient[Any, Any]) -> None:
    for path in (f"{SESSION}/sess_123", f"{SESSION}/123/toolkits"):
        err = await error_of(await api.get(path, headers=KEY), 400)
        assert "please pass this in trs_ prefix format" in err["message"]
    err = await error_of(await authorize(api, "nope", "github"), 400)
    assert "trs_ prefix format" in err["message"]
    await error_of(await api.get(f"{SESSION}/trs_AAAAAAAAAAAA", headers=KEY), 404)


async def test_create_validation(api: TestClient[Any, Any]) -> None:
    resp = await api.post(SESSION, json={"toolkits": {"enable": ["github"]}}, headers=KEY)
    err = await error_of(resp, 400)
    assert any("user_id" in e for e in err["errors"])
    resp = await api.post(SESSION, json={"user_id": "u", "toolkits": {"enable": ["githb"]}},
                          headers=KEY)
    assert "github" in (await error_of(resp, 400))["message"]
    resp = await api.post(SESSION, json={"user_id": "u", "toolkits": {
        "enable": ["github"], "disable": ["gmail"]}}, headers=KEY)
    assert "mutually exclusive" in (await error_of(resp, 400))["message"]
    resp = await api.post(SESSION, json={"user_id": "u", "auth_configs": {
        "github": "ac_missing00000"}}, headers=KEY)
    assert (await error_of(resp, 404))["slug"] == "Auth_Config_NotFound"
    gmail = (await create_auth_config(api, "gmail"))["auth_config"]["id"]
    resp = await api.post(SESSION, json={"user_id": "u", "auth_configs": {"github": gmail}},
                          headers=KEY)
    assert "belongs to toolkit gmail" in (await error_of(resp, 400))["message"]
    resp = await api.post(SESSION, json={"user_id": "u", "connected_accounts": {
        "github": "ca_missing00000"}}, headers=KEY)
    assert (await error_of(resp, 404))["slug"] == "ConnectedAccount_ResourceNotFound"


async def test_link_auto_creates_one_managed_config_and_reuses_it(
        api: TestClient[Any, Any], engine: Engine) -> None:
    s = await new_session(api)
    resp = await authorize(api, s["session_id"], "github",
                           callback_url="https://myapp.example/cb")
    assert resp.status == 201, await resp.text()
    link = await resp.json()
    assert set(link) >= {"link_token", "redirect_url", "connected_account_id", "expires_at"}
    assert link["link_token"].startswith("lk_")
    assert link["redirect_url"] == str(api.make_url(f"/link/{link['link_token']}"))
    # The account is readable from the plain endpoint (what wait_for_connection polls).
    acc = await (await api.get(f"{V31}/connected_accounts/{link['connected_account_id']}",
                               headers=KEY)).json()
    assert acc["status"] == "INITIATED" and acc["user_id"] == "user_123"
    ac_id = acc["auth_config"]["id"]
    assert acc["auth_config"]["is_composio_managed"] is True
    project = engine.project(KEY["x-api-key"])
    assert project.auth_configs[ac_id].created_by_tool_router is True

    # A second session of the same project reuses the Tool Router-created config.
    s2 = await new_session(api, user_id="someone_else")
    link2 = await (await authorize(api, s2["session_id"], "github")).json()
    acc2 = await (await api.get(f"{V31}/connected_accounts/{link2['connected_account_id']}",
                                headers=KEY)).json()
    assert acc2["auth_config"]["id"] == ac_id and acc2["user_id"] == "someone_else"
    listed = await (await api.get(f"{V31}/auth_configs?toolkit_slug=github", headers=KEY)).json()
    assert [i["id"] for i in listed["items"]] == [ac_id]


async def test_link_precedence_override_and_pinned(api: TestClient[Any, Any],
                                                   engine: Engine) -> None:
    custom = (await create_auth_config(api, "github", {
        "type": "use_custom_auth", "authScheme": "OAUTH2",
        "credentials": {"client_id": "cid", "client_secret": "sec"}}))["auth_config"]["id"]
    s = await new_session(api, auth_configs={"github": custom})
    link = await (await authorize(api, s["session_id"], "github")).json()
    acc = await (await api.get(f"{V31}/connected_accounts/{link['connected_account_id']}",
                               headers=KEY)).json()
    assert acc["auth_config"]["id"] == custom
    activate(engine, acc["id"])

    pinned = await new_session(api, connected_accounts={"github": acc["id"]})
    assert pinned["config"]["connected_accounts"] == {"github": [acc["id"]]}
    err = await error_of(await authorize(api, pinned["session_id"], "github"), 400)
    assert ("a connected account is already defined for this toolkit in the session "
            "configuration") in err["message"]
    # Pinning another user's account is refused (reference U3).
    resp = await api.post(SESSION, json={"user_id": "mallory",
                                         "connected_accounts": {"github": [acc["id"]]}},
                          headers=KEY)
    await error_of(resp, 400)


async def test_no_managed_auth_and_no_auth_toolkits(api: TestClient[Any, Any]) -> None:
    s = await new_session(api)
    err = await error_of(await authorize(api, s["session_id"], "twitter"), 400)
    assert err["slug"] == "ToolRouterV2_NoManagedAuth" and err["code"] == 4300
    assert err["message"] == (
        "Composio does not manage auth for toolkit twitter and no auth config without required "
        "fields is available. Please create an auth config manually or specify one in "
        "auth_config_override.")
    await error_of(await authorize(api, s["session_id"], "hackernews"), 400)
    assert (await error_of(await authorize(api, s["session_id"], "nosuch"), 404))["slug"] == \
        "Toolkit_NotFound"
    # With a custom config passed to the session, twitter works.
    tw = (await create_auth_config(api, "twitter", {
        "type": "use_custom_auth", "authScheme": "OAUTH2",
        "credentials": {"client_id": "c", "client_secret": "s", "generic_id": "b"}}))[
        "auth_config"]["id"]
    s2 = await new_session(api, auth_configs={"twitter": tw})
    assert (await authorize(api, s2["session_id"], "twitter")).status == 201


async def test_disabled_config_refused_through_session(api: TestClient[Any, Any]) -> None:
    ac = (await create_auth_config(api, "gmail"))["auth_config"]["id"]
    s = await new_session(api, auth_configs={"gmail": ac})
    assert (await api.patch(f"{V31}/auth_configs/{ac}/DISABLED", headers=KEY)).status == 200
    err = await error_of(await authorize(api, s["session_id"], "gmail"), 400)
    assert err["slug"] == "Auth_Config_Disabled"
    # ...and the Tool Router-created config, once disabled, is refused as well.
    s2 = await new_session(api)
    first = await (await authorize(api, s2["session_id"], "slack")).json()
    acc = await (await api.get(f"{V31}/connected_accounts/{first['connected_account_id']}",
                               headers=KEY)).json()
    await api.patch(f"{V31}/auth_configs/{acc['auth_config']['id']}/DISABLED", headers=KEY)
    err = await error_of(await authorize(api, s2["session_id"], "slack"), 400)
    assert err["slug"] == "Auth_Config_Disabled"


async def test_toolkits_reflect_live_accounts(api: TestClient[Any, Any],
                                              engine: Engine) -> None:
    s = await new_session(api, toolkits={"enable": ["github", "gmail", "hackernews"]})
    sid = s["session_id"]
    page = await (await api.get(f"{SESSION}/{sid}/toolkits", headers=KEY)).json()
    # sorted by popularity (the catalogue's order), not in the allowlist's order
    assert [i["slug"] for i in page["items"]] == ["gmail", "github", "hackernews"]
    assert page["next_cursor"] is None and page["total_items"] == 3
    gh = page["items"][0]
    assert gh["enabled"] is True and gh["is_no_auth"] is False
    assert gh["composio_managed_auth_schemes"] == ["OAUTH2"] and gh["connected_account"] is None
    assert set(gh["meta"]) >= {"description", "logo"}
    assert page["items"][2]["is_no_auth"] is True

    link = await (await authorize(api, sid, "github")).json()
    page = await (await api.get(f"{SESSION}/{sid}/toolkits?toolkits=github", headers=KEY)).json()
    assert page["items"][0]["connected_account"] is None  # INITIATED is not connected
    activate(engine, link["connected_account_id"])
    page = await (await api.get(f"{SESSION}/{sid}/toolkits?is_connected=true",
                                headers=KEY)).json()
    assert [i["slug"] for i in page["items"]] == ["github"]
    ca = page["items"][0]["connected_account"]
    assert ca["id"] == link["connected_account_id"] and ca["status"] == "ACTIVE"
    assert ca["user_id"] == "user_123" and ca["created_at"].endswith("Z")
    assert ca["auth_config"]["auth_scheme"] == "OAUTH2"
    assert ca["auth_config"]["is_composio_managed"] is True

    # A newer ACTIVE account becomes the one the session uses; deleting it falls back.
    engine.project(KEY["x-api-key"]).advance_clock(5)
    link2 = await (await authorize(api, sid, "github")).json()
    activate(engine, link2["connected_account_id"])
    page = await (await api.get(f"{SESSION}/{sid}/toolkits?toolkits=github", headers=KEY)).json()
    assert page["items"][0]["connected_account"]["id"] == link2["connected_account_id"]
    await api.delete(f"{V31}/connected_accounts/{link2['connected_account_id']}", headers=KEY)
    page = await (await api.get(f"{SESSION}/{sid}/toolkits?toolkits=github", headers=KEY)).json()
    assert page["items"][0]["connected_account"]["id"] == link["connected_account_id"]

    # Search and pagination.
    page = await (await api.get(f"{SESSION}/{sid}/toolkits?search=mail", headers=KEY)).json()
    assert [i["slug"] for i in page["items"]] == ["gmail"]
    page = await (await api.get(f"{SESSION}/{sid}/toolkits?limit=2", headers=KEY)).json()
    assert len(page["items"]) == 2 and page["next_cursor"] and page["total_pages"] == 2
    page2 = await (await api.get(f"{SESSION}/{sid}/toolkits?cursor={page['next_cursor']}",
                                 headers=KEY)).json()
    assert [i["slug"] for i in page2["items"]] == ["hackernews"] and page2["next_cursor"] is None


async def test_toolkits_denylist_and_default(api: TestClient[Any, Any]) -> None:
    s = await new_session(api, toolkits={"disable": ["gmail"]})
    page = await (await api.get(f"{SESSION}/{s['session_id']}/toolkits?limit=1000",
                                headers=KEY)).json()
    slugs = [i["slug"] for i in page["items"]]
    assert "gmail" not in slugs and "github" in slugs
    # by popularity (the catalogue's usage ranks), then the unranked toolkits by slug
    assert slugs[:2] == ["googlecalendar", "googledrive"]
    assert slugs.index("composio") + 1 == slugs.index("hackernews") < slugs.index("_21risk")
    assert len(slugs) == 529
    page = await (await api.get(f"{SESSION}/{s['session_id']}/toolkits?toolkits=gmail",
                                headers=KEY)).json()
    assert page["items"][0]["enabled"] is False
    default = await new_session(api)
    page = await (await api.get(f"{SESSION}/{default['session_id']}/toolkits",
                                headers=KEY)).json()
    assert len(page["items"]) == 20 and page["next_cursor"]


async def test_tools_listing_terminates(api: TestClient[Any, Any]) -> None:
    s = await new_session(api)
    page = await (await api.get(f"{SESSION}/{s['session_id']}/tools?limit=500",
                                headers=KEY)).json()
    assert page["next_cursor"] is None
    slugs = [t["slug"] for t in page["items"]]
    assert slugs == s["tool_router_tools"] and "COMPOSIO_MANAGE_CONNECTIONS" in slugs
    mc = page["items"][slugs.index("COMPOSIO_MANAGE_CONNECTIONS")]
    assert mc["input_parameters"]["required"] == ["toolkits"]
    off = await new_session(api, manage_connections={"enable": False})
    assert "COMPOSIO_MANAGE_CONNECTIONS" not in off["tool_router_tools"]
    assert off["config"]["manage_connections"] == {"enabled": False}


async def test_manage_connections_meta_tool(api: TestClient[Any, Any], engine: Engine) -> None:
    s = await new_session(api, manage_connections={"enable": True,
                                                   "callback_url": "https://app.example/mc"})
    sid = s["session_id"]
    resp = await api.post(f"{SESSION}/{sid}/execute_meta", headers=KEY, json={
        "slug": "COMPOSIO_MANAGE_CONNECTIONS",
        "arguments": {"toolkits": ["github", "twitter", "nosuch"]}})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["result_type"] == "completed" and body["successful"] is True
    assert body["error"] is None and body["log_id"].startswith("log_")
    results = body["data"]["results"]
    gh = results["github"]
    assert gh["status"] == "initiated" and gh["has_active_connection"] is False
    assert gh["redirect_url"].startswith(str(api.make_url("/link/lk_")))
    assert gh["connected_account_id"].startswith("ca_")
    assert results["twitter"]["status"] == "failed"
    assert "does not manage auth for toolkit twitter" in results["twitter"]["error_message"]
    assert results["nosuch"]["status"] == "failed"
    assert body["data"]["summary"] == {"total_toolkits": 3, "active_connections": 0,
                                       "initiated_connections": 1, "failed_connections": 2}
    assert body["data"]["session"]["id"] == sid
    project = engine.project(KEY["x-api-key"])
    assert project.accounts[gh["connected_account_id"]].callback_url == "https://app.example/mc"

    activate(engine, gh["connected_account_id"])
    body = await (await api.post(f"{SESSION}/{sid}/execute", headers=KEY, json={
        "tool_slug": "COMPOSIO_MANAGE_CONNECTIONS", "arguments": {"toolkits": ["github"]}})).json()
    again = body["data"]["results"]["github"]
    assert again["status"] == "active" and again["has_active_connection"] is True
    assert again["connected_account_id"] == gh["connected_account_id"]
    body = await (await api.post(f"{SESSION}/{sid}/execute", headers=KEY, json={
        "tool_slug": "COMPOSIO_MANAGE_CONNECTIONS",
        "arguments": {"toolkits": ["github"], "reinitiate_all": True}})).json()
    re = body["data"]["results"]["github"]
    assert re["status"] == "initiated" and re["was_reinitiated"] is True
    assert re["connected_account_id"] != gh["connected_account_id"]

    bad = await (await api.post(f"{SESSION}/{sid}/execute_meta", headers=KEY, json={
        "slug": "COMPOSIO_MANAGE_CONNECTIONS", "arguments": {}})).json()
    assert bad["result_type"] == "failed" and bad["successful"] is False and bad["error"]


async def test_other_tools_are_refused_clearly(api: TestClient[Any, Any]) -> None:
    s = await new_session(api)
    sid = s["session_id"]
    for path, body in ((f"{SESSION}/{sid}/execute_meta",
                        {"slug": "COMPOSIO_SEARCH_TOOLS", "arguments": {"queries": []}}),
                       (f"{SESSION}/{sid}/execute",
                        {"tool_slug": "GITHUB_CREATE_AN_ISSUE", "arguments": {}})):
        err = await error_of(await api.post(path, json=body, headers=KEY), 400)
        assert err["slug"] == "ToolRouterV2_NotSupportedByMock"
        assert "not supported by mockcomposio" in err["message"]
    err = await error_of(await api.post(f"{SESSION}/{sid}/execute", json={}, headers=KEY), 400)
    assert any("tool_slug" in e for e in err["errors"])


async def test_domain_link_then_complete_uses_session_callback_style(engine: Engine) -> None:
    """The session's link goes through connected_accounts.link (via="session"): the callback
    answers in snake_case like link(), not initiate()'s camelCase."""
    from mockcomposio.domain import sessions

    project = engine.project("domain-key")
    origin = Origin("http://127.0.0.1:1")
    s = sessions.create(project, origin, {"user_id": "u1"})
    account, link, _ = sessions.link(project, origin, s.id, toolkit="github",
                                     callback_url="https://app.example/cb?x=1")
    assert account.via == "session"
    url = connected_accounts.app_redirect(account, link.callback_url, success=True)
    assert url == f"https://app.example/cb?x=1&status=success&connected_account_id={account.id}"
    ac = auth_configs.get(project, account.auth_config_id)
    assert ac.created_by_tool_router and ac.is_composio_managed


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["link", "activate", "delete", "disable"]),
                          st.sampled_from(["github", "gmail"]), st.integers(0, 5)),
                max_size=25))
def test_toolkits_always_match_live_accounts(ops: list[tuple[str, str, int]]) -> None:
    """Whatever happens to the accounts, the session reports the newest ACTIVE one per toolkit
    and is_connected lists exactly the toolkits that have one."""
    from mockcomposio.domain import sessions

    project = Engine(seed=1).project("prop")
    origin = Origin("http://127.0.0.1:1")
    s = sessions.create(project, origin, {"user_id": "u", "toolkits": ["github", "gmail"]})
    made: list[str] = []
    for op, toolkit, pick in ops:
        project.advance_clock(1)
        if op == "link":
            account, _, _ = sessions.link(project, origin, s.id, toolkit=toolkit)
            made.append(account.id)
            continue
        if not made:
            continue
        account_id = made[pick % len(made)]
        if account_id not in project.accounts:
            continue
        if op == "activate":
            project.set_status(project.accounts[account_id], ACTIVE)
        elif op == "delete":
            connected_accounts.delete(project, account_id)
        elif project.accounts[account_id].status == ACTIVE:
            connected_accounts.set_enabled(project, account_id, False)
    _, listed = sessions.toolkits(project, s.id)
    _, connected = sessions.toolkits(project, s.id, is_connected=True)
    for tk, current in listed:
        active = [a for a in project.accounts.values()
                  if a.toolkit == tk.slug and a.status == ACTIVE]
        newest = max(active, key=lambda a: (a.created_at, a.seq), default=None)
        assert current is newest
    assert [t.slug for t, _ in connected] == [t.slug for t, a in listed if a is not None]
