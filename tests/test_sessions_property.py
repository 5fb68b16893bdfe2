"""Property test over session create (POST /tool_router/session) and update (PATCH
/tool_router/session/{id}) at a strict app: bodies drawn from the request contracts
(hypothesis-jsonschema), from what the SDKs send, and mutations of both.

Invariants: no response is a 5xx (so no Mock_ContractViolation either); every body the contract
refuses is a 4xx that changes nothing (no new session; the updated session keeps its config and
config_version); a successful update bumps config_version by exactly one.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from mockcomposio import contracts
from mockcomposio.engine import Engine
from mockcomposio.http.app import ENGINE_KEY, create_app
from mockcomposio.resources import contracts_dir

V31 = "/api/v3.1/tool_router/session"
KEY = {"x-api-key": "prop"}
TOOLKITS = ["github", "gmail", "slack", "serpapi", "hackernews", "notion"]
TAGS = ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint", "createHint",
        "updateHint"]
EXAMPLES = 150


def _schema(operation: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        (contracts_dir() / "requests" / f"{operation}.json").read_text())
    doc.pop("$schema", None)  # hypothesis-jsonschema reads the keywords, not the dialect URI
    return doc


CREATE = _schema("tool_router.create_session")
UPDATE = _schema("tool_router.update_session")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=6)


def sdk_like(ids: dict[str, str], *, update: bool) -> st.SearchStrategy[dict[str, Any]]:
    """Bodies shaped like composio 0.29 / @composio/core 0.21 send them."""
    slugs = st.lists(st.sampled_from(TOOLKITS), max_size=3, unique=True)
    optional: dict[str, st.SearchStrategy[Any]] = {
        "toolkits": slugs.map(lambda s: {"enable": s}) | slugs.map(lambda s: {"disable": s})
        | slugs.map(lambda s: {"require_approval": s}),
        "manage_connections": st.fixed_dictionaries({}, optional={
            "enable": st.booleans(), "callback_url": st.just("https://app.example/cb"),
            "enable_wait_for_connections": st.booleans(),
            "enable_connection_removal": st.booleans()}),
        "workbench": st.fixed_dictionaries({}, optional={
            "enable": st.booleans(), "enable_proxy_execution": st.booleans(),
            "auto_offload_threshold": st.integers(1, 10**6),
            "sandbox_size": st.sampled_from(["standard", "medium", "large", "xlarge"])}),
        "multi_account": st.fixed_dictionaries({}, optional={
            "enable": st.booleans(), "max_accounts_per_toolkit": st.integers(2, 10),
            "require_explicit_selection": st.booleans()}),
        "tags": st.lists(st.sampled_from(TAGS), max_size=3)
        | st.fixed_dictionaries({}, optional={"enable": st.lists(st.sampled_from(TAGS)),
                                              "disable": st.lists(st.sampled_from(TAGS))}),
        "tools": st.just({"gmail": {"enable": ["GMAIL_SEND_EMAIL"]}}),
        "auth_configs": st.just({"github": ids["ac"]}),
        "connected_accounts": st.just({"serpapi": [ids["ca"]]}),
        "proxy_execute": st.fixed_dictionaries({"enable": st.booleans()}),
        "preload": st.just({"tools": ["GMAIL_SEND_EMAIL"]}),
        "search": st.fixed_dictionaries({"enable": st.booleans()}),
        "execute": st.fixed_dictionaries({"enable_multi_execute": st.booleans()}),
    }
    if update:
        optional = {k: v | st.none() for k, v in optional.items()}
        return st.fixed_dictionaries({}, optional=optional)
    return st.fixed_dictionaries({"user_id": st.sampled_from(["u", "other"])},
                                 optional=optional)


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]],
            known: list[str]) -> Any:
    """A body with an unknown or misspelled key, or a known key of the wrong type."""
    body = dict(draw(base))
    action = draw(st.sampled_from(["misspell", "unknown", "retype", "nested"]))
    if action == "misspell":
        key = draw(st.sampled_from(known))
        body[key[:-1] if len(key) > 3 else key + "s"] = draw(json_values)
    elif action == "unknown":
        body[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
    elif action == "retype":
        body[draw(st.sampled_from(known))] = draw(json_values)
    else:
        block = draw(st.sampled_from(["workbench", "multi_account", "manage_connections"]))
        body[block] = {**(body.get(block) or {}), draw(st.sampled_from([
            "auto_offload_threshold", "max_accounts_per_toolkit", "sandbox_size", "enabled",
            "extra"])): draw(json_values)}
    return body


class Server:
    """A strict app on a private event loop, driven synchronously from hypothesis."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.app = create_app(Engine(seed=17), strict=True)

        async def start() -> TestClient[Any, Any]:  # the client needs a running loop
            client: TestClient[Any, Any] = TestClient(TestServer(self.app))
            await client.start_server()
            return client
        self.client = self.loop.run_until_complete(start())

    def send(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async def go() -> tuple[int, Any]:
            kwargs: dict[str, Any] = {"headers": KEY}
            if method != "GET":  # None is sent as the JSON literal null
                kwargs["data"] = json.dumps(body)
                kwargs["headers"] = {**KEY, "content-type": "application/json"}
            async with self.client.request(method, path, **kwargs) as resp:
                return resp.status, json.loads(await resp.text())
        return self.loop.run_until_complete(go())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture(scope="module")
def ids(server: Server) -> dict[str, str]:
    status, ac = server.send("POST", "/api/v3.1/auth_configs", {
        "toolkit": {"slug": "github"}, "auth_config": {"type": "use_composio_managed_auth"}})
    assert status == 201, ac
    status, key_ac = server.send("POST", "/api/v3.1/auth_configs", {
        "toolkit": {"slug": "serpapi"}, "auth_config": {
            "type": "use_custom_auth", "authScheme": "API_KEY", "credentials": {}}})
    assert status == 201, key_ac
    status, ca = server.send("POST", "/api/v3.1/connected_accounts", {
        "auth_config": {"id": key_ac["auth_config"]["id"]}, "connection": {
            "user_id": "u", "state": {"authScheme": "API_KEY", "val": {
                "status": "ACTIVE", "generic_api_key": "k"}}}})
    assert status == 201, ca
    return {"ac": ac["auth_config"]["id"], "ca": ca["id"]}


def _session_ids(server: Server) -> set[str]:
    return set(server.app[ENGINE_KEY].project(KEY["x-api-key"]).sessions)


def test_session_create_property(server: Server, ids: dict[str, str]) -> None:
    valid = jsonschema.Draft202012Validator(CREATE)
    statuses: Counter[str] = Counter()
    base = sdk_like(ids, update=False)
    bodies = from_schema(CREATE) | base | mutated(base, list(CREATE["properties"])) | json_values

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(body=bodies)
    def run(body: Any) -> None:
        before = _session_ids(server)
        status, payload = server.send("POST", V31, body)
        assert status < 500, (body, payload)
        ok = isinstance(body, dict) and valid.is_valid(body)
        statuses[f"{'valid' if ok else 'invalid'} {status // 100}xx"] += 1
        if not ok:
            assert 400 <= status < 500, (body, payload)
            assert _session_ids(server) == before
        if status == 201:
            assert payload["session_id"].startswith("trs_") and payload["config_version"] == 1
            assert payload["session_id"] not in before  # a new id on every create

    run()
    print(dict(statuses))
    assert statuses["valid 2xx"] >= 20 and statuses["invalid 4xx"] >= 20, statuses
    assert server.app[contracts.VIOLATIONS_KEY] == []


def test_session_update_property(server: Server, ids: dict[str, str]) -> None:
    valid = jsonschema.Draft202012Validator(UPDATE)
    status, session = server.send("POST", V31, {"user_id": "u", "toolkits": {"enable": ["github"]}})
    assert status == 201, session
    path = f"{V31}/{session['session_id']}"
    statuses: Counter[str] = Counter()
    base = sdk_like(ids, update=True)
    bodies = (from_schema(UPDATE) | base | mutated(base, list(UPDATE["properties"]))
              | json_values)

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(body=bodies)
    def run(body: Any) -> None:
        _, before = server.send("GET", path)
        status, payload = server.send("PATCH", path, body)
        assert status < 500, (body, payload)
        _, after = server.send("GET", path)
        ok = isinstance(body, dict) and valid.is_valid(body)
        statuses[f"{'valid' if ok else 'invalid'} {status // 100}xx"] += 1
        if status == 200:
            assert after["config_version"] == before["config_version"] + 1
            assert after["config"] == payload["config"]
        else:
            assert 400 <= status < 500, (body, payload)
            assert after == before  # a refused update changes nothing
        if not ok:
            assert 400 <= status < 500, (body, payload)

    run()
    print(dict(statuses))
    assert statuses["valid 2xx"] >= 20 and statuses["invalid 4xx"] >= 20, statuses
    assert server.app[contracts.VIOLATIONS_KEY] == []
