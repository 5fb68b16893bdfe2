"""The control plane under /_mock/ over HTTP: reset, seed, clock, consent, faults, state.
(The journal has its own file, tests/test_journal.py; the state file tests/test_state_file.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio.domain.models import REASON_REFRESH_PERMANENT
from mockcomposio.engine import Engine
from mockcomposio.http.app import create_app
from mockcomposio.http.policy import Policy
from mockcomposio.tenant import Tenant

from .conftest import KEY, OTHER

V31 = "/api/v3.1"
Client = TestClient[Any, Any]
ADMIN_KEY = "admin-secret"
# Cross-tenant operations need the server's admin key (serve --admin-key).
ADMIN = {**KEY, "x-mock-admin-key": ADMIN_KEY}


@pytest.fixture
async def admin_api(aiohttp_client: Any, engine: Engine) -> Client:
    """The same engine behind an app with an admin key."""
    return await aiohttp_client(create_app(engine, strict=True,
                                           policy=Policy(admin_key=ADMIN_KEY)))


async def make_config(api: Client, toolkit: str = "github",
                      headers: dict[str, str] = KEY) -> str:
    resp = await api.post(f"{V31}/auth_configs", json={"toolkit": {"slug": toolkit}},
                          headers=headers)
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["auth_config"]["id"])


async def link(api: Client, ac: str, user: str = "u1",
               callback_url: str = "https://app.example/cb") -> str:
    resp = await api.post(f"{V31}/connected_accounts/link",
                          json={"auth_config_id": ac, "user_id": user,
                                "callback_url": callback_url}, headers=KEY)
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["connected_account_id"])


async def account(api: Client, account_id: str) -> dict[str, Any]:
    resp = await api.get(f"{V31}/connected_accounts/{account_id}", headers=KEY)
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def control(api: Client, method: str, path: str, body: Any = None,
                  headers: dict[str, str] = KEY, status: int = 200) -> Any:
    resp = await api.request(method, f"/_mock/{path}", json=body, headers=headers)
    assert resp.status == status, await resp.text()
    return await resp.json()


# -- reset / seed ------------------------------------------------------------------------------

async def test_reset_forgets_only_the_calling_tenant_unless_all(api: Client,
                                                                admin_api: Client) -> None:
    await make_config(api)
    await make_config(api, headers=OTHER)
    out = await control(api, "POST", "reset")
    assert out["reset"] == "tenant"
    assert (await (await api.get(f"{V31}/auth_configs", headers=KEY)).json())["items"] == []
    assert len((await (await api.get(f"{V31}/auth_configs", headers=OTHER)).json())["items"]) == 1
    await control(api, "POST", "reset", {"all": True}, status=403)  # no admin key: refused
    assert len((await (await api.get(f"{V31}/auth_configs", headers=OTHER)).json())["items"]) == 1
    out = await control(admin_api, "POST", "reset", {"all": True}, headers=ADMIN)
    assert out["tenants_dropped"] == 2
    assert (await (await api.get(f"{V31}/auth_configs", headers=OTHER)).json())["items"] == []


async def test_reset_with_a_seed_gives_reproducible_ids(api: Client) -> None:
    ids = []
    for _ in range(2):
        assert (await control(api, "POST", "reset", {"seed": 42}))["seed"] == 42
        ac = await make_config(api)
        ids.append((ac, await link(api, ac)))
    assert ids[0] == ids[1]
    await control(api, "POST", "reset", {"seed": 43})
    assert await make_config(api) != ids[0][0]


async def test_control_plane_needs_an_api_key_and_validates_bodies(api: Client) -> None:
    resp = await api.post("/_mock/reset")
    assert resp.status == 401
    bad = await control(api, "POST", "reset", {"seed": "x"}, status=400)
    assert bad["error"]["slug"] == "Validation_Error"
    await control(api, "POST", "clock", {"advance": -5}, status=400)


async def test_seed_endpoint_declares_configs_and_accounts(api: Client) -> None:
    out = await control(api, "POST", "seed", {
        "seed": 5,
        "auth_configs": [{"ref": "gh", "toolkit": "github", "scopes": ["repo"]},
                         {"ref": "key", "toolkit": "serpapi", "status": "DISABLED"}],
        "connected_accounts": [
            {"auth_config": "gh", "user_id": "alice"},
            {"auth_config": "gh", "user_id": "bob", "status": "EXPIRED"},
            {"auth_config": "key", "user_id": "carol", "fields": {"generic_api_key": "k-1"}},
            {"auth_config": "gmail", "user_id": "dave", "status": "INITIATED"},
        ]})
    assert out["seed"] == 5 and set(out["auth_configs"]) == {"gh", "key"}
    statuses = {a["user_id"]: a["status"] for a in out["connected_accounts"]}
    assert statuses == {"alice": "ACTIVE", "bob": "EXPIRED", "carol": "ACTIVE",
                        "dave": "INITIATED"}
    alice = await account(api, out["connected_accounts"][0]["id"])
    assert alice["auth_config"]["id"] == out["auth_configs"]["gh"]
    configs = (await (await api.get(f"{V31}/auth_configs?show_disabled=true",
                                    headers=KEY)).json())["items"]
    assert {c["toolkit"]["slug"] for c in configs} == {"github", "serpapi", "gmail"}


async def test_a_bad_seed_names_the_path_and_changes_nothing(api: Client) -> None:
    ac = await make_config(api)
    bad = await control(api, "POST", "seed", {
        "auth_configs": [{"ref": "gh", "toolkit": "github"}],
        "connected_accounts": [{"auth_config": "gh"}, {"auth_config": "nope"}]}, status=400)
    assert "connected_accounts[1].auth_config" in bad["error"]["message"]
    bad = await control(api, "POST", "seed", {"auth_configs": [{"toolkit": "githb"}]},
                        status=400)
    assert "auth_configs[0].toolkit" in bad["error"]["message"]
    assert "github" in bad["error"]["message"]  # the suggestion
    schema = await control(api, "POST", "seed", {"connected_accounts": [{"user_id": "x"}]},
                           status=400)
    assert "auth_config" in schema["error"]["message"]
    items = (await (await api.get(f"{V31}/auth_configs", headers=KEY)).json())["items"]
    assert [c["id"] for c in items] == [ac]


# -- clock -------------------------------------------------------------------------------------

async def test_clock_read_advance_set_and_freeze(api: Client) -> None:
    ac = await make_config(api)
    pending = await link(api, ac)
    before = await control(api, "GET", "clock")
    assert before["frozen"] is False
    after = await control(api, "POST", "clock", {"advance": 601})
    assert after["now"] >= before["now"] + 601
    expired = await account(api, pending)
    assert expired["status"] == "EXPIRED"
    frozen = await control(api, "POST", "clock", {"freeze": True, "set": "2031-05-01T12:00:00Z"})
    assert frozen["frozen"] is True and frozen["iso"] == "2031-05-01T12:00:00.000Z"
    assert (await control(api, "GET", "clock"))["now"] == frozen["now"]
    other = await control(api, "GET", "clock", headers=OTHER)  # per tenant
    assert other["frozen"] is False and other["now"] < frozen["now"]
    bad = await control(api, "POST", "clock", {"set": "next tuesday"}, status=400)
    assert "ISO-8601" in bad["error"]["message"]


# -- consent -----------------------------------------------------------------------------------

async def test_scripted_consent_completes_the_next_flows_the_app_opens(api: Client) -> None:
    ac = await make_config(api)
    script = await control(api, "POST", "consent", {
        "outcomes": ["allow", "deny", {"decision": "allow", "scopes": ["repo"]}]})
    assert [o["decision"] for o in script["queued"]] == ["allow", "deny", "allow"]
    first, second, third = [await link(api, ac, f"u{i}") for i in range(3)]
    fourth = await link(api, ac, "u4")  # nothing scripted and mode manual: left alone
    assert (await account(api, first))["status"] == "ACTIVE"
    assert (await account(api, second))["status"] == "FAILED"
    partial = await account(api, third)
    assert partial["status"] == "ACTIVE"
    assert partial["state"]["val"].get("scope") in ("repo", ["repo"])
    assert (await account(api, fourth))["status"] == "INITIATED"
    state = await control(api, "GET", "consent")
    assert state["queued"] == []
    assert [r["status"] for r in state["results"]] == ["success", "failed", "success"]
    assert state["results"][0]["connected_account_id"] == first
    # Auto mode, then clearing back to manual.
    await control(api, "POST", "consent", {"mode": "error:server_error"})
    failed = await link(api, ac, "u5")
    assert (await account(api, failed))["status"] == "FAILED"
    cleared = await control(api, "DELETE", "consent")
    assert cleared["mode"] == "manual" and cleared["results"] == []
    assert (await account(api, await link(api, ac, "u6")))["status"] == "INITIATED"
    bad = await control(api, "POST", "consent", {"outcomes": ["maybe"]}, status=400)
    assert "outcomes[0]" in bad["error"]["message"]


async def test_plugin_and_control_plane_share_the_consent_queue(api: Client,
                                                                engine: Engine) -> None:
    tenant = Tenant(engine, KEY["x-api-key"], str(api.make_url("")))
    tenant.consent.script("deny")
    queued = (await control(api, "GET", "consent"))["queued"]
    assert [o["decision"] for o in queued] == ["deny"]
    await control(api, "POST", "consent", {"outcomes": ["scopes:repo"]})
    assert [o.decision for o in tenant.consent.scripted] == ["deny", "allow"]
    assert tenant.consent.scripted[1].scopes == ("repo",)


# -- faults ------------------------------------------------------------------------------------

async def test_rate_limit_fault_is_one_shot_with_retry_after(api: Client) -> None:
    fault = await control(api, "POST", "faults", {"operation": "connected_accounts.list",
                                                  "preset": "rate_limit", "retry_after": 7})
    assert fault["times"] == 1
    limited = await api.get(f"{V31}/connected_accounts", headers=KEY)
    assert limited.status == 429
    assert limited.headers["Retry-After"] == "7"
    assert (await limited.json())["error"]["slug"] == "Rate_Limit_Exceeded"
    assert (await api.get(f"{V31}/connected_accounts", headers=KEY)).status == 200
    assert (await control(api, "GET", "faults"))["faults"] == []
    # Another tenant never sees it.
    await control(api, "POST", "faults", {"operation": "*", "preset": "server_error"},
                  headers=OTHER)
    assert (await api.get(f"{V31}/connected_accounts", headers=KEY)).status == 200


async def test_a_fault_answers_before_the_handler_and_changes_nothing(api: Client) -> None:
    await control(api, "POST", "faults", {"operation": "auth_configs.create",
                                          "preset": "server_error", "times": 2})
    for _ in range(2):
        resp = await api.post(f"{V31}/auth_configs", json={"toolkit": {"slug": "github"}},
                              headers=KEY)
        assert resp.status == 500
        assert resp.headers["x-should-retry"] == "false"
    assert (await (await api.get(f"{V31}/auth_configs", headers=KEY)).json())["items"] == []
    await make_config(api)  # the third call goes through


async def test_counted_and_latency_faults_and_clearing(api: Client) -> None:
    ac = await make_config(api)
    await control(api, "POST", "faults", {"operation": "auth_configs.get",
                                          "preset": "auth_config_not_found", "times": None})
    await control(api, "POST", "faults", {"operation": "toolkits.list", "latency_ms": 80})
    listed = await control(api, "GET", "faults")
    assert [f["preset"] for f in listed["faults"]] == ["auth_config_not_found", None]
    assert "token_refresh_failure" in listed["presets"]
    for _ in range(3):  # times: null = until cleared
        resp = await api.get(f"{V31}/auth_configs/{ac}", headers=KEY)
        assert resp.status == 404
        assert (await resp.json())["error"]["slug"] == "Auth_Config_NotFound"
    assert (await api.get(f"{V31}/toolkits", headers=KEY)).status == 200
    # The latency was applied: the journal's duration (measured around the whole request,
    # the fault's sleep included) has the fault's latency as a lower bound, which cannot
    # flake however loaded the machine is.
    journal = (await control(api, "GET", "journal"))["entries"]
    delayed = [e for e in journal if e["operation"] == "toolkits.list"]
    assert len(delayed) == 1 and delayed[0]["fault"] is not None, delayed
    assert delayed[0]["duration_ms"] >= 80, delayed
    assert (await control(api, "DELETE", "faults"))["cleared"] == 1
    assert (await api.get(f"{V31}/auth_configs/{ac}", headers=KEY)).status == 200


async def test_fault_bodies_are_validated(api: Client) -> None:
    bad = await control(api, "POST", "faults", {"operation": "connected_accounts.lst",
                                                "preset": "rate_limit"}, status=400)
    assert "connected_accounts.list" in bad["error"]["message"]
    await control(api, "POST", "faults", {"operation": "connected_accounts.list"}, status=400)
    await control(api, "POST", "faults", {"operation": "connected_accounts.list",
                                          "preset": "gremlins"}, status=400)
    await control(api, "POST", "faults", {"preset": "rate_limit"}, status=400)
    assert (await control(api, "GET", "faults"))["faults"] == []


async def test_token_refresh_failure_expires_the_account(api: Client, engine: Engine) -> None:
    tenant = Tenant(engine, KEY["x-api-key"], str(api.make_url("")))
    doomed = tenant.add_account("gmail", "bob")
    tenant.clock.advance(600)  # so the two tokens come due one after the other
    healthy = tenant.add_account("gmail", "alice")
    await control(api, "POST", "faults", {"preset": "token_refresh_failure", "times": 1})
    # The first refresh that comes due fails permanently; the second one is fine.
    tenant.clock.expire_token(doomed.id)
    assert tenant.account(doomed.id).status == "EXPIRED"
    assert tenant.account(doomed.id).status_reason == REASON_REFRESH_PERMANENT
    refreshed = tenant.clock.expire_token(healthy.id)
    assert refreshed.status == "ACTIVE"
    over_http = await account(api, doomed.id)
    assert over_http["status"] == "EXPIRED"


async def test_refresh_fault_still_applies_after_a_refused_seed(api: Client,
                                                                engine: Engine) -> None:
    # A refused seed puts back a restored tenant (a new provider) with the same faults.
    tenant = Tenant(engine, KEY["x-api-key"], str(api.make_url("")))
    doomed = tenant.add_account("gmail", "bob")
    await control(api, "POST", "faults", {"preset": "token_refresh_failure"})
    await control(api, "POST", "seed", {"connected_accounts": [{"auth_config": "nope"}]},
                  status=400)
    assert tenant.clock.expire_token(doomed.id).status == "EXPIRED"


# -- state -------------------------------------------------------------------------------------

async def test_state_export_redacts_secrets_unless_asked(api: Client, engine: Engine,
                                                          admin_api: Client) -> None:
    tenant = Tenant(engine, KEY["x-api-key"], str(api.make_url("")))
    ac = tenant.add_auth_config("github", custom=True,
                                credentials={"client_id": "cid", "client_secret": "s3cret-value"})
    acc = tenant.add_account(ac, "alice")
    assert acc.token is not None
    token = acc.token.access_token
    resp = await api.get("/_mock/state", headers=KEY)
    text = await resp.text()
    assert resp.status == 200 and token not in text and "s3cret-value" not in text
    doc = await resp.json()
    assert doc["format"] == "mockcomposio-state" and doc["version"] == 1 and doc["redacted"]
    assert [t["id"] for t in doc["tenants"]] == [tenant.project.id]  # only the caller
    full = await (await api.get("/_mock/state?secrets=true", headers=KEY)).text()
    assert token in full and "s3cret-value" in full
    await control(api, "GET", "state?all=true", headers=OTHER, status=403)
    everyone = await control(admin_api, "GET", "state?all=true",
                             headers={**OTHER, "x-mock-admin-key": ADMIN_KEY})
    assert len(everyone["tenants"]) == 2  # OTHER exists now too (first request created it)
    refused = await control(api, "POST", "state", doc, status=400)
    assert "redacted" in refused["error"]["message"]


async def test_state_import_round_trips_into_a_fresh_server(api: Client, engine: Engine,
                                                             aiohttp_client: Any) -> None:
    from mockcomposio.http.app import create_app

    ac = await make_config(api)
    await control(api, "POST", "consent", {"outcomes": ["allow"]})
    active = await link(api, ac)
    assert (await account(api, active))["status"] == "ACTIVE"
    pending = await link(api, ac, "u2")
    doc = await control(api, "GET", "state?secrets=true")

    fresh = await aiohttp_client(create_app(Engine(), strict=True))
    out = await control(fresh, "POST", "state", doc)
    assert out["imported"][0]["accounts"] == 2
    restored = await (await fresh.get(f"{V31}/connected_accounts/{active}", headers=KEY)).json()
    assert restored["status"] == "ACTIVE"
    assert restored == await account(api, active)
    # The restored server keeps working: the open link still expires on its clock.
    await control(fresh, "POST", "clock", {"advance": 601})
    expired = await (await fresh.get(f"{V31}/connected_accounts/{pending}", headers=KEY)).json()
    assert expired["status"] == "EXPIRED"


async def test_state_import_is_all_or_nothing(api: Client, admin_api: Client) -> None:
    await make_config(api)
    doc = await control(api, "GET", "state?secrets=true")
    good = doc["tenants"][0]
    broken = {**good, "api_key": "key-b", "accounts": [{"id": "ca_x"}]}
    await control(api, "POST", "reset")
    # two tenants: the admin's import (a plain key may import only its own tenant)
    bad = await control(admin_api, "POST", "state", {**doc, "tenants": [good, broken]},
                        headers=ADMIN, status=400)
    assert "tenants[1].accounts[0]" in bad["error"]["message"]
    assert (await (await api.get(f"{V31}/auth_configs", headers=KEY)).json())["items"] == []
    newer = await control(api, "POST", "state", {**doc, "version": 99}, status=400)
    assert "newer mockcomposio" in newer["error"]["message"]
    wrong = await control(api, "POST", "state", {**doc, "format": "other"}, status=400)
    assert wrong["error"]["slug"] == "Validation_Error"
    await control(api, "POST", "state", doc)
    assert len((await (await api.get(f"{V31}/auth_configs", headers=KEY)).json())["items"]) == 1


async def test_state_import_refuses_dangling_references(api: Client) -> None:
    ac = await make_config(api)
    await link(api, ac)
    doc = await control(api, "GET", "state?secrets=true")
    tenant = doc["tenants"][0]
    tenant["auth_configs"] = []
    bad = await control(api, "POST", "state", doc, status=400)
    assert "references unknown auth config" in bad["error"]["message"]


def test_tenant_reset_keeps_scripted_outcomes_but_control_reset_clears_them(
        engine: Engine) -> None:
    tenant = Tenant(engine, "key-z", "http://127.0.0.1:9")
    tenant.consent.script("deny")
    tenant.consent.set_mode("allow")
    tenant.reset()
    assert [o.decision for o in tenant.consent.scripted] == ["deny"]
    assert tenant.consent.mode == "auto"
    engine.reset("key-z")  # what POST /_mock/reset does
    assert tenant.consent.scripted == [] and tenant.consent.mode == "manual"


async def test_every_control_route_matches_its_contract_in_strict_mode(
        aiohttp_client: Any) -> None:
    from mockcomposio import contracts
    from mockcomposio.http.app import create_app

    app = create_app(Engine(seed=7), strict=True, policy=Policy(all_tenants=True))
    api = await aiohttp_client(app)
    ac = await make_config(api)
    await control(api, "POST", "seed", {"auth_configs": [{"ref": "a", "toolkit": "gmail"}],
                                        "connected_accounts": [{"auth_config": "a"}]})
    await control(api, "POST", "consent", {"outcomes": ["allow"], "mode": "deny"})
    await link(api, ac)
    await control(api, "GET", "consent")
    await control(api, "POST", "faults", {"operation": "toolkits.list", "preset": "rate_limit"})
    await control(api, "POST", "faults", {"preset": "token_refresh_failure"})
    await control(api, "GET", "faults")
    await control(api, "POST", "clock", {"advance": 4000})
    await control(api, "GET", "clock")
    assert (await api.get(f"{V31}/toolkits", headers=KEY)).status == 429
    await control(api, "GET", "journal")
    doc = await control(api, "GET", "state?secrets=true")
    await control(api, "GET", "state")
    await control(api, "POST", "state", doc)
    for path in ("faults", "consent", "journal"):
        await control(api, "DELETE", path)
    await control(api, "POST", "reset", {"seed": 1})
    await control(api, "POST", "reset", {"all": True})
    await control(api, "POST", "seed", {"seed": 3})
    assert app[contracts.VIOLATIONS_KEY] == []


async def test_callback_verifier_switch_per_tenant(api: Any) -> None:
    key, other = {"x-api-key": "cv-a"}, {"x-api-key": "cv-b"}
    resp = await api.post("/_mock/callback_verifier", headers=key,
                          json={"url": "https://app.example/verify"})
    assert resp.status == 200
    assert (await resp.json()) == {"oauth_callback_verifier_url": "https://app.example/verify"}
    config = await (await api.get("/api/v3.1/org/project/config", headers=key)).json()
    assert config["oauth_callback_verifier_url"] == "https://app.example/verify"
    theirs = await (await api.get("/api/v3.1/org/project/config", headers=other)).json()
    assert theirs["oauth_callback_verifier_url"] is None
    bad = await api.post("/_mock/callback_verifier", headers=key, json={"url": "http://x.test/"})
    assert bad.status == 400
    off = await api.post("/_mock/callback_verifier", headers=key, json={"url": None})
    assert (await off.json())["oauth_callback_verifier_url"] is None
