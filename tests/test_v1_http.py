"""The legacy v1 API over raw HTTP: shapes (as composio-core 0.7 reads them), v1 ↔ v3
visibility of the same objects, the v1 OAuth callback, and errors in the envelope."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio import contracts
from mockcomposio.domain.v1 import app_id
from mockcomposio.engine import Engine
from mockcomposio.http.app import create_app
from mockcomposio.http.v1_routes import V1_ROUTES
from mockcomposio.testing import ConsentDriver

from .conftest import KEY, OTHER

V1 = "/api/v1"
V31 = "/api/v3.1"
Client = TestClient[Any, Any]
CALLBACK = "https://app.example/done?from=test"


async def ok(resp: Any, status: int = 200) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    body = await resp.json()
    assert set(body) == {"error"}
    assert {"message", "code", "slug", "status", "request_id"} <= set(body["error"])
    assert body["error"]["status"] == status
    return dict(body["error"])


async def integration(api: Client, app: str = "github", **body: Any) -> dict[str, Any]:
    payload = {"appName": app, "name": f"{app}_it", "useComposioAuth": True, **body}
    return dict(await ok(await api.post(f"{V1}/integrations", json=payload, headers=KEY)))


async def initiate(api: Client, integration_id: str, user: str = "u1",
                   **body: Any) -> dict[str, Any]:
    payload = {"integrationId": integration_id, "userUuid": user, "data": {}, **body}
    return dict(await ok(await api.post(f"{V1}/connectedAccounts", json=payload, headers=KEY)))


def base_url(api: Client) -> str:
    return str(api.make_url("")).rstrip("/")


# -- apps and the key check --------------------------------------------------------------------

async def test_apps_in_the_shape_the_0_7_sdk_reads(api: Client) -> None:
    listed = await ok(await api.get(f"{V1}/apps", headers=KEY))
    keys = [a["key"] for a in listed["items"]]
    assert keys == sorted(keys) and {"github", "notion", "serpapi", "hackernews"} <= set(keys)
    assert listed["totalPages"] == 1
    github = await ok(await api.get(f"{V1}/apps/GITHUB", headers=KEY))  # App.GITHUB's slug
    assert github == next(a for a in listed["items"] if a["key"] == "github")
    assert github["appId"] == app_id_of("github") and github["name"] == "github"
    assert github["testConnectors"], "managed OAuth: the SDK may create integrations itself"
    oauth, bearer = github["auth_schemes"]  # every OAuth2 toolkit also takes a bearer token
    assert oauth["auth_mode"] == "OAUTH2" and oauth["default_scopes"]
    assert bearer["auth_mode"] == "BEARER_TOKEN"
    assert [(f["name"], f["expected_from_customer"]) for f in bearer["fields"]] == [
        ("token", True)]
    creation = [f["name"] for f in oauth["fields"] if not f["expected_from_customer"]]
    assert creation == ["client_id", "client_secret", "oauth_redirect_uri", "scopes"]
    notion = await ok(await api.get(f"{V1}/apps/{app_id_of('notion')}", headers=KEY))
    api_key = next(s for s in notion["auth_schemes"] if s["auth_mode"] == "API_KEY")
    assert [(f["name"], f["required"], f["expected_from_customer"]) for f in api_key["fields"]] \
        == [("generic_api_key", True, True)]
    serpapi = await ok(await api.get(f"{V1}/apps/serpapi", headers=KEY))
    assert serpapi["testConnectors"] == []
    err = await error(await api.get(f"{V1}/apps/githib", headers=KEY), 404)
    assert err["slug"] == "App_NotFound" and "github" in err["message"]


def app_id_of(slug: str) -> str:
    toolkit = Engine().catalogue.get(slug)
    assert toolkit is not None
    return app_id(toolkit)


async def test_client_info_checks_the_key(api: Client) -> None:
    info = await ok(await api.get(f"{V1}/client/auth/client_info", headers=KEY))
    assert info["client"]["id"] and info["apiKey"] != KEY["x-api-key"]
    err = await error(await api.get(f"{V1}/client/auth/client_info"), 401)
    assert "x-api-key" in err["message"]


# -- integrations = auth configs ---------------------------------------------------------------

async def test_integration_created_in_v1_is_an_auth_config_in_v3(api: Client) -> None:
    managed = await integration(api, "github", authScheme="OAUTH2",
                                authConfig={"scopes": ["repo"]})
    assert managed["appName"] == "github" and managed["appId"] == app_id_of("github")
    assert managed["useComposioAuth"] is True and managed["enabled"] is True
    assert managed["expectedInputFields"] == [] and managed["name"] == "github_it"
    v3 = await ok(await api.get(f"{V31}/auth_configs/{managed['id']}", headers=KEY))
    assert v3["toolkit"]["slug"] == "github" and v3["is_composio_managed"] is True
    assert v3["scopes"] == ["repo"] and v3["name"] == "github_it"

    custom = await integration(api, "gmail", useComposioAuth=False, authScheme="OAUTH2",
                               authConfig={"client_id": "cid", "client_secret": "sekrit-value"})
    assert custom["useComposioAuth"] is False
    assert custom["authConfig"]["client_id"] == "cid"
    assert custom["authConfig"]["client_secret"] == "sekr..."  # masked as in v3
    v3 = await ok(await api.get(f"{V31}/auth_configs/{custom['id']}", headers=KEY))
    assert v3["type"] == "custom" and v3["credentials"]["client_id"] == "cid"


async def test_auth_config_created_in_v3_is_an_integration_in_v1(api: Client) -> None:
    resp = await api.post(f"{V31}/auth_configs", headers=KEY, json={
        "toolkit": {"slug": "neon"}, "auth_config": {"type": "use_custom_auth",
                                                     "authScheme": "BEARER_TOKEN"}})
    ac = (await ok(resp, 201))["auth_config"]["id"]
    got = await ok(await api.get(f"{V1}/integrations/{ac}", headers=KEY))
    assert got["authScheme"] == "BEARER_TOKEN" and got["appName"] == "neon"
    field = got["expectedInputFields"][0]
    assert (field["name"], field["required"], field["expected_from_customer"]) == \
        ("token", True, True)
    assert field["displayName"] == field["display_name"]
    listed = await ok(await api.get(f"{V1}/integrations?appName=neon", headers=KEY))
    assert [i["id"] for i in listed["items"]] == [ac]
    other = await ok(await api.get(f"{V1}/integrations", headers=OTHER))
    assert other["items"] == []  # another API key is another project


async def test_integration_values_provided_at_creation_are_not_expected_again(
        api: Client) -> None:
    created = await integration(api, "hubspot", useComposioAuth=True, authScheme="BEARER_TOKEN",
                                authConfig={"token": "tok-123456"})
    # useComposioAuth only concerns OAuth apps: a bearer integration is custom
    assert created["useComposioAuth"] is False and created["expectedInputFields"] == []
    account = await initiate(api, created["id"])
    assert account == {"connectionStatus": "ACTIVE",
                       "connectedAccountId": account["connectedAccountId"], "redirectUrl": None}
    # no authScheme: the app's first scheme; an API-key app has no managed app to use
    serpapi = await integration(api, "serpapi", useComposioAuth=True)
    assert (serpapi["authScheme"], serpapi["useComposioAuth"]) == ("API_KEY", False)
    github = await integration(api, "github", useComposioAuth=False,
                               authConfig={"client_id": "c", "client_secret": "s"})
    assert (github["authScheme"], github["useComposioAuth"]) == ("OAUTH2", False)


async def test_integration_list_filters_and_pages(api: Client) -> None:
    ids = [(await integration(api, app))["id"] for app in ("github", "gmail", "github")]
    everything = await ok(await api.get(f"{V1}/integrations", headers=KEY))
    assert [i["id"] for i in everything["items"]] == ids  # oldest first
    github = await ok(await api.get(f"{V1}/integrations?appId={app_id_of('github')}",
                                    headers=KEY))
    assert [i["id"] for i in github["items"]] == [ids[0], ids[2]]
    second = await ok(await api.get(f"{V1}/integrations?page=2&pageSize=2", headers=KEY))
    assert second["page"] == 2 and second["totalPages"] == 2
    assert [i["id"] for i in second["items"]] == [ids[2]]
    err = await error(await api.get(f"{V1}/integrations?pageSize=0", headers=KEY), 400)
    assert "pageSize" in err["message"]
    err = await error(await api.get(f"{V1}/integrations?appName=nope", headers=KEY), 404)
    assert err["slug"] == "App_NotFound"


async def test_disabled_integration_refuses_new_connections(api: Client) -> None:
    it = await integration(api, "serpapi", useComposioAuth=False, authScheme="API_KEY")
    before = await initiate(api, it["id"], data={"generic_api_key": "k1"})
    assert await ok(await api.patch(f"{V1}/integrations/{it['id']}", json={"enabled": False},
                                    headers=KEY)) == {"status": "success"}
    v3 = await ok(await api.get(f"{V31}/auth_configs/{it['id']}", headers=KEY))
    assert v3["status"] == "DISABLED"
    err = await error(await api.post(f"{V1}/connectedAccounts", headers=KEY, json={
        "integrationId": it["id"], "data": {"generic_api_key": "k2"}}), 400)
    assert err["slug"] == "Auth_Config_Disabled" and it["id"] in err["message"]
    # hidden from the default list, existing connections keep working
    assert (await ok(await api.get(f"{V1}/integrations", headers=KEY)))["items"] == []
    shown = await ok(await api.get(f"{V1}/integrations?showDisabled=true", headers=KEY))
    assert [(i["id"], i["enabled"]) for i in shown["items"]] == [(it["id"], False)]
    old = await ok(await api.get(f"{V1}/connectedAccounts/{before['connectedAccountId']}",
                                 headers=KEY))
    assert old["status"] == "ACTIVE"
    accounts = await ok(await api.get(f"{V1}/connectedAccounts", headers=KEY))
    assert [a["id"] for a in accounts["items"]] == [before["connectedAccountId"]]
    await ok(await api.patch(f"{V1}/integrations/{it['id']}", json={"enabled": True},
                             headers=KEY))
    assert (await initiate(api, it["id"], data={"generic_api_key": "k2"}))[
        "connectionStatus"] == "ACTIVE"


async def test_integration_patch_merges_credentials_and_refuses_bad_input(api: Client) -> None:
    it = await integration(api, "gmail", useComposioAuth=False, authScheme="OAUTH2",
                           authConfig={"client_id": "a", "client_secret": "b"})
    await ok(await api.patch(f"{V1}/integrations/{it['id']}", headers=KEY,
                             json={"authConfig": {"scopes": "openid"}}))
    v3 = await ok(await api.get(f"{V31}/auth_configs/{it['id']}", headers=KEY))
    assert v3["scopes"] == ["openid"] and v3["credentials"]["client_id"] == "a"
    # a refused patch changes nothing (the credentials are checked before the status)
    err = await error(await api.patch(f"{V1}/integrations/{it['id']}", headers=KEY, json={
        "authConfig": {"client_secret": ""}, "enabled": False}), 400)
    assert err["slug"] == "Auth_Config_MissingRequiredFields"
    after = await ok(await api.get(f"{V1}/integrations/{it['id']}", headers=KEY))
    assert after["enabled"] is True
    err = await error(await api.patch(f"{V1}/integrations/{it['id']}", headers=KEY,
                                      json={"enabled": "no"}), 400)
    assert err["slug"] == "Validation_Error" and "enabled" in err["errors"][0]


async def test_integration_create_errors_are_envelopes_and_store_nothing(api: Client) -> None:
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"appName": "github"}, 400, "Validation_Error"),                       # name missing
        ({"name": "x"}, 400, "Integration_ValidationError"),                    # no app
        ({"name": "x", "appName": "githubb"}, 404, "App_NotFound"),
        ({"name": "x", "appName": "gmail", "authScheme": "OAUTH2"}, 400,
         "Auth_Config_MissingRequiredFields"),                                  # custom: no id
        ({"name": "x", "appName": "twitter", "useComposioAuth": True}, 400,
         "Auth_Config_NoManagedAuth"),
        ({"name": "x", "appName": "github", "authScheme": "API_KEY"}, 400,
         "Auth_Config_InvalidAuthScheme"),
        ({"name": "x", "appName": "hackernews"}, 400, "Auth_Config_NoAuthApp"),
        ({"name": "x", "appName": "github", "authConfig": {"scopes": 5}}, 400,
         "Validation_Error"),
    ]
    for body, status, slug in cases:
        err = await error(await api.post(f"{V1}/integrations", json=body, headers=KEY), status)
        assert err["slug"] == slug, (body, err)
    resp = await api.post(f"{V1}/integrations", data=b"{not json", headers=KEY)
    assert (await error(resp, 400))["slug"] == "Request_InvalidJson"
    assert (await ok(await api.get(f"{V1}/integrations?showDisabled=true",
                                   headers=KEY)))["items"] == []


async def test_integration_delete_is_soft_in_both_apis(api: Client) -> None:
    it = await integration(api)
    assert await ok(await api.delete(f"{V1}/integrations/{it['id']}", headers=KEY)) == \
        {"status": "success", "count": 1}
    for path in (f"{V1}/integrations/{it['id']}", f"{V31}/auth_configs/{it['id']}"):
        assert (await error(await api.get(path, headers=KEY), 404))["slug"] == \
            "Auth_Config_NotFound"
    err = await error(await api.delete(f"{V1}/integrations/{it['id']}", headers=KEY), 404)
    assert it["id"] in err["message"]


# -- connections = connected accounts ---------------------------------------------------------

async def test_oauth_connection_completes_with_the_v1_callback(api: Client) -> None:
    it = await integration(api, "github")
    request = await initiate(api, it["id"], user="user-7", redirectUri=CALLBACK,
                             labels=["beta"])
    assert request["connectionStatus"] == "INITIATED"
    assert request["redirectUrl"].startswith(base_url(api) + "/api/v3/s/lk_")
    pending = await ok(await api.get(f"{V1}/connectedAccounts/{request['connectedAccountId']}",
                                     headers=KEY))
    assert pending["status"] == "INITIATED" and pending["entityId"] == "user-7"

    result = await ConsentDriver(base_url(api)).acomplete(request["redirectUrl"])
    assert result.left_fake and result.final_url.startswith("https://app.example/done?")
    assert parse_qs(urlsplit(result.final_url).query) == {
        "from": ["test"], "status": ["success"],
        "connectedAccountId": [request["connectedAccountId"]], "appName": ["github"]}

    account = await ok(await api.get(f"{V1}/connectedAccounts/{request['connectedAccountId']}",
                                     headers=KEY))
    assert account["status"] == "ACTIVE" and account["integrationId"] == it["id"]
    assert account["appUniqueId"] == "github" and account["clientUniqueUserId"] == "user-7"
    # As in v3: a managed integration's tokens are always REDACTED (changelog 2026-04-22).
    assert account["connectionParams"]["access_token"] == "REDACTED"
    assert account["connectionParams"]["base_url"] == "https://api.github.com"
    assert account["labels"] == ["beta"] and account["isDisabled"] is False
    v3 = await ok(await api.get(f"{V31}/connected_accounts/{account['id']}", headers=KEY))
    assert v3["status"] == "ACTIVE" and v3["user_id"] == "user-7"
    assert v3["auth_config"]["id"] == it["id"]


async def test_denied_oauth_connection_fails_with_the_v1_callback(api: Client) -> None:
    it = await integration(api, "github")
    request = await initiate(api, it["id"], redirectUri=CALLBACK)
    result = await ConsentDriver(base_url(api)).acomplete(request["redirectUrl"],
                                                          decision="deny")
    assert result.status == "failed" and result.error
    assert result.query["connectedAccountId"] == request["connectedAccountId"]
    account = await ok(await api.get(f"{V1}/connectedAccounts/{request['connectedAccountId']}",
                                     headers=KEY))
    assert account["status"] == "FAILED" and "access_denied" in account["statusReason"]


async def test_link_started_in_v3_is_a_connection_in_v1(api: Client) -> None:
    it = await integration(api, "github")
    resp = await api.post(f"{V31}/connected_accounts/link", headers=KEY,
                          json={"auth_config_id": it["id"], "user_id": "u9"})
    linked = await ok(resp, 201)
    got = await ok(await api.get(f"{V1}/connectedAccounts/{linked['connected_account_id']}",
                                 headers=KEY))
    assert (got["status"], got["clientUniqueUserId"], got["integrationId"]) == \
        ("INITIATED", "u9", it["id"])


async def test_api_key_connection_needs_its_fields(api: Client) -> None:
    it = await integration(api, "serpapi", useComposioAuth=False, authScheme="API_KEY")
    err = await error(await api.post(f"{V1}/connectedAccounts", headers=KEY,
                                     json={"integrationId": it["id"], "data": {}}), 400)
    assert err["slug"] == "ConnectedAccount_MissingRequiredFields"
    assert "generic_api_key" in err["message"]
    assert (await ok(await api.get(f"{V1}/connectedAccounts", headers=KEY)))["items"] == []
    done = await initiate(api, it["id"], user="default", data={"generic_api_key": "serp-key-1"})
    assert done["connectionStatus"] == "ACTIVE" and done["redirectUrl"] is None
    account = await ok(await api.get(f"{V1}/connectedAccounts/{done['connectedAccountId']}",
                                     headers=KEY))
    assert account["connectionParams"]["generic_api_key"] == "serp..."
    assert account["entityId"] == "default"


async def test_connection_list_filters_like_the_0_7_sdk_asks(api: Client) -> None:
    gh = await integration(api, "github")
    serp = await integration(api, "serpapi", useComposioAuth=False, authScheme="API_KEY")
    pending = await initiate(api, gh["id"], user="alice")
    active = await initiate(api, serp["id"], user="alice", data={"generic_api_key": "k"})
    other = await initiate(api, serp["id"], user="bob", data={"generic_api_key": "k"})

    async def ids(query: str) -> list[str]:
        body = await ok(await api.get(f"{V1}/connectedAccounts?{query}", headers=KEY))
        return [a["id"] for a in body["items"]]

    assert await ids("user_uuid=alice&showActiveOnly=true&pageSize=99999999") == \
        [active["connectedAccountId"]]
    assert await ids("user_uuid=alice,bob") == [other["connectedAccountId"],
                                                active["connectedAccountId"],
                                                pending["connectedAccountId"]]
    assert await ids("appNames=github") == [pending["connectedAccountId"]]
    assert await ids(f"integrationId={serp['id']}&user_uuid=bob") == \
        [other["connectedAccountId"]]
    assert await ids("status=INITIATED") == [pending["connectedAccountId"]]
    page = await ok(await api.get(f"{V1}/connectedAccounts?pageSize=2&page=2", headers=KEY))
    assert (page["page"], page["totalPages"], len(page["items"])) == (2, 2, 1)
    err = await error(await api.get(f"{V1}/connectedAccounts?status=DONE", headers=KEY), 400)
    assert "DONE" in err["message"]
    err = await error(await api.get(f"{V1}/connectedAccounts?showActiveOnly=maybe",
                                    headers=KEY), 400)
    assert "showActiveOnly" in err["message"]


async def test_enable_disable_and_delete_a_connection(api: Client) -> None:
    it = await integration(api, "serpapi", useComposioAuth=False, authScheme="API_KEY")
    ca = (await initiate(api, it["id"], data={"generic_api_key": "k"}))["connectedAccountId"]
    assert await ok(await api.post(f"{V1}/connectedAccounts/{ca}/disable", headers=KEY), 201) \
        == {"status": "success"}
    got = await ok(await api.get(f"{V1}/connectedAccounts/{ca}", headers=KEY))
    assert (got["status"], got["isDisabled"], got["enabled"]) == ("INACTIVE", True, False)
    v3 = await ok(await api.get(f"{V31}/connected_accounts/{ca}", headers=KEY))
    assert v3["status"] == "INACTIVE" and v3["is_disabled"] is True
    assert (await ok(await api.get(f"{V1}/connectedAccounts", headers=KEY)))["items"] == []
    shown = await ok(await api.get(f"{V1}/connectedAccounts?showDisabled=true", headers=KEY))
    assert [a["id"] for a in shown["items"]] == [ca]
    await ok(await api.post(f"{V1}/connectedAccounts/{ca}/enable", headers=KEY), 201)
    assert (await ok(await api.get(f"{V1}/connectedAccounts/{ca}", headers=KEY)))["status"] \
        == "ACTIVE"

    gh = await integration(api, "github")
    pending = (await initiate(api, gh["id"]))["connectedAccountId"]
    err = await error(await api.post(f"{V1}/connectedAccounts/{pending}/enable", headers=KEY),
                      400)
    assert err["slug"] == "ConnectedAccount_InvalidState"

    assert await ok(await api.delete(f"{V1}/connectedAccounts/{ca}", headers=KEY)) == \
        {"status": "success", "count": 1}
    for path in (f"{V1}/connectedAccounts/{ca}", f"{V31}/connected_accounts/{ca}"):
        assert (await error(await api.get(path, headers=KEY), 404))["slug"] == \
            "ConnectedAccount_ResourceNotFound"


async def test_initiate_errors_are_envelopes(api: Client) -> None:
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"data": {}}, 400, "Validation_Error"),                        # integrationId missing
        ({"integrationId": "ac_nope", "data": {}}, 404, "Auth_Config_NotFound"),
        ({"integrationId": "ac_nope", "data": "x"}, 400, "Validation_Error"),
        ({"integrationId": "ac_nope", "data": {}, "userUuid": 5}, 400, "Validation_Error"),
    ]
    for body, status, slug in cases:
        err = await error(await api.post(f"{V1}/connectedAccounts", json=body, headers=KEY),
                          status)
        assert err["slug"] == slug, (body, err)
    it = await integration(api)
    err = await error(await api.post(f"{V1}/connectedAccounts", headers=OTHER,
                                     json={"integrationId": it["id"], "data": {}}), 404)
    assert err["slug"] == "Auth_Config_NotFound"  # another project's integration


# -- contracts ---------------------------------------------------------------------------------

@pytest.fixture
async def strict_api(aiohttp_client: Callable[..., Awaitable[Client]]) -> AsyncIterator[Client]:
    app = create_app(Engine(seed=5), strict=True)
    client = await aiohttp_client(app)
    yield client
    assert app[contracts.VIOLATIONS_KEY] == [], "v1 responses broke their contracts"


async def test_every_v1_operation_answers_within_its_contract(strict_api: Client) -> None:
    api = strict_api
    seen: set[str] = set()
    operations = {(r.method, r.path): r.operation for r in V1_ROUTES}

    async def call(method: str, path: str, status: int, template: str, **kw: Any) -> Any:
        resp = await api.request(method, path, headers=KEY, **kw)
        seen.add(operations[(method, template)])
        assert resp.status == status, await resp.text()
        return await resp.json()

    await call("GET", f"{V1}/client/auth/client_info", 200, f"{V1}/client/auth/client_info")
    await call("GET", f"{V1}/apps", 200, f"{V1}/apps")
    assert await call("GET", "/api/v2/actions?allow_all=true", 200, "/api/v2/actions") == \
        {"items": [], "page": 1, "totalPages": 1}
    assert await call("GET", f"{V1}/triggers", 200, f"{V1}/triggers") == []
    for app in ("github", "hackernews", "neon"):
        await call("GET", f"{V1}/apps/{app}", 200, f"{V1}/apps/{{name}}")
    await call("GET", f"{V1}/apps/nope", 404, f"{V1}/apps/{{name}}")
    it = await call("POST", f"{V1}/integrations", 200, f"{V1}/integrations", json={
        "appName": "gmail", "name": "g", "authScheme": "OAUTH2",
        "authConfig": {"client_id": "a", "client_secret": "b"}})
    await call("POST", f"{V1}/integrations", 400, f"{V1}/integrations", json={"name": "g"})
    key = await call("POST", f"{V1}/integrations", 200, f"{V1}/integrations", json={
        "appName": "serpapi", "name": "s", "authScheme": "API_KEY"})
    await call("GET", f"{V1}/integrations", 200, f"{V1}/integrations")
    await call("GET", f"{V1}/integrations/{it['id']}", 200, f"{V1}/integrations/{{id}}")
    await call("PATCH", f"{V1}/integrations/{key['id']}", 200, f"{V1}/integrations/{{id}}",
               json={"enabled": True})
    oauth = await call("POST", f"{V1}/connectedAccounts", 200, f"{V1}/connectedAccounts",
                       json={"integrationId": it["id"], "data": {}, "redirectUri": None,
                             "userUuid": None, "labels": []})
    active = await call("POST", f"{V1}/connectedAccounts", 200, f"{V1}/connectedAccounts",
                        json={"integrationId": key["id"], "data": {"generic_api_key": "k"}})
    assert active["redirectUrl"] is None
    await call("GET", f"{V1}/connectedAccounts", 200, f"{V1}/connectedAccounts")
    for ca in (oauth["connectedAccountId"], active["connectedAccountId"]):
        await call("GET", f"{V1}/connectedAccounts/{ca}", 200, f"{V1}/connectedAccounts/{{id}}")
    ca = active["connectedAccountId"]
    await call("POST", f"{V1}/connectedAccounts/{ca}/disable", 201,
               f"{V1}/connectedAccounts/{{id}}/disable")
    await call("POST", f"{V1}/connectedAccounts/{ca}/enable", 201,
               f"{V1}/connectedAccounts/{{id}}/enable")
    await call("DELETE", f"{V1}/connectedAccounts/{ca}", 200, f"{V1}/connectedAccounts/{{id}}")
    await call("DELETE", f"{V1}/integrations/{key['id']}", 200, f"{V1}/integrations/{{id}}")
    await call("GET", f"{V1}/connectedAccounts/{ca}", 404, f"{V1}/connectedAccounts/{{id}}")
    assert seen == set(operations.values())


async def test_unserved_v1_path_says_what_is_served(api: Client) -> None:
    r = await api.get("/api/v1/actions", headers=KEY)
    assert r.status == 404
    message = (await r.json())["error"]["message"]
    assert "integrations, connectedAccounts" in message and "/api/v3.1" in message
