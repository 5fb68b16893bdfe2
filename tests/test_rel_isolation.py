"""Tenant isolation: tenant A's data is created over HTTP, then tenant B (another API key, and
B's own provider path) tries every route of the route table with A's ids, tokens and secrets.

A leak is any of A's identifiers or secrets in B's response that B did not send itself, or any
change to A's stored state. Routes are enumerated from ``ROUTES``; the only routes left out are
the capability routes addressed by an unguessable token rather than an API key (the Connect Link
page, the initiate redirect, Composio's callback): whoever holds a link token may use it, as
with the real Connect Link, so there is no tenant to cross. The inspector (``/_mock/``) shows
only the tenant of the caller's key unless the server opts in to cross-tenant access, so it is
checked like every other route (tests/test_rel_isolation2.py covers the opt-in).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mockcomposio.engine import Engine
from mockcomposio.http.app import Route, create_app
from mockcomposio.http.routes import ROUTES

from .test_http_flows import decide, to_consent
from .test_rel_bad_input import (
    SECRET,
    V31,
    World,
    build_world,
    fill_path,
    route_id,
    route_params,
    stored_state,
    valid_body,
)

# Token-addressed routes: the token is the capability (see the module docstring).
CAPABILITY_OPERATIONS = ("flow.link_page", "flow.link_submit", "flow.initiate_redirect",
                         "flow.callback")


def leak_markers(a: World, b: World) -> set[str]:
    """Strings only tenant A knows: ids, user ids, names, tokens, secrets, its project id."""
    return markers_of(a) - markers_of(b)  # default names and the like are B's too


def markers_of(a: World) -> set[str]:
    project = a.project
    provider = project.provider
    markers = {v for k, v in a.ids.items() if k != "authorize"}
    markers |= {acct.user_id for acct in project.accounts.values()}
    markers |= {ac.name for ac in project.auth_configs.values()}
    markers |= set(provider._access) | set(provider._refresh) | set(provider._codes) \
        | set(provider._spent_codes)
    markers |= {app.client_secret for app in provider._apps.values()}
    markers |= {SECRET, SECRET[:4] + "...", a.headers["x-api-key"]}
    return {m for m in markers if len(m) >= 6}


def leaked(markers: set[str], sent: str, received: str) -> list[str]:
    return sorted(m for m in markers if m in received and m not in sent)


def a_material(a: World) -> dict[str, str]:
    """A's provider-side secrets, for B to present at B's own provider endpoints."""
    provider = a.project.provider
    access = next(iter(provider._access))
    refresh = next(iter(provider._refresh))
    app = provider.get_app("my-client-id")
    assert app is not None
    pending = next(iter(provider._pending))
    code = next(iter([*provider._codes, *provider._spent_codes]))
    return {"access": access, "refresh": refresh, "code": code,
            "client_id": app.client_id, "client_secret": app.client_secret, "pending": pending}


def provider_requests(route: Route, a: World, path: str) -> list[tuple[dict[str, Any], Any]]:
    """(request kwargs, form) pairs for B's provider endpoint carrying A's material."""
    m = a_material(a)
    client = {"client_id": m["client_id"], "client_secret": m["client_secret"]}
    if route.operation == "provider.authorize":
        query = {k: v[0] for k, v in parse_qs(urlsplit(a.ids["authorize"]).query).items()}
        return [({"params": query}, None)]
    if route.operation == "provider.decide":
        return [({}, {"pending": m["pending"], "decision": "allow"})]
    if route.operation == "provider.token":
        return [({}, {"grant_type": "authorization_code", "code": m["code"],
                      "redirect_uri": "http://x/cb", "code_verifier": "v" * 43, **client}),
                ({}, {"grant_type": "refresh_token", "refresh_token": m["refresh"], **client})]
    if route.operation == "provider.revoke":
        return [({}, {"token": m["access"], **client}),
                ({}, {"token": m["refresh"], "token_type_hint": "refresh_token", **client})]
    if route.operation == "provider.userinfo":
        return [({"headers": {"Authorization": f"Bearer {m['access']}"}}, None)]
    return [({}, None)]


ISOLATED = [r for r in ROUTES if r.operation not in CAPABILITY_OPERATIONS]


@pytest.fixture
async def tenants(aiohttp_client: Any) -> tuple[World, World]:
    # Unseeded: with one seed for both, A and B would draw the same ac_/ca_ ids (each in its
    # own tenant), and B finding "A's id" would find B's own object.
    engine = Engine()
    client = await aiohttp_client(create_app(engine, strict=True))
    a = await build_world(client, engine, "tenant-a")
    b = await build_world(client, engine, "tenant-b")  # the same kinds of objects, B's own
    return a, b


@pytest.mark.parametrize("route", route_params(ISOLATED))
async def test_tenant_b_reaches_nothing_of_tenant_a(tenants: tuple[World, World],
                                                    route: Route) -> None:
    a, b = tenants
    markers = leak_markers(a, b)
    before = stored_state(a.project)
    path = fill_path(route, a.ids)
    attempts: list[tuple[dict[str, Any], Any]]
    if route.operation.startswith("provider."):
        # B's own provider (B's project id in the path), presented with A's codes and tokens.
        path = fill_path(route, a.ids, project=b.ids["project"])
        attempts = provider_requests(route, a, path)
    else:
        query = {"user_ids": f"{a.headers['x-api-key']} alice",
                 "auth_config_ids": a.ids["ac"], "connected_account_ids": a.ids["ca"]}
        body = valid_body(route.operation, a.ids) if route.json_body else None
        attempts = [({"params": query, "json": body}, None)]
        if route.method != "GET":
            attempts.insert(0, ({"json": body}, None))
    for kwargs, form in attempts:
        if form is not None:
            kwargs["data"] = form
        headers = {**b.headers, **kwargs.pop("headers", {})}
        status, payload, _ = await b.request(route.method, path, headers=headers, **kwargs)
        assert status < 500, (route_id(route), status, payload)
        sent = json.dumps([path, kwargs, form, headers], default=str)
        received = payload if isinstance(payload, str) else json.dumps(payload)
        # The inspector too: it shows only the tenant of the caller's key (issue 19).
        assert leaked(markers, sent, received) == [], (route_id(route), payload)
        if route.auth and ("{id}" in route.path or "{session_id}" in route.path):
            assert 400 <= status < 500, (route_id(route), status, payload)
        assert stored_state(a.project) == before, (route_id(route), kwargs, status, payload)


async def test_session_of_b_cannot_pin_a_objects(tenants: tuple[World, World]) -> None:
    """A session of B naming A's auth config or account never links to them."""
    a, b = tenants
    before = stored_state(a.project)
    status, payload, _ = await b.request("POST", f"{V31}/tool_router/session", headers=b.headers,
                                         json={"user_id": "u", "toolkits": {"enable": ["github"]},
                                               "auth_configs": {"github": a.ids["ac"]}})
    if status == 201:
        status, payload, _ = await b.request(
            "POST", f"{V31}/tool_router/session/{payload['session_id']}/link",
            headers=b.headers, json={"toolkit": "github"})
    assert 400 <= status < 500, payload
    status, payload, _ = await b.request(
        "POST", f"{V31}/tool_router/session", headers=b.headers,
        json={"user_id": f"{a.headers['x-api-key']} alice", "toolkits": {"enable": ["github"]},
              "connected_accounts": {"github": a.ids["ca"]}})
    assert 400 <= status < 500, payload
    assert stored_state(a.project) == before


async def test_a_link_completes_only_in_its_own_tenant(tenants: tuple[World, World]) -> None:
    """A's Connect Link, walked to the end, activates A's account and nothing of B."""
    a, b = tenants
    b_before = stored_state(b.project)
    linked = await b.request("POST", f"{V31}/connected_accounts/link", headers=a.headers,
                             json={"auth_config_id": a.ids["ac"], "user_id": "late"})
    redirect = linked[1]["redirect_url"]
    authorize, html = await to_consent(a.client, redirect)
    assert f"/_oauth/{a.ids['project']}/" in authorize
    callback = await decide(a.client, authorize, html)
    status, _, _ = await a.request("GET", urlsplit(callback).path + "?"
                                   + urlsplit(callback).query)
    assert status == 200
    assert a.project.accounts[linked[1]["connected_account_id"]].status == "ACTIVE"
    assert stored_state(b.project) == b_before
    status, _, _ = await b.request(
        "GET", f"{V31}/connected_accounts/{linked[1]['connected_account_id']}",
        headers=b.headers)
    assert status == 404


def test_every_non_capability_route_is_covered() -> None:
    skipped = {r.operation for r in ROUTES} - {r.operation for r in ISOLATED}
    assert skipped <= set(CAPABILITY_OPERATIONS)


async def test_tenants_with_one_seed_get_their_own_link_tokens(aiohttp_client: Any) -> None:
    """Regression: with one seed (``serve --seed 1``) every tenant drew the same link token and
    OAuth state, and the engine-wide index sent tenant A's user to tenant B's link."""
    engine = Engine(seed=1)
    client = await aiohttp_client(create_app(engine, strict=True))
    a = await build_world(client, engine, "tenant-a")
    b = await build_world(client, engine, "tenant-b")
    assert a.ids["link"] != b.ids["link"] and a.ids["state"] != b.ids["state"]
    for world in (a, b):
        hit = engine.find_link(world.ids["link"])
        assert hit is not None and hit[0] is world.project
        hit = engine.find_state(world.ids["state"])
        assert hit is not None and hit[0] is world.project
    engine = Engine(seed=1)
    again = await build_world(await aiohttp_client(create_app(engine, strict=True)), engine,
                              "tenant-a")
    assert again.ids["link"] == a.ids["link"]  # still reproducible
