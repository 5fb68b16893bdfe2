"""Bad input on every route of the route table: malformed JSON, wrong types, missing and unknown
fields, huge bodies, unicode and injection strings in ids, names and queries.

The routes are enumerated from ``ROUTES``, so a route added later is covered without touching
this file. For every bad request: never a 5xx; API routes answer a 4xx in Composio's envelope
(pages and the provider answer their own 4xx shapes); and a 4xx never changes or loses a stored
object (the tenant's stored state is deep-copied before and compared after each request).
Also home of :class:`World`, the populated tenant the other ``test_rel_*`` files reuse.
"""

from __future__ import annotations

import base64
import copy
import html
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator

from mockcomposio.domain.project import Project
from mockcomposio.engine import Engine
from mockcomposio.http.app import (
    MAX_BODY_BYTES,
    MAX_CONTROL_JSON_DEPTH,
    MAX_JSON_DEPTH,
    Route,
    create_app,
)
from mockcomposio.http.routes import ROUTES
from mockcomposio.resources import contracts_dir

from .test_http_flows import decide, path_of, to_consent

Client = TestClient[Any, Any]
V31 = "/api/v3.1"
SECRET = "supersecretvalue-0123456789"
API_KEY_VALUE = "sk-serpapi-abcdefghijklmnop"

# Strings an attacker (or a sloppy client) puts in ids, names and queries.
INJECTIONS = [
    "' OR '1'='1' --",
    "\"; DROP TABLE accounts; --",
    "<script>alert(1)</script>",
    "../../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "\x00nul",
    "\u202eevil\u202c",  # right-to-left override
    "\U0001f600\u00e9\u4e2d\u0639",
    "{{7*7}}${7*7}",
    "$where: 1",
    "a" * 5000,
    " ",
    "\r\nX-Injected: 1",
]
MALFORMED_JSON: list[bytes] = [
    b"{", b"{{{", b"[1,", b"{'single': 'quotes'}", b"\xff\xfe\xfd", b"{\"a\": }",
    b"[" * 100_000, b"{\"a\":" * 50_000 + b"1" + b"}" * 50_000,
]
NON_OBJECTS: list[Any] = [None, [], [1, 2], 1, -1.5, "text", True]
# Special JSON values, as raw JSON text put in place of one field (issue 19): what RFC 8259
# has no room for, or what Python's parser turns into values that broke later renders (inf,
# 4,300+ digit ints, lone surrogates) — all refused as invalid JSON...
SPECIAL_JSON_REFUSED = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 5000,
                        "-" + "9" * 200, '"\\ud800"', '"a\\udfffb"', '{"\\udc00": 1}']
# ...and control characters in strings: valid JSON, so they may be accepted (never a 5xx, and
# the tenant must stay usable afterwards).
SPECIAL_JSON_STRINGS = ['"\\u0000"', '"a\\u001fb\\r\\n"', '"\\u007f\\u0085\\u2028"',
                        '"https://a.example/\\r\\nX: 1"']
SPECIAL_CURSORS = [base64.urlsafe_b64encode(raw).decode().rstrip("=") for raw in (
    b'{"page": Infinity, "limit": 1}', b'{"page": 1e400, "limit": 1}',
    b'{"page": 1, "limit": NaN}', b'{"page": 1.5, "limit": 5}', b'{"page": ' + b"9" * 5000
    + b', "limit": 5}', b'{"page": -1, "limit": 5}', b"[]", b'"\\ud800"',
)] + ["\u0000", "%00", "a" * 3000]
JUNK_VALUES: list[Any] = [None, 7, -1.5, True, "", [], {}, ["x"], {"k": "v"}]
JUNK_QUERY_NAMES = ["limit", "cursor", "user_ids", "statuses", "toolkit_slug", "toolkit_slugs",
                    "auth_config_ids", "show_disabled", "order_by", "order_direction", "search",
                    "revoke_on_delete", "redirect_url", "state", "code", "error",
                    "is_connected", "toolkits", "managed_by", "category"]


# -- a populated tenant ------------------------------------------------------------------------

@dataclass
class World:
    """Tenant ``key-a`` with one object of every kind, built over HTTP; the clock is frozen so
    no timer fires between a snapshot and the request it guards."""

    client: Client
    engine: Engine
    headers: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def project(self) -> Project:
        return self.engine.project(self.headers["x-api-key"])

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
        async with self.client.request(method, path, allow_redirects=False, **kwargs) as resp:
            raw = await resp.read()
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            return resp.status, body, resp.headers


async def post_json(world: World, path: str, body: dict[str, Any],
                    headers: dict[str, str] | None = None) -> dict[str, Any]:
    status, payload, _ = await world.request("POST", V31 + path, json=body,
                                             headers=headers or world.headers)
    assert status == 201, payload
    return dict(payload)


async def build_world(client: Client, engine: Engine, api_key: str = "key-a") -> World:
    world = World(client, engine, {"x-api-key": api_key})
    world.project.clock.freeze()
    managed = await post_json(world, "/auth_configs", {
        "toolkit": {"slug": "github"}, "auth_config": {"type": "use_composio_managed_auth"}})
    # linear: its provider issues refresh tokens too
    custom = await post_json(world, "/auth_configs", {
        "toolkit": {"slug": "linear"}, "auth_config": {
            "type": "use_custom_auth", "authScheme": "OAUTH2", "name": f"{api_key} config",
            "credentials": {"client_id": "my-client-id", "client_secret": SECRET,
                            "scopes": "read,write"}}})
    api_key_config = await post_json(world, "/auth_configs", {
        "toolkit": {"slug": "serpapi"}, "auth_config": {
            "type": "use_custom_auth", "authScheme": "API_KEY", "credentials": {}}})
    ids = world.ids
    ids["ac"] = managed["auth_config"]["id"]
    ids["ac_custom"] = custom["auth_config"]["id"]
    ids["ac_key"] = api_key_config["auth_config"]["id"]
    # An ACTIVE OAuth account, through the whole consent flow.
    done = await post_json(world, "/connected_accounts/link", {
        "auth_config_id": ids["ac_custom"], "user_id": f"{api_key} alice",
        "callback_url": "https://app.example/cb"})
    authorize, html = await to_consent(client, done["redirect_url"])
    callback = await decide(client, authorize, html)
    status, _, _ = await world.request("GET", path_of(callback))
    assert status == 302
    ids["ca"] = done["connected_account_id"]
    # A link still at the consent page: its token, OAuth state and authorize URL.
    pending = await post_json(world, "/connected_accounts/link", {
        "auth_config_id": ids["ac"], "user_id": f"{api_key} bob"})
    ids["ca_pending"] = pending["connected_account_id"]
    ids["link"] = pending["link_token"]
    authorize, _ = await to_consent(client, pending["redirect_url"])
    ids["authorize"] = authorize
    ids["state"] = parse_qs(urlsplit(authorize).query)["state"][0]
    # An API-key account.
    key_account = await post_json(world, "/connected_accounts", {
        "auth_config": {"id": ids["ac_key"]}, "connection": {
            "user_id": f"{api_key} carol", "state": {"authScheme": "API_KEY", "val": {
                "status": "ACTIVE", "generic_api_key": API_KEY_VALUE}}}})
    ids["ca_key"] = key_account["id"]
    session = await post_json(world, "/tool_router/session", {
        "user_id": f"{api_key} alice", "toolkits": {"enable": ["github"]}})
    ids["session"] = session["session_id"]
    ids["project"] = world.project.id
    return world


@pytest.fixture
async def world(aiohttp_client: Any) -> World:
    engine = Engine(seed=5)
    client = await aiohttp_client(create_app(engine, strict=True))
    return await build_world(client, engine)


def stored_state(project: Project) -> Any:
    """Everything a request could change or lose, as a comparable deep copy."""
    provider = project.provider
    return copy.deepcopy((
        project.auth_configs, project.accounts, project.deleted_accounts, project.links,
        project.sessions, project.clock.now(),
        {c: (r.used, r.revoked) for c, r in provider._codes.items()},
        dict(provider._spent_codes),
        {t: r.revoked_reason for t, r in {**provider._access, **provider._refresh}.items()},
        sorted(provider._apps), sorted(provider._pending),
    ))


def fill_path(route: Route, ids: dict[str, str], **override: str) -> str:
    """The route's path with real ids of the world (so requests reach deep into handlers)."""
    values = {
        "id": ids["ca"] if "/connected_accounts/" in route.path
        or "/connectedAccounts/" in route.path else ids["ac_custom"],
        "status": "ENABLED", "slug": "github", "session_id": ids["session"],
        "token": ids["link"], "project": ids["project"], "toolkit": "github",
    }
    path = route.path
    for name, value in {**values, **override}.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    # Parameters of routes added later that this table does not know: a plausible junk value.
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + "x" + path[end + 1:]
    return path


def path_params(route: Route) -> list[str]:
    return [part[1:-1] for part in route.path.split("/") if part.startswith("{")]


def expects_envelope(route: Route) -> bool:
    """API and control-plane routes answer Composio's envelope; pages and the provider don't."""
    return not route.operation.startswith(("flow.", "provider."))


def route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


def route_params(routes: list[Route]) -> list[Any]:
    """Every route; the /api/v3 twins of /api/v3.1 routes (same handlers) run under ``slow``,
    which CI runs, so the fast suite stays fast and nothing goes unchecked."""
    return [pytest.param(r, id=route_id(r), marks=[pytest.mark.slow]
                         if r.path.startswith("/api/v3/") else []) for r in routes]


# -- valid bodies, to mutate -------------------------------------------------------------------

def valid_body(operation: str, ids: dict[str, str]) -> dict[str, Any]:
    return copy.deepcopy({
        "auth_configs.create": {"toolkit": {"slug": "github"}, "auth_config": {
            "type": "use_custom_auth", "authScheme": "OAUTH2", "name": "n",
            "credentials": {"client_id": "c", "client_secret": "s", "scopes": ["repo"]}}},
        "auth_configs.update": {"type": "custom", "name": "renamed",
                                "credentials": {"client_id": "new-client"}},
        "connected_accounts.create": {"auth_config": {"id": ids["ac_key"]}, "connection": {
            "user_id": "u", "state": {"authScheme": "API_KEY", "val": {
                "status": "ACTIVE", "generic_api_key": "k"}}}},
        "connected_accounts.link": {"auth_config_id": ids["ac"], "user_id": "u",
                                    "callback_url": "https://app.example/cb"},
        "connected_accounts.update_status": {"enabled": False},
        "connected_accounts.update": {"alias": "work"},
        "connected_accounts.refresh": {"redirect_url": "https://app.example/r"},
        "tool_router.create_session": {"user_id": "u", "toolkits": {"enable": ["github"]}},
        "tool_router.link": {"toolkit": "github"},
        "tool_router.execute": {"tool_slug": "COMPOSIO_MANAGE_CONNECTIONS",
                                "arguments": {"toolkits": ["github"]}},
        "tool_router.execute_meta": {"slug": "COMPOSIO_MANAGE_CONNECTIONS",
                                     "arguments": {"toolkits": ["github"]}},
    }.get(operation, {}))


def request_validator(operation: str) -> Draft202012Validator | None:
    path = contracts_dir() / "requests" / f"{operation}.json"
    if not path.exists():
        return None
    return Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))


def key_paths(body: Any, prefix: tuple[str, ...] = (), depth: int = 3,
              ) -> Iterator[tuple[str, ...]]:
    if isinstance(body, dict) and depth:
        for key, value in body.items():
            yield (*prefix, key)
            yield from key_paths(value, (*prefix, key), depth - 1)


def replaced(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


def dropped(body: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    out = copy.deepcopy(body)
    target = out
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return out


@dataclass
class Case:
    """One bad request and what it must get: ``must_4xx`` when it is invalid for sure."""

    what: str
    method: str
    path: str
    body: bytes | None = None
    content_type: str | None = "application/json"
    query: dict[str, str] = field(default_factory=dict)
    must_4xx: bool = True
    status: int | None = None  # an exact status, when the rule fixes one (413)


def cases_for(route: Route, ids: dict[str, str]) -> Iterator[Case]:
    """Every bad request thrown at one route; 4xx-only ones first, then ones that may pass."""
    path = fill_path(route, ids)
    reads_body = route.json_body or route.form_body
    # Unicode and injection strings in every path parameter.
    for name in path_params(route):
        for junk in INJECTIONS:
            yield Case(f"{name}={junk[:20]!r}", route.method,
                       fill_path(route, ids, **{name: junk}), b"{}" if reads_body else None)
    # Huge bodies: a clear 413 wherever a body can be sent.
    huge = b'{"a": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    yield Case("huge body", route.method, path, huge, status=413)
    if route.json_body:
        for raw in MALFORMED_JSON:
            yield Case(f"malformed {raw[:12]!r}", route.method, path, raw)
        too_deep = nested(MAX_CONTROL_JSON_DEPTH + 1)
        yield Case("nested too deeply", route.method, path,
                   json.dumps({**valid_body(route.operation, ids), "x": too_deep}).encode())
        for value in NON_OBJECTS:
            yield Case(f"non-object {value!r}", route.method, path, json.dumps(value).encode())
        base = valid_body(route.operation, ids)
        validator = request_validator(route.operation)
        schema = validator.schema if validator is not None else {}
        for required in schema.get("required", []):
            yield Case(f"missing {required}", route.method, path,
                       json.dumps(dropped(base, (required,)) if required in base else base
                                  ).encode())
        for key_path in list(key_paths(base)):
            for value in [*JUNK_VALUES, INJECTIONS[0], INJECTIONS[8]]:
                body = replaced(base, key_path, value)
                invalid = validator is not None and not validator.is_valid(body)
                yield Case(f"{'.'.join(key_path)}={value!r:.20}", route.method, path,
                           json.dumps(body).encode(), must_4xx=invalid)
        # Special JSON values in place of each field (the first few fields for the ones the
        # parser refuses: they never reach the route's own code).
        marker = "__mockcomposio_special__"
        for i, key_path in enumerate([(), *key_paths(base)]):
            special = [*SPECIAL_JSON_REFUSED] if i < 3 else []
            special += SPECIAL_JSON_STRINGS
            for token in special:
                raw = (token if not key_path else json.dumps(replaced(base, key_path, marker))
                       .replace(f'"{marker}"', token))
                yield Case(f"{'.'.join(key_path) or '(body)'}={token[:12]}", route.method,
                           path, raw.encode(),
                           must_4xx=token in SPECIAL_JSON_REFUSED or not key_path)
        # Unknown fields are ignored, as the real API does (the SDK sends extras).
        yield Case("unknown field", route.method, path,
                   json.dumps({**base, "zz_unknown": {"x": 1}}).encode(), must_4xx=False)
    if route.form_body:
        yield Case("broken multipart", route.method, path, b"--zz\r\nbroken",
                   "multipart/form-data; boundary=zz")
        yield Case("unknown charset", route.method, path, b"a=1",
                   "application/x-www-form-urlencoded; charset=klingon")
        yield Case("invalid utf-8 form", route.method, path, b"pending=%ff%fe&decision=%ff",
                   "application/x-www-form-urlencoded", must_4xx=False)
    # Special cursors (routes that do not paginate ignore them).
    for cursor in SPECIAL_CURSORS:
        yield Case(f"cursor {cursor[:12]!r}", route.method, path,
                   b"{}" if route.json_body else None, query={"cursor": cursor},
                   must_4xx=False)
    # Junk query parameters (may be ignored by routes that take no query).
    for junk in (INJECTIONS[0], INJECTIONS[6], "-1", "9" * 40):
        yield Case(f"query {junk[:12]!r}", route.method, path,
                   b"{}" if route.json_body else None,
                   query={name: junk for name in JUNK_QUERY_NAMES}, must_4xx=False)


def check_error_shape(route: Route, status: int, body: Any, headers: Any) -> None:
    # The envelope is right everywhere: a request refused before its handler ran (no matching
    # route, unreadable body, too large) gets it whatever the route.
    is_envelope = isinstance(body, dict) and isinstance(body.get("error"), dict)
    if expects_envelope(route) or is_envelope:
        assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
        err = body["error"]
        assert err["status"] == status and err["message"] and err["slug"], err
        assert isinstance(err["code"], int) and isinstance(err["errors"], list), err
        assert err["request_id"] == headers["x-request-id"]
    elif route.operation in ("provider.token", "provider.revoke", "provider.userinfo"):
        assert isinstance(body, dict) and body.get("error"), body  # RFC 6749 §5.2 shape
    else:
        assert isinstance(body, str) and "<h1>" in body, body  # an error page saying why


@pytest.mark.parametrize("route", route_params(ROUTES))
async def test_bad_input_is_4xx_and_changes_nothing(world: World, route: Route) -> None:
    logging.getLogger("mockcomposio.http").disabled = True  # 500s are asserted, not logged
    try:
        failures = []
        for case in cases_for(route, world.ids):
            headers = dict(world.headers)
            if case.body is not None and case.content_type:
                headers["content-type"] = case.content_type
            before = stored_state(world.project)
            status, body, resp_headers = await world.request(
                case.method, case.path, data=case.body, params=case.query, headers=headers)
            problem = None
            if status >= 500:
                problem = "5xx"
            elif case.status is not None and status != case.status:
                problem = f"expected {case.status}"
            elif case.must_4xx and not 400 <= status < 500:
                problem = "expected a 4xx"
            elif 400 <= status < 500:
                try:
                    check_error_shape(route, status, body, resp_headers)
                except (AssertionError, KeyError) as exc:
                    problem = f"bad error shape: {exc}"
                if problem is None and stored_state(world.project) != before:
                    problem = "a 4xx changed stored state"
            if problem:
                failures.append(f"{case.what}: {problem}: {status} {str(body)[:160]}")
            elif status < 400 and not intact(world):
                # A lenient case succeeded and used up an object: go on from a fresh world.
                world = await rebuild(world)
        assert not failures, f"{route_id(route)}:\n" + "\n".join(failures)
        await assert_tenant_usable(world)
    finally:
        logging.getLogger("mockcomposio.http").disabled = False


async def assert_tenant_usable(world: World) -> None:
    """No poisoned tenant: after everything thrown at a route, every read of the tenant still
    answers (issue 19: accepted special values left tenants whose lists, pages, inspector and
    exports all answered 500)."""
    project = world.project
    paths = [f"{V31}/connected_accounts", f"{V31}/auth_configs", "/_mock/journal",
             "/_mock/state", "/_mock/inspector/data", "/_mock/clock"]
    paths += [f"{V31}/connected_accounts/{a}" for a in project.accounts]
    paths += [f"/link/{t}" for t, link in project.links.items() if not link.done][:20]
    for path in paths:
        status, body, _ = await world.request("GET", path, headers=world.headers)
        assert status < 500, (path, str(body)[:300])
        if not path.startswith("/link/"):
            assert status == 200, (path, str(body)[:300])


def intact(world: World) -> bool:
    """Every object of the world still in the state the cases expect to find it in."""
    p, ids = world.project, world.ids
    configs = [p.auth_configs.get(ids[k]) for k in ("ac", "ac_custom", "ac_key")]
    accounts = [p.accounts.get(ids[k]) for k in ("ca", "ca_pending", "ca_key")]
    link = p.links.get(ids["link"])
    return (all(ac is not None and not ac.deleted and ac.enabled for ac in configs)
            and [a.status if a else None for a in accounts] == ["ACTIVE", "INITIATED", "ACTIVE"]
            and ids["session"] in p.sessions and link is not None and not link.done
            and link.oauth_state == ids["state"])


async def rebuild(world: World) -> World:
    """A fresh tenant (new API key) on the same server, with the same kinds of objects."""
    key = f"{world.headers['x-api-key']}+"
    return await build_world(world.client, world.engine, key)


# -- names and ids round-trip exactly ----------------------------------------------------------

async def test_injection_strings_in_names_and_user_ids_round_trip(world: World) -> None:
    """Unicode and injection strings are data: stored and returned exactly, never executed."""
    for text in [s for s in INJECTIONS if s.strip() and "\x00" not in s and len(s) < 200]:
        created = await post_json(world, "/auth_configs", {
            "toolkit": {"slug": "github"},
            "auth_config": {"type": "use_composio_managed_auth", "name": text}})
        ac = created["auth_config"]["id"]
        status, got, _ = await world.request("GET", f"{V31}/auth_configs/{ac}",
                                             headers=world.headers)
        assert status == 200 and got["name"] == text
        linked = await post_json(world, "/connected_accounts/link",
                                 {"auth_config_id": ac, "user_id": text, "alias": text})
        status, listing, _ = await world.request(
            "GET", f"{V31}/connected_accounts", params={"user_ids": text.replace(",", "")},
            headers=world.headers)
        assert status == 200
        if "," not in text and text == text.strip():  # a comma-separated, trimmed filter
            assert [a["id"] for a in listing["items"]] == [linked["connected_account_id"]]
            assert listing["items"][0]["user_id"] == text
        status, page, _ = await world.request("GET", path_of(linked["redirect_url"]))
        assert status == 200 and html.escape(text) in page
        if "<" in text:
            assert text not in page


async def test_every_route_was_thrown_bad_input() -> None:
    """The enumeration itself: each route of the table yields bad cases (no silent skips)."""
    ids = {k: "x" for k in ("ca", "ac_custom", "ac", "ac_key", "session", "link", "project")}
    for route in ROUTES:
        cases = list(cases_for(route, ids))
        assert any(c.status == 413 for c in cases), route_id(route)
        if route.json_body:
            assert sum(c.must_4xx for c in cases) >= len(MALFORMED_JSON) + len(NON_OBJECTS)


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth - 1):
        value = {"k": value}
    return value


async def test_deep_bodies_at_the_limit_stay_usable_everywhere(world: World) -> None:
    """Regression: a body nested ~900 levels deep parsed fine, was stored, and then broke
    session creation and every later state export with a 500 (RecursionError). Bodies are now
    refused past MAX_JSON_DEPTH levels; one at the limit works end to end."""
    linked = await post_json(world, "/connected_accounts/link", {
        "auth_config_id": world.ids["ac"], "user_id": "deep",
        "connection_data": nested(MAX_JSON_DEPTH - 1)})
    session = await post_json(world, "/tool_router/session", {
        "user_id": "deep", "toolkits": {"enable": ["github"]},
        "hooks": nested(MAX_JSON_DEPTH - 1)})  # a free-form block (workbench is typed)
    assert linked["connected_account_id"] and session["session_id"]
    for path in (f"{V31}/connected_accounts", f"{V31}/tool_router/session/"
                 f"{session['session_id']}", "/_mock/state", "/_mock/state?secrets=true",
                 "/_mock/journal", "/_mock/inspector/data"):
        status, payload, _ = await world.request("GET", path, headers=world.headers)
        assert status == 200, (path, str(payload)[:200])
    stored_state(world.project)  # and our own deep copy
    # A state export holding such a body imports again (the control plane allows more).
    _, export, _ = await world.request("GET", "/_mock/state?secrets=true",
                                       headers=world.headers)
    status, payload, _ = await world.request("POST", "/_mock/state", headers=world.headers,
                                             json=export)
    assert status < 300, str(payload)[:300]
    status, payload, _ = await world.request(
        "POST", f"{V31}/connected_accounts/link", headers=world.headers,
        json={"auth_config_id": world.ids["ac"], "user_id": "deeper",
              "connection_data": nested(MAX_JSON_DEPTH + 1)})
    assert status == 400 and "nests deeper" in payload["error"]["message"]


async def test_junk_api_keys(world: World) -> None:
    """Blank keys are a 401 in the envelope; any other key, however odd, is its own empty
    tenant and sees nothing of the others."""
    for key in (" ", "\t", "   \t "):
        status, payload, _ = await world.request("GET", f"{V31}/auth_configs",
                                                 headers={"x-api-key": key})
        assert status == 401 and payload["error"]["slug"] == "Auth_NoAuthProvided"
    status, payload, _ = await world.request("GET", f"{V31}/auth_configs", headers={})
    assert status == 401
    before = stored_state(world.project)
    for key in (INJECTIONS[0], INJECTIONS[2], "k" * 8000, "KEY-A", "key-a\u00e9"):
        status, payload, _ = await world.request("GET", f"{V31}/connected_accounts",
                                                 headers={"x-api-key": key})
        assert status == 200 and payload["items"] == [], key[:20]
    assert stored_state(world.project) == before
