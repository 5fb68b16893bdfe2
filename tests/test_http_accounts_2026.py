"""Connected accounts as Composio serves them in late 2026, over raw HTTP (strict contracts):
credential patching and aliases, connection fields (Zendesk subdomain, Shopify shop), callback
identity verification with complete_auth, the April 2026 redaction rules,
expected_input_fields, and the bad input around each (4xx envelope, state unchanged)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp.test_utils import TestClient

from mockcomposio.engine import Engine

from .conftest import KEY, OTHER
from .test_http_flows import V31, decide, form_fields, link, make_config, path_of, to_consent

Client = TestClient[Any, Any]
VERIFIER = "https://app.example/verify"


async def get_account(api: Client, account_id: str, headers: dict[str, str] = KEY,
                      ) -> dict[str, Any]:
    resp = await api.get(f"{V31}/connected_accounts/{account_id}", headers=headers)
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def bearer_account(api: Client, token: str = "tok-original-123",
                         user: str = "u1") -> str:
    """Importing an existing connection: a custom BEARER_TOKEN config, ACTIVE at once."""
    ac = await make_config(api, "hubspot", type="use_custom_auth", authScheme="BEARER_TOKEN",
                           credentials={})
    resp = await api.post(f"{V31}/connected_accounts", headers=KEY, json={
        "auth_config": {"id": ac},
        "connection": {"user_id": user, "state": {"authScheme": "BEARER_TOKEN",
                                                  "val": {"status": "ACTIVE", "token": token}}}})
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["status"] == "ACTIVE"
    return str(body["id"])


async def patch(api: Client, account_id: str, body: dict[str, Any],
                headers: dict[str, str] = KEY) -> tuple[int, dict[str, Any]]:
    resp = await api.patch(f"{V31}/connected_accounts/{account_id}", json=body, headers=headers)
    return resp.status, dict(await resp.json())


def state(scheme: str, **val: Any) -> dict[str, Any]:
    return {"connection": {"state": {"authScheme": scheme, "val": val}}}


# -- credential patching ---------------------------------------------------------------------

async def test_patch_replaces_the_token_and_keeps_status(api: Client, engine: Engine) -> None:
    ca = await bearer_account(api)
    status, body = await patch(api, ca, state("BEARER_TOKEN", token="rotated-access-token"))
    assert status == 200 and body == {"id": ca, "status": "ACTIVE", "success": True}
    stored = engine.project("key-a").accounts[ca]
    assert stored.val["token"] == "rotated-access-token"  # really stored, not just "success"
    shown = await get_account(api, ca)
    assert shown["state"]["val"]["token"] == "rota..."  # masked in responses
    assert shown["status"] == "ACTIVE"
    assert any(e.event == "credentials updated" and "token" in e.detail
               for e in stored.timeline)
    assert "rotated-access-token" not in " ".join(e.detail for e in stored.timeline)


async def test_omitted_fields_are_kept_and_null_removes(api: Client, engine: Engine) -> None:
    ac = await make_config(api, "zendesk", type="use_custom_auth", authScheme="BASIC",
                           credentials={})
    resp = await api.post(f"{V31}/connected_accounts", headers=KEY, json={
        "auth_config": {"id": ac}, "connection": {"user_id": "u1", "state": {
            "authScheme": "BASIC", "val": {"status": "ACTIVE", "subdomain": "acme",
                                           "username": "jo@acme.test/token",
                                           "password": "old-secret", "user_agent": "bot/1"}}}})
    assert resp.status == 201, await resp.text()
    ca = (await resp.json())["id"]
    status, _ = await patch(api, ca, state("BASIC", password="new-secret", user_agent=None))
    assert status == 200
    val = engine.project("key-a").accounts[ca].val
    assert val["password"] == "new-secret"
    assert val["username"] == "jo@acme.test/token" and val["subdomain"] == "acme"  # kept
    assert "user_agent" not in val  # null removed it


async def test_alias_set_and_cleared_with_an_empty_string(api: Client) -> None:
    ca = await bearer_account(api)
    assert (await patch(api, ca, {"alias": "work-hubspot"}))[0] == 200
    assert (await get_account(api, ca))["alias"] == "work-hubspot"
    assert (await patch(api, ca, {"alias": ""}))[0] == 200
    assert (await get_account(api, ca))["alias"] is None


async def test_alias_conflict_is_409_and_changes_nothing(api: Client) -> None:
    first = await bearer_account(api)
    second = await bearer_account(api, token="tok-second-456")
    assert (await patch(api, first, {"alias": "main"}))[0] == 200
    status, body = await patch(api, second, {"alias": "main", **state("BEARER_TOKEN",
                                                                      token="never-stored")})
    assert status == 409 and body["error"]["slug"] == "ConnectedAccount_AliasConflict"
    shown = await get_account(api, second)
    assert shown["alias"] is None and shown["state"]["val"]["token"] == "tok-..."


async def test_bad_patches_are_400_and_leave_the_account_unchanged(api: Client,
                                                                   engine: Engine) -> None:
    ca = await bearer_account(api)
    before = dict(engine.project("key-a").accounts[ca].val)
    cases = [
        (state("MAGIC_LINK", token="x"), "Unknown auth scheme"),
        (state("API_KEY", generic_api_key="x"), "this connection uses BEARER_TOKEN"),
        (state("BEARER_TOKEN", shop="x"), "Unknown credential field"),
        (state("BEARER_TOKEN", token=None), "required field(s) empty: token"),
        (state("BEARER_TOKEN", token=42), None),  # wrong type: the request contract
        ({"connection": {"state": {"authScheme": "BEARER_TOKEN"}}}, None),  # no val
        ({"connection": {}}, None),  # no state
        ({"alias": 7}, None),
    ]
    for body, fragment in cases:
        status, answer = await patch(api, ca, body)
        assert status == 400, (body, answer)
        assert set(answer["error"]) >= {"message", "code", "slug", "status"}
        if fragment:
            assert fragment in answer["error"]["message"], answer
    assert engine.project("key-a").accounts[ca].val == before


async def test_oauth_connections_cannot_be_patched(api: Client) -> None:
    ac = await make_config(api)
    got = await link(api, ac)
    status, body = await patch(api, got["connected_account_id"],
                               state("OAUTH2", access_token="x"))
    assert status == 400 and "can't be patched" in body["error"]["message"]


async def test_patching_a_deleted_or_foreign_account_is_404(api: Client) -> None:
    ca = await bearer_account(api)
    assert (await patch(api, ca, state("BEARER_TOKEN", token="t2"), headers=OTHER))[0] == 404
    assert (await api.delete(f"{V31}/connected_accounts/{ca}", headers=KEY)).status == 200
    status, body = await patch(api, ca, state("BEARER_TOKEN", token="t3"))
    assert status == 404 and body["error"]["status"] == 404


async def test_journal_records_the_patch_with_secrets_redacted(api: Client,
                                                               engine: Engine) -> None:
    ca = await bearer_account(api)
    await patch(api, ca, state("BEARER_TOKEN", token="super-secret-rotated"))
    entries = [e for e in engine.project("key-a").journal.entries()
               if e.method == "PATCH" and ca in e.path]
    assert entries, "the patch is journaled"
    assert "super-secret-rotated" not in repr(entries[-1])


# -- connection fields -------------------------------------------------------------------------

async def test_zendesk_link_asks_for_the_subdomain_and_uses_it(api: Client,
                                                               engine: Engine) -> None:
    ac = await make_config(api, "zendesk")  # managed OAuth
    got = await link(api, ac)
    page = await api.get(path_of(got["redirect_url"]))
    html = await page.text()
    assert page.status == 200 and 'name="subdomain"' in html and 'value="continue"' in html
    # Continuing without the field shows the step again with the problem.
    resp = await api.post(path_of(got["redirect_url"]), data={"action": "continue"},
                          allow_redirects=False)
    assert resp.status == 400 and "Sub Domain" in await resp.text()
    bad = await api.post(path_of(got["redirect_url"]), allow_redirects=False,
                         data={"action": "continue", "subdomain": "acme.zendesk.com"})
    assert bad.status == 400 and "name only" in await bad.text()
    resp = await api.post(path_of(got["redirect_url"]), allow_redirects=False,
                          data={"action": "continue", "subdomain": "acme"})
    assert resp.status == 302
    authorize = path_of(resp.headers["Location"])
    assert parse_qs(urlsplit(authorize).query)["instance"] == ["acme.zendesk.com"]
    consent = await api.get(authorize)
    assert 'id="provider-instance">acme.zendesk.com<' in await consent.text()
    callback = await decide(api, authorize, await (await api.get(authorize)).text())
    await api.get(path_of(callback), allow_redirects=False)
    account = await get_account(api, got["connected_account_id"])
    assert account["status"] == "ACTIVE"
    assert account["state"]["val"]["subdomain"] == "acme"
    assert engine.project("key-a").accounts[got["connected_account_id"]] \
        .connection_fields == {"subdomain": "acme"}


async def test_link_connection_data_prefills_and_skips_the_field_step(api: Client) -> None:
    ac = await make_config(api, "zendesk")
    resp = await api.post(f"{V31}/connected_accounts/link", headers=KEY, json={
        "auth_config_id": ac, "user_id": "u1", "connection_data": {"subdomain": "globex"}})
    assert resp.status == 201, await resp.text()
    got = await resp.json()
    authorize, _ = await to_consent(api, got["redirect_url"])
    assert parse_qs(urlsplit(authorize).query)["instance"] == ["globex.zendesk.com"]


async def test_bad_connection_data_on_link_is_400_naming_the_field(api: Client,
                                                                   engine: Engine) -> None:
    ac = await make_config(api, "zendesk")
    before = len(engine.project("key-a").accounts)
    for value in ("", "https://acme.zendesk.com", "acme corp"):
        resp = await api.post(f"{V31}/connected_accounts/link", headers=KEY, json={
            "auth_config_id": ac, "user_id": "u1", "connection_data": {"subdomain": value}})
        body = await resp.json()
        assert resp.status == 400 and "subdomain" in body["error"]["message"], body
    assert len(engine.project("key-a").accounts) == before


async def test_initiate_requires_the_shop_for_shopify(api: Client, engine: Engine) -> None:
    ac = await make_config(api, "shopify", type="use_custom_auth", authScheme="OAUTH2",
                           credentials={"client_id": "shp-client", "client_secret": "shp-sec"})
    body = {"auth_config": {"id": ac},
            "connection": {"user_id": "u1", "state": {"authScheme": "OAUTH2",
                                                      "val": {"status": "INITIALIZING"}}}}
    resp = await api.post(f"{V31}/connected_accounts", headers=KEY, json=body)
    err = await resp.json()
    assert resp.status == 400 and "(shop)" in err["error"]["message"]
    assert err["error"]["slug"] == "ConnectedAccount_MissingRequiredFields"
    assert not engine.project("key-a").accounts
    body["connection"]["state"]["val"]["shop"] = "my-store"
    resp = await api.post(f"{V31}/connected_accounts", headers=KEY, json=body)
    assert resp.status == 201, await resp.text()
    redirect = (await resp.json())["connectionData"]["val"]["redirectUrl"]
    hop = await api.get(path_of(redirect), allow_redirects=False)
    assert parse_qs(urlsplit(hop.headers["Location"]).query)["instance"] == [
        "my-store.myshopify.com"]


async def test_expected_input_fields_come_from_the_toolkit(api: Client) -> None:
    ac = await make_config(api, "zendesk")
    got = await (await api.get(f"{V31}/auth_configs/{ac}", headers=KEY)).json()
    assert [f["name"] for f in got["expected_input_fields"]] == ["subdomain"]
    assert got["expected_input_fields"][0]["required"] is True
    assert got["deprecated_params"]["expected_input_fields"] == got["expected_input_fields"]
    plain = await make_config(api, "github")
    got = await (await api.get(f"{V31}/auth_configs/{plain}", headers=KEY)).json()
    assert got["expected_input_fields"] == []


# -- callback identity verification ------------------------------------------------------------

async def custom_github(api: Client) -> str:
    return await make_config(api, "github", type="use_custom_auth", authScheme="OAUTH2",
                             credentials={"client_id": "gh-app", "client_secret": "gh-secret"})


async def enable_verifier(api: Client, url: str | None = VERIFIER,
                          headers: dict[str, str] = KEY) -> dict[str, Any]:
    resp = await api.patch(f"{V31}/org/project/config", headers=headers,
                           json={"oauth_callback_verifier_url": url})
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def deferred(api: Client, user: str = "u1") -> tuple[str, str]:
    """A custom-OAuth link taken through consent: returns (account id, session_uri)."""
    got = await link(api, await custom_github(api), user=user,
                     callback="https://app.example/cb")
    authorize, html = await to_consent(api, got["redirect_url"])
    callback = await decide(api, authorize, html)
    resp = await api.get(path_of(callback), allow_redirects=False)
    assert resp.status == 302
    location = resp.headers["Location"]
    assert location.startswith(VERIFIER + "?session_uri=session_")
    assert set(parse_qs(urlsplit(location).query)) == {"session_uri"}
    return got["connected_account_id"], parse_qs(urlsplit(location).query)["session_uri"][0]


async def complete(api: Client, session_uri: str, user: str,
                   headers: dict[str, str] = KEY) -> tuple[int, dict[str, Any]]:
    resp = await api.post(f"{V31}/connected_accounts/complete_auth", headers=headers,
                          json={"session_uri": session_uri, "user_id": user})
    return resp.status, dict(await resp.json())


async def test_project_config_round_trip(api: Client) -> None:
    got = await (await api.get(f"{V31}/org/project/config", headers=KEY)).json()
    assert got["oauth_callback_verifier_url"] is None
    assert got["mask_secret_keys_in_connected_account"] is True
    assert (await enable_verifier(api))["oauth_callback_verifier_url"] == VERIFIER
    other = await (await api.get("/api/v3/org/project/config", headers=OTHER)).json()
    assert other["oauth_callback_verifier_url"] is None  # per project
    for bad in ("http://evil.example/verify", "ftp://x", "", 5):
        resp = await api.patch(f"{V31}/org/project/config", headers=KEY,
                               json={"oauth_callback_verifier_url": bad})
        assert resp.status == 400
    assert (await enable_verifier(api, None))["oauth_callback_verifier_url"] is None


async def test_deferred_callback_and_complete_auth(api: Client) -> None:
    await enable_verifier(api)
    ca, session_uri = await deferred(api, user="alice")
    assert (await get_account(api, ca))["status"] == "INITIATED"  # waits for the app
    status, body = await complete(api, session_uri, "alice")
    assert status == 200 and body == {"connected_account_id": ca, "toolkit_slug": "github"}
    assert (await get_account(api, ca))["status"] == "ACTIVE"
    # Single use.
    status, body = await complete(api, session_uri, "alice")
    assert status == 404 and "not found or expired" in body["error"]["message"]


async def test_user_id_mismatch_fails_the_connection(api: Client) -> None:
    await enable_verifier(api)
    ca, session_uri = await deferred(api, user="alice")
    status, body = await complete(api, session_uri, "mallory")
    assert status == 400 and "Identity mismatch" in body["error"]["message"]
    assert (await get_account(api, ca))["status"] == "FAILED"
    assert (await complete(api, session_uri, "alice"))[0] == 404  # the session is spent


async def test_forged_expired_and_foreign_sessions_are_404(api: Client, engine: Engine) -> None:
    await enable_verifier(api)
    assert (await complete(api, "session_forged", "alice"))[0] == 404
    ca, session_uri = await deferred(api, user="alice")
    await enable_verifier(api, headers=OTHER)
    assert (await complete(api, session_uri, "alice", headers=OTHER))[0] == 404
    assert (await get_account(api, ca))["status"] == "INITIATED"  # untouched by the probe
    engine.project("key-a").advance_clock(601)
    status, _ = await complete(api, session_uri, "alice")
    assert status == 404
    assert (await get_account(api, ca))["status"] == "EXPIRED"


async def test_managed_configs_and_initiate_default_user(api: Client) -> None:
    await enable_verifier(api)
    # Composio-managed apps are not deferred (custom OAuth apps only).
    got = await link(api, await make_config(api), callback="https://app.example/cb")
    authorize, html = await to_consent(api, got["redirect_url"])
    resp = await api.get(path_of(await decide(api, authorize, html)), allow_redirects=False)
    assert resp.headers["Location"].startswith("https://app.example/cb?")
    # initiate() with the default user can't be verified.
    ac = await custom_github(api)
    resp = await api.post(f"{V31}/connected_accounts", headers=KEY, json={
        "auth_config": {"id": ac}, "connection": {}})
    assert resp.status == 400 and "real user_id" in (await resp.json())["error"]["message"]


async def test_complete_auth_bad_bodies(api: Client) -> None:
    for body in ({}, {"session_uri": "", "user_id": "u"}, {"session_uri": "s", "user_id": 3}):
        resp = await api.post(f"{V31}/connected_accounts/complete_auth", headers=KEY, json=body)
        assert resp.status == 400


# -- redaction (changelog 2026-04-22) -----------------------------------------------------------

async def oauth_active(api: Client, ac: str) -> str:
    got = await link(api, ac)
    authorize, html = await to_consent(api, got["redirect_url"])
    await api.get(path_of(await decide(api, authorize, html)), allow_redirects=False)
    return str(got["connected_account_id"])


async def test_managed_connections_always_redact_tokens(api: Client) -> None:
    ca = await oauth_active(api, await make_config(api, "gmail"))  # issues refresh tokens
    for flag in (True, False):
        await api.patch(f"{V31}/org/project/config", headers=KEY,
                        json={"mask_secret_keys_in_connected_account": flag})
        val = (await get_account(api, ca))["state"]["val"]
        assert val["access_token"] == "REDACTED" and val["refresh_token"] == "REDACTED"


async def test_custom_connections_follow_the_project_flag(api: Client, engine: Engine) -> None:
    ca = await oauth_active(api, await custom_github(api))
    real = engine.project("key-a").accounts[ca].val["access_token"]
    assert (await get_account(api, ca))["state"]["val"]["access_token"] == real[:4] + "..."
    await api.patch(f"{V31}/org/project/config", headers=KEY,
                    json={"mask_secret_keys_in_connected_account": False})
    assert (await get_account(api, ca))["state"]["val"]["access_token"] == real


async def test_auth_config_credentials_masked_or_redacted(api: Client) -> None:
    ac = await custom_github(api)
    await api.patch(f"{V31}/org/project/config", headers=KEY,
                    json={"mask_secret_keys_in_connected_account": False})  # no effect here
    creds = (await (await api.get(f"{V31}/auth_configs/{ac}", headers=KEY)).json())[
        "credentials"]
    assert creds["client_id"] == "gh-app"  # a public OAuth identifier
    assert creds["client_secret"] == "gh-s..."
    listed = await (await api.get(f"{V31}/auth_configs", headers=KEY)).json()
    assert all(item["credentials"].get("client_secret") in (None, "gh-s...")
               for item in listed["items"])
    html = await (await api.get(path_of((await link(api, ac))["redirect_url"]))).text()
    assert "gh-secret" not in html and form_fields(html) == {}


async def test_state_export_keeps_verification_and_fields(api: Client, engine: Engine) -> None:
    from mockcomposio import snapshot

    await enable_verifier(api)
    ca, session_uri = await deferred(api, user="alice")
    project = engine.project("key-a")
    with project.lock:
        data = snapshot.export_project(project)
    restored = snapshot.build_project(engine, data, "tenant")
    assert restored.callback_verifier_url == VERIFIER
    assert restored.auth_sessions[session_uri].connected_account_id == ca
    engine.install(restored)
    status, body = await complete(api, session_uri, "alice")
    assert status == 200 and body["connected_account_id"] == ca


async def test_connection_data_prefills_a_basic_form(api: Client) -> None:
    ac = await make_config(api, "zendesk", type="use_custom_auth", authScheme="BASIC",
                           credentials={})
    resp = await api.post(f"{V31}/connected_accounts/link", headers=KEY, json={
        "auth_config_id": ac, "user_id": "u1",
        "connection_data": {"subdomain": "acme", "password": "not-shown"}})
    got = await resp.json()
    html = await (await api.get(path_of(got["redirect_url"]))).text()
    fields = form_fields(html)
    assert fields["subdomain"] == ["acme"] and fields["password"] == [""]
    assert "not-shown" not in html


async def test_a_refused_enabled_flag_leaves_alias_and_credentials_alone(api: Client) -> None:
    ac = await make_config(api)
    got = await link(api, ac)  # INITIATED: can't be enabled or disabled
    ca = got["connected_account_id"]
    status, body = await patch(api, ca, {"enabled": False, "alias": "never"})
    assert status == 400 and body["error"]["slug"] == "ConnectedAccount_InvalidState"
    assert (await get_account(api, ca))["alias"] is None
    bearer = await bearer_account(api)
    status, _ = await patch(api, bearer, {"enabled": False, "alias": "off",
                                          **state("BEARER_TOKEN", token="t-new")})
    shown = await get_account(api, bearer)
    assert status == 200 and shown["status"] == "INACTIVE" and shown["alias"] == "off"


async def test_journal_hides_the_session_uri(api: Client, engine: Engine) -> None:
    await enable_verifier(api)
    _, session_uri = await deferred(api, user="alice")
    await complete(api, session_uri, "alice")
    entries = engine.project("key-a").journal.entries()
    assert any(e.operation == "connected_accounts.complete_auth" for e in entries)
    assert session_uri not in repr(entries)


async def test_pending_account_shows_its_connection_fields(api: Client) -> None:
    ac = await make_config(api, "zendesk")
    resp = await api.post(f"{V31}/connected_accounts/link", headers=KEY, json={
        "auth_config_id": ac, "user_id": "u1", "connection_data": {"subdomain": "acme"}})
    got = await resp.json()
    shown = await get_account(api, got["connected_account_id"])  # strict contracts
    assert shown["status"] == "INITIATED" and shown["state"]["val"]["subdomain"] == "acme"
    listed = await (await api.get(f"{V31}/connected_accounts", headers=KEY)).json()
    assert listed["items"][0]["state"]["val"]["subdomain"] == "acme"
