"""Isolation, round 2 (issue 19, findings 1-3): project ids and link tokens stay unique
whatever snapshots are imported, an import cannot take over another live tenant's id, and
cross-tenant operations (export/reset all, multi-tenant imports, the inspector's view of
every tenant, approving another tenant's link) need an explicit opt-in: ``--all-tenants``
or the admin key."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio import snapshot
from mockcomposio.engine import Engine
from mockcomposio.http.app import create_app
from mockcomposio.http.policy import ADMIN_HEADER, Policy
from mockcomposio.tenant import Tenant

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]
V31 = "/api/v3.1"
ADMIN_KEY = "the-admin-key"
A, B, C = ({"x-api-key": k} for k in ("key-a", "key-b", "key-c"))
ADMIN = {ADMIN_HEADER: ADMIN_KEY}


async def _client(aiohttp_client: MakeClient, engine: Engine, **policy: Any) -> Client:
    return await aiohttp_client(create_app(engine, strict=True, policy=Policy(**policy)))


def _state(engine: Engine) -> Any:
    """Every tenant's stored state, secrets included (minus the wall clock)."""
    doc = json.loads(snapshot.dumps(snapshot.export_engine(engine)))
    for tenant in doc["tenants"]:
        tenant["clock"].pop("now")
    return doc


async def _json(resp: Any, status: int) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def _link(api: Client, headers: dict[str, str], user: str) -> dict[str, Any]:
    resp = await api.post(f"{V31}/auth_configs", json={"toolkit": {"slug": "github"}},
                          headers=headers)
    ac = (await _json(resp, 201))["auth_config"]["id"]
    resp = await api.post(f"{V31}/connected_accounts/link",
                          json={"auth_config_id": ac, "user_id": user}, headers=headers)
    out: dict[str, Any] = await _json(resp, 201)
    return out


# -- finding 1: an import rewinds the project-id generator -------------------------------------

def test_ids_stay_unique_after_an_import_rewinds_the_generator() -> None:
    engine = Engine(seed=5)  # `serve --seed 5`: every tenant draws the same seeded ids
    a = engine.project("key-a")
    doc = json.loads(snapshot.dumps(snapshot.export_engine(engine)))  # generator after 1 id
    b = engine.project("key-b")
    snapshot.import_snapshot(engine, doc)  # a whole-server import restores the generator
    c = engine.project("key-c")
    live = [p.id for p in engine.projects.values()]
    assert len(set(live)) == len(live) == 3, live
    assert c.id not in (a.id, b.id)
    # Same seed, so b and c draw the same random material: their link tokens must differ
    # anyway, and each token must lead to its own tenant.
    tokens = {}
    for name, key in (("b", "key-b"), ("c", "key-c")):
        t = Tenant(engine, key, "http://127.0.0.1:9")
        account = t.add_account("github", f"user-{name}", status="INITIATED")
        tokens[name] = account.link_token
    assert tokens["b"] != tokens["c"]
    hit_b, hit_c = engine.find_link(str(tokens["b"])), engine.find_link(str(tokens["c"]))
    assert hit_b is not None and hit_b[0] is engine.projects["key-b"]
    assert hit_c is not None and hit_c[0] is engine.projects["key-c"]


async def test_a_rewound_generator_cannot_cross_tenants_over_http(
        aiohttp_client: MakeClient) -> None:
    engine = Engine(seed=5)
    api = await _client(aiohttp_client, engine, admin_key=ADMIN_KEY)
    await _json(await api.get("/_mock/clock", headers=A), 200)
    doc = await _json(await api.get("/_mock/state?all=true&secrets=true",
                                    headers={**A, **ADMIN}), 200)
    await _json(await api.get("/_mock/clock", headers=B), 200)
    await _json(await api.post("/_mock/state", json=doc, headers={**A, **ADMIN}), 200)
    link_b = await _link(api, B, "user-b")
    link_c = await _link(api, C, "user-c")  # tenant c is created after the rewind
    ids = {p.api_key: p.id for p in engine.projects.values()}
    assert len(set(ids.values())) == 3, ids
    assert link_b["redirect_url"] != link_c["redirect_url"]
    # c's end user completes c's link: b's account is untouched.
    token_c = link_c["redirect_url"].rsplit("/", 1)[1]
    resp = await api.post(f"/_mock/inspector/links/{token_c}/decide",
                          json={"decision": "allow"}, headers=C)
    assert (await _json(resp, 200))["connected_account_id"] == link_c["connected_account_id"]
    b_account = await _json(await api.get(
        f"{V31}/connected_accounts/{link_b['connected_account_id']}", headers=B), 200)
    assert b_account["status"] == "INITIATED"


# -- finding 2: an import carrying another live tenant's project id ----------------------------

async def test_import_with_a_live_tenants_project_id_is_refused(
        aiohttp_client: MakeClient) -> None:
    engine = Engine(seed=3)
    api = await _client(aiohttp_client, engine, admin_key=ADMIN_KEY)
    await _link(api, A, "user-a")
    await _link(api, B, "user-b")
    a_id = engine.projects["key-a"].id
    b_doc = await _json(await api.get("/_mock/state?secrets=true", headers=B), 200)
    b_doc["tenants"][0]["id"] = a_id  # b's own tenant, claiming a's provider paths
    for link in b_doc["tenants"][0]["links"]:
        link["project_id"] = a_id
    before = snapshot.export_engine(engine)
    err = await _json(await api.post("/_mock/state", json=b_doc, headers=B), 400)
    assert err["error"]["slug"] == "Mock_InvalidSnapshot"
    assert a_id in err["error"]["message"] and "another live tenant" in err["error"]["message"]
    assert engine.project_by_id(a_id) is engine.projects["key-a"]
    after = snapshot.export_engine(engine)
    assert [t["id"] for t in after["tenants"]] == [t["id"] for t in before["tenants"]]

    # The same id twice in one snapshot (the admin imports two tenants).
    full = await _json(await api.get("/_mock/state?all=true&secrets=true",
                                     headers={**A, **ADMIN}), 200)
    twin = full["tenants"][1]
    twin["id"] = full["tenants"][0]["id"]
    for link in twin["links"]:
        link["project_id"] = twin["id"]
    err = await _json(await api.post("/_mock/state", json=full, headers={**A, **ADMIN}), 400)
    assert "tenants[1].id" in err["error"]["message"] and twin["id"] in err["error"]["message"]


def test_state_file_import_with_duplicate_ids_is_refused() -> None:
    source = Engine(seed=1)
    source.project("key-a")
    source.project("key-b")
    doc = json.loads(snapshot.dumps(snapshot.export_engine(source)))
    doc["tenants"][1]["id"] = doc["tenants"][0]["id"]
    target = Engine(seed=1)
    with pytest.raises(snapshot.SnapshotError, match=r"tenants\[1\]\.id: project id"):
        snapshot.import_snapshot(target, doc)
    assert target.projects == {}


# -- finding 3: cross-tenant operations need an opt-in ------------------------------------------

async def test_cross_tenant_operations_are_refused_without_the_opt_in(
        aiohttp_client: MakeClient) -> None:
    engine = Engine(seed=2)
    api = await _client(aiohttp_client, engine, admin_key=ADMIN_KEY)
    link_a = await _link(api, A, "user-a")
    await _link(api, B, "user-b")
    secrets_before = _state(engine)
    wrong = {ADMIN_HEADER: "not-the-key"}
    for headers in (B, {**B, **wrong}):
        err = await _json(await api.get("/_mock/state?all=true&secrets=true", headers=headers),
                          403)
        assert err["error"]["slug"] == "Mock_CrossTenantForbidden"
        assert ADMIN_HEADER in err["error"]["suggested_fix"]
        await _json(await api.post("/_mock/reset", json={"all": True}, headers=headers), 403)
    # B imports a snapshot carrying A's tenant (A's API key): refused, A untouched.
    doc_a = json.loads(snapshot.dumps(snapshot.export_engine(engine, ["key-a"])))
    doc_a["tenants"][0]["auth_configs"] = []
    doc_a["tenants"][0]["accounts"] = []
    doc_a["tenants"][0]["links"] = []
    doc_a["tenants"][0]["links_by_state"] = {}
    await _json(await api.post("/_mock/state", json=doc_a, headers=B), 403)
    assert _state(engine) == secrets_before

    # The inspector: no key, no tenant; B's key, only B; B cannot decide A's link.
    data = await _json(await api.get("/_mock/inspector/data"), 200)
    assert data["tenants"] == [] and data["scope"] == "tenant"
    data = await _json(await api.get("/_mock/inspector/data", headers=B), 200)
    assert [t["id"] for t in data["tenants"]] == [engine.projects["key-b"].id]
    assert "user-a" not in json.dumps(data)
    token_a = link_a["redirect_url"].rsplit("/", 1)[1]
    for headers in ({}, B):
        err = await _json(await api.post(f"/_mock/inspector/links/{token_a}/decide",
                                         json={"decision": "allow"}, headers=headers), 403)
        assert err["error"]["slug"] == "Inspector_OtherTenant"
    assert engine.projects["key-a"].accounts[link_a["connected_account_id"]].status \
        == "INITIATED"
    assert set(engine.projects) == {"key-a", "key-b"}  # the inspector created no tenant

    # With the admin key: everything, and nothing else changes.
    data = await _json(await api.get("/_mock/inspector/data", headers=ADMIN), 200)
    assert data["scope"] == "all" and len(data["tenants"]) == 2
    everyone = await _json(await api.get("/_mock/state?all=true", headers={**B, **ADMIN}),
                           200)
    assert len(everyone["tenants"]) == 2
    out = await _json(await api.post("/_mock/reset", json={"all": True},
                                     headers={**B, **ADMIN}), 200)
    assert out["tenants_dropped"] == 2


async def test_all_tenants_flag_opens_everything_to_every_caller(
        aiohttp_client: MakeClient) -> None:
    engine = Engine(seed=2)
    api = await _client(aiohttp_client, engine, all_tenants=True)
    link_a = await _link(api, A, "user-a")
    await _link(api, B, "user-b")
    data = await _json(await api.get("/_mock/inspector/data"), 200)
    assert data["scope"] == "all" and data["tenants_total"] == 2
    token_a = link_a["redirect_url"].rsplit("/", 1)[1]
    out = await _json(await api.post(f"/_mock/inspector/links/{token_a}/decide",
                                     json={"decision": "deny"}), 200)
    assert out["connected_account_id"] == link_a["connected_account_id"]
    assert len((await _json(await api.get("/_mock/state?all=true", headers=B), 200))
               ["tenants"]) == 2


async def test_inspector_lists_a_bounded_number_of_tenants(aiohttp_client: MakeClient) -> None:
    from mockcomposio.http.inspector import MAX_TENANTS_SHOWN

    engine = Engine(seed=1)
    for i in range(MAX_TENANTS_SHOWN + 30):
        engine.project(f"idle-{i}")
    engine.project("idle-3")  # used again: among the most recent
    api = await _client(aiohttp_client, engine, all_tenants=True)
    data = await _json(await api.get("/_mock/inspector/data"), 200)
    assert data["tenants_total"] == MAX_TENANTS_SHOWN + 30
    shown = {t["id"] for t in data["tenants"]}
    assert len(shown) == MAX_TENANTS_SHOWN
    assert engine.projects["idle-3"].id in shown
    assert engine.projects["idle-0"].id not in shown


async def test_an_admin_header_of_invalid_utf8_is_refused_not_a_500() -> None:
    """Raw bytes (no client library would send them): a wrong admin key, never a 500."""
    import asyncio

    from aiohttp.test_utils import TestServer

    server = TestServer(create_app(Engine(seed=1), strict=True,
                                   policy=Policy(admin_key=ADMIN_KEY)))
    await server.start_server()
    try:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(b"GET /_mock/state?all=true HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"x-api-key: key-a\r\nx-mock-admin-key: \xff\xe9\r\n"
                     b"Connection: close\r\n\r\n")
        await writer.drain()
        answer = await reader.read()
        writer.close()
    finally:
        await server.close()
    assert answer.startswith(b"HTTP/1.1 403 "), answer[:200]
    assert b"Mock_CrossTenantForbidden" in answer
