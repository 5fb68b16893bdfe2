"""The response cache (``mockcomposio/http/cache.py``): a repeated read of an unchanged tenant
is answered with the bytes sent last time, and no kind of change leaves a stale answer.

Two apps serve one engine here: ``cached`` (the default) and ``fresh`` (``response_cache=False``),
with the suite's audit mode off, so a stale hit shows up as a difference between the two.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio.domain import render
from mockcomposio.engine import Engine
from mockcomposio.http import cache as cache_mod
from mockcomposio.http.app import create_app
from mockcomposio.testing.tenant import Tenant

from .conftest import KEY
from .test_http_flows import V31, decide, link, make_config, path_of, to_consent

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]


class Pair:
    """The same engine behind a caching and a non-caching app."""

    def __init__(self, engine: Engine, cached: Client, fresh: Client) -> None:
        self.engine, self.cached, self.fresh = engine, cached, fresh

    async def read(self, path: str, headers: dict[str, str] = KEY) -> tuple[int, bytes]:
        """``path`` read twice through the cache (the second read may be a hit) and once
        without; all three must agree."""
        answers = []
        for client in (self.cached, self.cached, self.fresh):
            resp = await client.get(path, headers=headers)
            body = await resp.read()
            if resp.status >= 400:  # an envelope names its own request id
                body = body.replace(resp.headers["x-request-id"].encode(), b"")
            answers.append((resp.status, body))
        assert answers[0] == answers[1] == answers[2], (path, answers)
        return answers[0]


@pytest.fixture
async def pair(aiohttp_client: MakeClient, monkeypatch: pytest.MonkeyPatch) -> Pair:
    monkeypatch.delenv(cache_mod.AUDIT_ENV, raising=False)
    engine = Engine(seed=11)
    cached = await aiohttp_client(create_app(engine, strict=True))
    fresh = await aiohttp_client(create_app(engine, strict=True, response_cache=False))
    return Pair(engine, cached, fresh)


async def _api_key_account(api: Client, user: str = "u1") -> tuple[str, str]:
    ac = await make_config(api, "perplexityai", type="use_custom_auth", authScheme="API_KEY",
                           credentials={})
    resp = await api.post(f"{V31}/connected_accounts", headers=KEY, json={
        "auth_config": {"id": ac}, "connection": {"user_id": user, "state": {
            "authScheme": "API_KEY", "val": {"generic_api_key": "pplx-secret-123456"}}}})
    assert resp.status == 201, await resp.text()
    return ac, str((await resp.json())["id"])


def _reads(ac: str, account: str) -> list[str]:
    return [f"{V31}/auth_configs/{ac}", f"{V31}/auth_configs?show_disabled=true",
            f"{V31}/connected_accounts/{account}", f"{V31}/connected_accounts",
            f"{V31}/connected_accounts?user_ids=u1&statuses=ACTIVE,INACTIVE",
            f"{V31}/toolkits/perplexityai", f"{V31}/toolkits?limit=5"]


async def test_a_repeated_read_is_answered_without_rendering_again(
        pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    ac, _ = await _api_key_account(pair.cached)
    renders = []
    original = render.auth_config

    def counting(*args: Any, **kwargs: Any) -> Any:
        renders.append(args[1].id)
        return original(*args, **kwargs)

    monkeypatch.setattr(render, "auth_config", counting)
    bodies, sent_ids = [], []
    for given in (None, None, "my-own-id-7", None):  # a hit keeps a caller's id as given
        headers = KEY if given is None else {**KEY, "x-request-id": given}
        resp = await pair.cached.get(f"{V31}/auth_configs/{ac}", headers=headers)
        bodies.append(await resp.read())
        sent_ids.append(resp.headers["x-request-id"])
    assert len(set(bodies)) == 1
    assert renders == [ac]  # rendered once, then answered from the cache
    # Every request is still journaled, with what was sent and the id its answer carried.
    project = pair.engine.project(KEY["x-api-key"])
    gets = [e for e in project.journal.entries() if e.operation == "auth_configs.get"]
    assert [e.request_id for e in gets] == sent_ids
    assert len(set(sent_ids)) == 4 and sent_ids[2] == "my-own-id-7"
    assert all(len(i) == 32 and int(i, 16) for i in sent_ids[:2] + sent_ids[3:])
    assert {e.response_body["id"] for e in gets} == {ac}


# Each kind of change as one request: (through the caching app?, method, path, JSON body);
# {ac} and {account} are the tenant's auth config and connected account.
CHANGES: dict[str, tuple[bool, str, str, Any]] = {
    "rename the auth config": (True, "PATCH", f"{V31}/auth_configs/{{ac}}",
                               {"type": "custom", "name": "renamed"}),
    "disable the auth config": (True, "PATCH", f"{V31}/auth_configs/{{ac}}/DISABLED", None),
    "disable the account": (True, "PATCH", f"{V31}/connected_accounts/{{account}}/status",
                            {"enabled": False}),
    "delete the account": (True, "DELETE", f"{V31}/connected_accounts/{{account}}", None),
    "unmask secrets (project config)": (True, "PATCH", f"{V31}/org/project/config",
                                        {"mask_secret_keys_in_connected_account": False}),
    "reset the tenant": (True, "POST", "/_mock/reset", {}),
    "add a toolkit (control plane)": (True, "POST", "/_mock/toolkits", {"toolkits": [{
        "slug": "perplexityai", "name": "Perplexity (mine)", "auth_schemes": ["API_KEY"]}]}),
    # The cache lives with the tenant, not with the app: a write through any app counts.
    "change through another app": (False, "PATCH", f"{V31}/connected_accounts/{{account}}",
                                   {"alias": "work"}),
    "connect a second account": (True, "POST", f"{V31}/connected_accounts", {
        "auth_config": {"id": "{ac}"}, "connection": {"user_id": "u1", "state": {
            "authScheme": "API_KEY", "val": {"generic_api_key": "pplx-other-123456"}}}}),
}


async def _make_change(p: Pair, change: str, ac: str, account: str) -> None:
    through_cached, method, path, body = CHANGES[change]
    if body is not None:  # the ids inside the body too ("{ac}" in the second account's)
        body = json.loads(json.dumps(body).replace("{ac}", ac))
    client = p.cached if through_cached else p.fresh
    resp = await client.request(method, path.format(ac=ac, account=account), headers=KEY,
                                json=body)
    assert resp.status in (200, 201), await resp.text()


@pytest.mark.parametrize("change", list(CHANGES))
async def test_every_kind_of_change_is_seen_at_once(pair: Pair, change: str) -> None:
    ac, account = await _api_key_account(pair.cached)
    before = {path: await pair.read(path) for path in _reads(ac, account)}
    # Reads change nothing, so every one of them is cached now, each about to be a hit.
    cache = pair.engine.project(KEY["x-api-key"]).response_cache
    assert len(cache.bodies) == len(before)
    await _make_change(pair, change, ac, account)
    after = {path: await pair.read(path) for path in _reads(ac, account)}
    assert before != after, f"{change} changed none of the reads: the test proves nothing"


async def test_an_oauth_flow_through_the_pages_is_seen_at_once(pair: Pair) -> None:
    """The pages and provider endpoints run without the API key; the account they complete
    is read as ACTIVE right after, though its INITIATED render was cached."""
    ac = await make_config(pair.cached)
    got = await link(pair.cached, ac, callback="https://app.example/cb")
    account_path = f"{V31}/connected_accounts/{got['connected_account_id']}"
    assert b'"INITIATED"' in (await pair.read(account_path))[1]
    authorize, html = await to_consent(pair.cached, got["redirect_url"])
    callback = await decide(pair.cached, authorize, html)
    assert (await pair.cached.get(path_of(callback), allow_redirects=False)).status == 302
    assert b'"ACTIVE"' in (await pair.read(account_path))[1]


async def test_a_timer_falling_due_is_applied_before_a_cached_answer(pair: Pair) -> None:
    """Links expire lazily, on the next request after their deadline: a clock moved outside
    any request (here directly, no lock) must not leave the INITIATED answer in place."""
    ac = await make_config(pair.cached)
    got = await link(pair.cached, ac)
    project = pair.engine.project(KEY["x-api-key"])
    project.clock.freeze()
    path = f"{V31}/connected_accounts/{got['connected_account_id']}"
    assert b'"INITIATED"' in (await pair.read(path))[1]
    await pair.cached.get(path, headers=KEY)  # stored again after the fresh app's read
    assert (await pair.cached.get(path, headers=KEY)).status == 200  # a hit
    project.clock.set(project.clock.now() + 11 * 60)  # past the 10-minute link lifetime
    assert b'"EXPIRED"' in (await pair.read(path))[1]


async def test_an_armed_fault_answers_instead_of_the_cache(pair: Pair) -> None:
    ac, _ = await _api_key_account(pair.cached)
    path = f"{V31}/auth_configs/{ac}"
    assert (await pair.read(path))[0] == 200
    resp = await pair.cached.post("/_mock/faults", headers=KEY, json={
        "operation": "auth_configs.get", "preset": "server_error", "times": 1})
    assert resp.status in (200, 201), await resp.text()
    faulted = await pair.cached.get(path, headers=KEY)
    assert faulted.status >= 500
    assert (await pair.cached.get(path, headers=KEY)).status == 200  # used up


async def test_nothing_is_cached_while_an_in_process_tenant_handle_lives(
        pair: Pair) -> None:
    """A test holding a ``Tenant`` may change domain objects it got from it without the lock,
    so its tenant's reads are never cached; once the handle is gone they are again."""
    tenant = Tenant(pair.engine, KEY["x-api-key"], "http://localhost")
    config = tenant.add_auth_config("github")
    path = f"{V31}/auth_configs/{config.id}"
    await pair.read(path)
    project = tenant.project
    assert project.response_cache is None or not project.response_cache.bodies
    config.name = "changed behind the lock's back"  # allowed through a handle
    assert b"changed behind" in (await pair.read(path))[1]
    del tenant, config
    gc.collect()
    await pair.read(path)
    assert project.response_cache is not None and project.response_cache.bodies


async def test_the_cache_stays_within_its_bounds(pair: Pair,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_mod, "MAX_ENTRIES", 8)
    await _api_key_account(pair.cached)
    for i in range(30):  # thirty distinct reads of an unchanged tenant
        await pair.cached.get(f"{V31}/auth_configs?limit={i + 1}", headers=KEY)
    project = pair.engine.project(KEY["x-api-key"])
    assert 0 < len(project.response_cache.bodies) <= 8
    assert project.response_cache.size == sum(map(len, project.response_cache.bodies.values()))


async def test_audit_mode_turns_a_stale_hit_into_a_500(
        aiohttp_client: MakeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's own check (conftest sets MOCKCOMPOSIO_CACHE_AUDIT): a cached body that
    differs from a fresh render fails the request loudly instead of being sent."""
    monkeypatch.setenv(cache_mod.AUDIT_ENV, "1")
    engine = Engine(seed=3)
    api = await aiohttp_client(create_app(engine, strict=True))
    ac = await make_config(api)
    path = f"{V31}/auth_configs/{ac}"
    assert (await api.get(path, headers=KEY)).status == 200
    cache = engine.project(KEY["x-api-key"]).response_cache
    (key, body), = cache.bodies.items()
    cache.bodies[key] = body.replace(ac.encode(), b"ac_stale")
    resp = await api.get(path, headers=KEY)
    assert resp.status == 500
    assert (await resp.json())["error"]["slug"] == "Internal_ServerError"
