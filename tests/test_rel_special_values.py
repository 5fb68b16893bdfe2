"""Regressions of issue 19 (findings 5, 6, 7, 16, 17, 18, 21, 14, 15): special values that used
to get a 5xx, or were accepted and then poisoned the tenant (every later list, page or export
of it failed). Each test states the finding it pins; all run against the strict app.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mockcomposio.clock import MAX_EPOCH
from mockcomposio.engine import Engine
from mockcomposio.http.app import MAX_INT_DIGITS, EnvelopeAppRunner, create_app

from .test_http_flows import path_of
from .test_rel_bad_input import V31, World, build_world, post_json, stored_state

JSON = {"content-type": "application/json"}


class EnvelopeTestServer(TestServer):
    """aiohttp's test server, run the way ``mockcomposio serve`` runs the app."""

    async def _make_runner(self, **kwargs: Any) -> web.BaseRunner:
        return EnvelopeAppRunner(self.app, **kwargs)


@pytest.fixture
async def world(aiohttp_client: Any) -> World:
    engine = Engine(seed=5)
    server = EnvelopeTestServer(create_app(engine, strict=True))
    return await build_world(await aiohttp_client(server), engine)


async def raw_post(world: World, path: str, raw: bytes) -> tuple[int, Any]:
    status, body, _ = await world.request("POST", path, data=raw,
                                          headers={**world.headers, **JSON})
    return status, body


async def tenant_still_works(world: World) -> None:
    """Every read of the tenant still answers (the poisoned tenants of the issue 500ed here)."""
    ids = world.ids
    for path in (f"{V31}/connected_accounts", f"{V31}/auth_configs",
                 f"{V31}/connected_accounts/{ids['ca']}",
                 f"{V31}/connected_accounts/{ids['ca_key']}",
                 f"/link/{ids['link']}", "/_mock/clock", "/_mock/journal", "/_mock/state",
                 "/_mock/state?secrets=true", "/_mock/inspector/data"):
        status, payload, _ = await world.request("GET", path, headers=world.headers)
        assert status < 500, (path, str(payload)[:300])
        if path.startswith(("/api", "/_mock")):
            assert status == 200, (path, str(payload)[:300])


def assert_envelope(status: int, body: Any, slug: str | None = None) -> None:
    assert 400 <= status < 500, (status, str(body)[:300])
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), str(body)[:300]
    assert body["error"]["status"] == status and body["error"]["message"]
    if slug is not None:
        assert body["error"]["slug"] == slug, body


# -- finding 5: the clock ---------------------------------------------------------------------

CLOCK_BAD: list[bytes] = [
    b'{"advance": NaN}', b'{"advance": Infinity}', b'{"advance": -Infinity}',
    b'{"advance": 1e300}', b'{"advance": 1e400}', b'{"set": NaN}', b'{"set": 1e300}',
    b'{"set": -1e14}', b'{"set": -1}', b'{"set": "0001-01-01T00:00:00Z"}',
    b'{"set": "9999-12-31T23:59:59Z"}', b'{"set": "-0001-01-01"}', b'{"set": 1e308}',
    b'{"set": 10000000000000000000000000000000000000000}',
    b'{"freeze": true, "set": 1e300}',  # the freeze must not be applied either
    b'{"set": 1000, "advance": %d}' % int(MAX_EPOCH),
]


@pytest.mark.parametrize("raw", CLOCK_BAD, ids=lambda r: r.decode()[:40])
async def test_clock_moves_out_of_range_are_refused_before_applying(world: World,
                                                                   raw: bytes) -> None:
    """Finding 5: NaN, Infinity, 1e300 and years outside 1-9999 got a 500 *after* changing the
    clock; the tenant's lists and the shared inspector then 500ed. Now a 400 and the clock is
    exactly where it was."""
    clock = world.project.clock
    before = (clock._offset, clock._frozen_at)
    state = stored_state(world.project)
    status, body = await raw_post(world, "/_mock/clock", raw)
    assert_envelope(status, body)
    assert (clock._offset, clock._frozen_at) == before
    assert stored_state(world.project) == state
    await tenant_still_works(world)


async def test_clock_at_its_bounds_keeps_every_derived_time_valid(world: World) -> None:
    """The largest allowed clock still renders every object and every expiry derived from
    it (links opened there expire past the bound, which must still render)."""
    status, body = await raw_post(world, "/_mock/clock",
                                  json.dumps({"set": MAX_EPOCH}).encode())
    assert status == 200, body
    linked = await post_json(world, "/connected_accounts/link", {
        "auth_config_id": world.ids["ac"], "user_id": "late"})
    assert linked["expires_at"].startswith("9000-01-01")
    status, body = await raw_post(world, "/_mock/clock", b'{"advance": 1}')
    assert status == 400 and "9000-01-01" in body["error"]["message"]
    await tenant_still_works(world)
    status, body = await raw_post(world, "/_mock/clock", b'{"set": 0}')
    assert status == 200, body
    await tenant_still_works(world)


# -- finding 6: huge ints; special JSON values in every JSON body -----------------------------

SPECIAL_JSON: list[bytes] = [
    b'{"user_id": ' + b"9" * 5000 + b"}",  # past Python's 4,300-digit int limit
    b'{"user_id": ' + b"9" * (MAX_INT_DIGITS + 1) + b"}",
    b'{"user_id": -' + b"9" * 5000 + b"}",
    b'{"user_id": NaN}', b'{"user_id": Infinity}', b'{"user_id": -Infinity}',
    b'{"user_id": 1e400}', b'{"user_id": -1e400}',
    b'{"user_id": "\\ud800"}', b'{"user_id": "a\\udfffb"}', b'{"\\ud83d": 1}',
]


@pytest.mark.parametrize("raw", SPECIAL_JSON, ids=lambda r: r.decode()[:30])
async def test_special_json_values_are_a_400_envelope(world: World, raw: bytes) -> None:
    """Finding 6 (ints over 4,300 digits: 500 on every JSON route) and 16 (lone surrogates:
    201, then the Connect Link page 500ed): refused as invalid JSON, nothing stored."""
    state = stored_state(world.project)
    for path in (f"{V31}/connected_accounts/link", f"{V31}/auth_configs",
                 f"{V31}/tool_router/session", "/_mock/clock", "/_mock/state"):
        status, body = await raw_post(world, path, raw)
        assert_envelope(status, body, "Request_InvalidJson")
    assert stored_state(world.project) == state


async def test_lone_surrogate_in_user_id_never_reaches_the_link_page(world: World) -> None:
    """Finding 16, end to end as reported."""
    raw = json.dumps({"auth_config_id": world.ids["ac"], "user_id": "a\ud800b"}).encode()
    status, body = await raw_post(world, f"{V31}/connected_accounts/link", raw)
    assert_envelope(status, body, "Request_InvalidJson")
    assert "surrogate" in body["error"]["message"]
    # A well-formed astral character (a valid surrogate *pair* in JSON) is fine.
    raw = json.dumps({"auth_config_id": world.ids["ac"], "user_id": "a\U0001f600b"}).encode()
    status, body = await raw_post(world, f"{V31}/connected_accounts/link", raw)
    assert status == 201, body
    status, page, _ = await world.request("GET", path_of(body["redirect_url"]))
    assert status == 200 and "\U0001f600" in page
    await tenant_still_works(world)


# -- finding 7: cursors -----------------------------------------------------------------------

def cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


SPECIAL_CURSORS = [cursor(raw) for raw in (
    b'{"page": Infinity, "limit": 1}', b'{"page": 1e400, "limit": 1}',
    b'{"page": 1, "limit": 1e400}', b'{"page": 1, "limit": NaN}',
    b'{"page": -Infinity, "limit": 5}', b'{"page": 1.5, "limit": 5}',
    b'{"page": ' + b"9" * 5000 + b', "limit": 5}', b'{"page": 99999999999999999999, "limit": 5}',
    b'{"page": true, "limit": 5}', b'{"page": "1", "limit": 5}', b'[1, 2]', b'"x"', b"null",
    b'{"page": 1}', b"\xff\xfe", b"[" * 3000,
)] + ["!!!", "====", "a", "\u00e9"]


@pytest.mark.parametrize("path", [f"{V31}/connected_accounts", f"{V31}/auth_configs",
                                  f"{V31}/toolkits", "/api/v3/connected_accounts"])
async def test_special_cursors_are_a_400(world: World, path: str) -> None:
    """Finding 7: cursors decoding to Infinity or 1e400 got a 500 on every paginated route."""
    for value in SPECIAL_CURSORS:
        status, body, _ = await world.request("GET", path, params={"cursor": value},
                                              headers=world.headers)
        assert_envelope(status, body, "Pagination_InvalidCursor")


# -- finding 17: control characters in callback_url -------------------------------------------

@pytest.mark.parametrize("bad", ["https://app.example/cb\r\nX-Injected: 1",
                                 "https://app.example/c b", "https://app.example/\x00",
                                 "https://app.example/\x7f", "https://app.example/\tcb",
                                 "https://app.example/\u0085"])
async def test_control_characters_in_callback_urls_are_refused(world: World, bad: str) -> None:
    """Finding 17: the account went ACTIVE, then the redirect back to the app died with no
    response (a control character cannot go into a Location header)."""
    state = stored_state(world.project)
    ids = world.ids
    for method, path, body in (
            ("POST", f"{V31}/connected_accounts/link",
             {"auth_config_id": ids["ac"], "user_id": "u", "callback_url": bad}),
            ("POST", f"{V31}/connected_accounts", {
                "auth_config": {"id": ids["ac_custom"]},
                "connection": {"user_id": "u", "callback_url": bad}}),
            ("POST", f"{V31}/connected_accounts/{ids['ca']}/refresh", {"redirect_url": bad}),
            ("POST", f"{V31}/tool_router/session/{ids['session']}/link",
             {"toolkit": "github", "callback_url": bad})):
        status, payload, _ = await world.request(method, path, json=body,
                                                 headers=world.headers)
        assert_envelope(status, payload)
        assert bad not in json.dumps(payload), payload
    assert stored_state(world.project) == state
    # Percent-encoded, the same URL works end to end.
    linked = await post_json(world, "/connected_accounts/link", {
        "auth_config_id": ids["ac"], "user_id": "u",
        "callback_url": "https://app.example/c%20b?x=%0d%0a"})
    assert linked["redirect_url"]


# -- finding 21: what aiohttp's HTTP parser refuses -------------------------------------------

async def test_over_long_request_lines_and_headers_get_the_envelope(world: World) -> None:
    """Finding 21: over-long request lines and headers got aiohttp's plain-text 400 (which also
    quoted the request line back)."""
    secretish = "s" * 9000
    for method, path, headers in (
            ("GET", f"{V31}/auth_configs?q={secretish}", world.headers),
            ("GET", f"{V31}/auth_configs", {**world.headers, "x-big": secretish}),
            ("POST", f"{V31}/connected_accounts/link", {**world.headers, "cookie": secretish}),
            ("GET", f"{V31}/auth_configs",
             {**world.headers, **{f"x-h{i}": "v" for i in range(200)}})):
        status, body, resp_headers = await world.request(method, path, headers=headers)
        assert_envelope(status, body, "Request_Malformed")
        assert body["error"]["request_id"] == resp_headers["x-request-id"]
        assert "sssss" not in json.dumps(body)
        assert resp_headers["content-type"].startswith("application/json")
    await tenant_still_works(world)


@pytest.mark.parametrize("raw", [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n"
                                 b"Content-Length: zz\r\n\r\n",
                                 b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n"])
async def test_unparsable_requests_get_the_envelope(world: World, raw: bytes) -> None:
    server = world.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith((b"HTTP/1.1 400", b"HTTP/1.0 400")), answer[:300]
    assert b"application/json" in head.lower()
    assert_envelope(400, json.loads(payload), "Request_Malformed")


# -- the strict-mode audit: API-key accounts that expire or fail -------------------------------

@pytest.mark.parametrize("status", ["EXPIRED", "FAILED"])
@pytest.mark.parametrize("toolkit", ["serpapi", "gmail"])
async def test_expired_and_failed_accounts_render_within_their_scheme(
        aiohttp_client: Any, toolkit: str, status: str) -> None:
    """Under strict contracts, ``Tenant.add_account(<API-key toolkit>, status="EXPIRED")``
    answered a 500: the spec's API_KEY state has no EXPIRED or FAILED ``val``. The real API
    expires an abandoned initiation whatever the scheme (reference S6), so the top-level status
    says EXPIRED/FAILED and an API-key ``val`` keeps the last status its scheme allows."""
    from mockcomposio.tenant import Tenant

    engine = Engine(seed=2)
    client = await aiohttp_client(create_app(engine, strict=True))
    tenant = Tenant(engine, "key-a", str(client.make_url("")))
    arranged = tenant.add_account(toolkit, "u1", status=status)
    async with client.get(f"{V31}/connected_accounts/{arranged.id}",
                          headers={"x-api-key": "key-a"}) as resp:
        body = await resp.json()
        assert resp.status == 200, body
    assert body["status"] == status
    if toolkit == "gmail":
        assert body["state"]["val"]["status"] == status
    else:  # the strict app checked the rest against the scheme's state
        assert body["state"]["val"]["status"] in ("INITIATED", "ACTIVE")
    async with client.get(f"{V31}/connected_accounts", headers={"x-api-key": "key-a"}) as resp:
        assert resp.status == 200, await resp.text()


async def test_an_abandoned_api_key_link_expires_and_renders_strictly(world: World) -> None:
    """The state machine's finding: an API-key account left INITIATED past 10 minutes."""
    linked = await post_json(world, "/connected_accounts/link", {
        "auth_config_id": world.ids["ac_key"], "user_id": "abandons"})
    status, _ = await raw_post(world, "/_mock/clock", b'{"advance": 601}')
    assert status == 200
    status, body, _ = await world.request(
        "GET", f"{V31}/connected_accounts/{linked['connected_account_id']}",
        headers=world.headers)
    assert status == 200, body
    assert body["status"] == "EXPIRED" and body["state"]["val"]["status"] == "INITIATED"
    assert body["status_reason"] == "Connection initiation did not complete within 10 minutes"


# -- found by schemathesis against serve --strict ----------------------------------------------

@pytest.mark.parametrize("workbench", [{"auto_offload_threshold": 0},
                                       {"auto_offload_threshold": -5},
                                       {"enable_proxy_execution": "yes"}])
async def test_session_workbench_values_the_spec_forbids_are_a_400(world: World,
                                                                   workbench: Any) -> None:
    """``workbench.auto_offload_threshold: 0`` was accepted and echoed in the session's config,
    which the response contract forbids (exclusiveMinimum 0): a strict server answered 500."""
    status, body, _ = await world.request("POST", f"{V31}/tool_router/session", json={
        "user_id": "u", "workbench": workbench}, headers=world.headers)
    assert_envelope(status, body, "Validation_Error")
    assert "workbench." in body["error"]["message"]
    created = await post_json(world, "/tool_router/session", {
        "user_id": "u", "workbench": {"auto_offload_threshold": 0.5,
                                      "enable_proxy_execution": False}})
    assert created["config"]["workbench"]["auto_offload_threshold"] == 0.5


@pytest.mark.parametrize("tags", [{"enable": [], "disable": ["AAA"]}, ["readOnlyHint", "x"],
                                  {"enable": ["nope"]}])
async def test_session_tags_outside_the_spec_enum_are_a_400(world: World, tags: Any) -> None:
    """Unknown tags were echoed into the session's ``config.tags``, whose contract is the
    spec's tag enum: a strict server answered 500 (found by schemathesis)."""
    status, body, _ = await world.request("POST", f"{V31}/tool_router/session", json={
        "user_id": "u", "tags": tags}, headers=world.headers)
    assert_envelope(status, body, "Validation_Error")
    created = await post_json(world, "/tool_router/session", {
        "user_id": "u", "tags": {"enable": ["readOnlyHint"], "disable": ["destructiveHint"]}})
    assert created["session_id"]


@pytest.mark.parametrize("extra", [
    {"toolkits": {"enable": ["github"], "0": None}},
    {"tools": {"gmail": {"enable": ["GMAIL_SEND_EMAIL"], "x-unknown": 42}}},
    {"tools": {"slack": {"tags": {"enable": ["destructiveHint"], "zz": 1}, "zz": 2}}},
    {"tags": {"enable": ["readOnlyHint"], "zz": []}},
])
async def test_unknown_keys_in_session_filters_are_not_echoed(world: World,
                                                              extra: Any) -> None:
    """Unknown keys inside toolkits/tools/tags objects were echoed into the session's config,
    breaking its contract (500 in strict mode; found by schemathesis and by the contract
    property test once its exclusion was removed). The request schema refuses them (400), as
    the real API's validation does, and no session is stored."""
    before = len(world.project.sessions)
    status, body, _ = await world.request("POST", f"{V31}/tool_router/session",
                                          json={"user_id": "u", **extra}, headers=world.headers)
    assert_envelope(status, body, "Validation_Error")
    assert len(world.project.sessions) == before


@pytest.mark.parametrize("tools", [{"slack": {"tags": {"disable": ["AAA"]}}},
                                   {"slack": {}}, {"slack": {"zz": 1}},
                                   {"slack": {"enable": "SLACK_X"}}])
async def test_session_tool_filters_the_contract_cannot_echo_are_a_400(world: World,
                                                                       tools: Any) -> None:
    """``tools.<toolkit>`` entries with unknown tags or none of enable/disable/tags were echoed
    into ``config.tools``, breaking its contract (found by schemathesis)."""
    status, body, _ = await world.request("POST", f"{V31}/tool_router/session", json={
        "user_id": "u", "tools": tools}, headers=world.headers)
    assert_envelope(status, body, "Validation_Error")
    created = await post_json(world, "/tool_router/session", {"user_id": "u", "tools": {
        "gmail": {"enable": ["GMAIL_SEND_EMAIL"]}, "slack": {"enable": ["SLACK_X"]},
        "github": {"tags": ["readOnlyHint"]}}})
    assert created["config"]["tools"]["slack"] == {"enabled": ["SLACK_X"]}
