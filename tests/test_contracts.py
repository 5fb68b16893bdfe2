"""contracts/: every route has schemas, strict mode, `contracts check` and `contracts diff`."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from mockcomposio import contracts
from mockcomposio.cli import main
from mockcomposio.contract_check import check
from mockcomposio.contract_diff import diff_file
from mockcomposio.contract_gen import json_operations
from mockcomposio.domain import render
from mockcomposio.engine import Engine
from mockcomposio.http.app import create_app
from mockcomposio.http.routes import ROUTES
from mockcomposio.resources import contracts_dir
from mockcomposio.server import LiveServer

from .conftest import require_file, require_module

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "openapi-v3.json"
SPEC_HOW = "the shared spec belongs at ../shared/spec/openapi-v3.json beside the checkout"
KEY = {"x-api-key": "key-a"}
V31 = "/api/v3.1"


@pytest.fixture
async def strict_api(aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
                     ) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(Engine(seed=7), strict=True)
    client = await aiohttp_client(app)
    yield client
    assert app[contracts.VIOLATIONS_KEY] == [], "responses broke their contracts"


# -- the route table ---------------------------------------------------------------------------

def test_every_json_route_has_request_and_response_schemas() -> None:
    missing = []
    operations = {r.operation for r in ROUTES if contracts.is_json_operation(r.operation)}
    assert any(op.startswith("tool_router.") for op in operations)
    for route in ROUTES:
        if not contracts.is_json_operation(route.operation):
            assert not route.json_body, f"{route.operation}: JSON body on a non-JSON route"
            continue
        if route.json_body and not contracts.has_request_schema(route.operation):
            missing.append(f"requests/{route.operation}.json ({route.method} {route.path})")
        if not contracts.has_response_schema(route.operation):
            missing.append(f"responses/{route.operation}.json ({route.method} {route.path})")
            continue
        statuses = contracts.response_statuses(route.operation)
        if not any(s.startswith("2") for s in statuses) or "default" not in statuses:
            missing.append(f"responses/{route.operation}.json: needs a 2xx and 'default' "
                           f"(has {statuses})")
    assert not missing, "routes without contracts:\n" + "\n".join(missing)


def test_every_schema_is_valid_and_every_ref_resolves() -> None:
    from jsonschema import Draft202012Validator

    for path in contracts_dir().rglob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if path.name in ("provenance.json", "overrides.json"):
            continue
        if path.parent.name != "responses":
            Draft202012Validator.check_schema(doc)
    contracts.warm_up(sorted({op.operation for op in json_operations()}))


def test_provenance_records_spec_commit_and_sdk() -> None:
    prov = json.loads((contracts_dir() / "provenance.json").read_text(encoding="utf-8"))
    assert prov["spec"]["commit"].startswith("3e989ec1")
    assert prov["spec"]["date"] == "2026-01-16"
    assert prov["sdk"]["version"] == "2.0.0-rc.19"
    assert prov["overrides"]["not_applied"] == []
    assert prov["operations"]["auth_configs.get"]["sdk"].endswith("AuthConfigRetrieveResponse")
    if SPEC.exists():
        import hashlib

        assert prov["spec"]["sha256"] == hashlib.sha256(SPEC.read_bytes()).hexdigest()


def test_regeneration_reproduces_the_committed_contracts(tmp_path: Path) -> None:
    require_file(SPEC, SPEC_HOW)
    require_module("composio_client", "pip install -e '.[sdk]' (composio pulls it in)")
    from mockcomposio.contract_gen import generate, spec_meta_for

    shutil.copy(contracts_dir() / "overrides.json", tmp_path / "overrides.json")
    shutil.copytree(contracts_dir() / "mock", tmp_path / "mock")
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    generate(spec, tmp_path, spec_meta=spec_meta_for(SPEC, commit=None, date=None, source=None))
    for sub in ("responses", "sdk", "spec/requests"):
        for path in (contracts_dir() / sub).glob("*.json"):
            fresh = tmp_path / sub / path.name
            assert fresh.exists(), f"{sub}/{path.name} is no longer generated"
            assert json.loads(fresh.read_text()) == json.loads(path.read_text()), (
                f"{sub}/{path.name} differs from a fresh regeneration")
    assert (json.loads((tmp_path / "error.json").read_text())
            == json.loads((contracts_dir() / "error.json").read_text()))


# -- response validation -------------------------------------------------------------------------

def test_response_problems_catch_missing_fields_and_undocumented_statuses() -> None:
    ok = {"error": {"message": "m", "code": 302, "slug": "S", "status": 404,
                    "request_id": "r", "suggested_fix": "", "errors": []}}
    assert contracts.response_problems("auth_configs.get", 404, ok) == []
    no_slug = {"error": {k: v for k, v in ok["error"].items() if k != "slug"}}
    assert any("slug" in p for p in contracts.response_problems("auth_configs.get", 404, no_slug))
    assert contracts.response_problems("auth_configs.get", 204, {})[0].startswith("status 204")
    created = {"toolkit": {"slug": "github"}, "auth_config": {"id": "ac_1"}}
    problems = contracts.response_problems("auth_configs.create", 201, created)
    assert any("auth_scheme" in p for p in problems)
    assert contracts.response_problems("nope.nope", 200, {}) == [
        "no response contract for operation 'nope.nope'"]


async def test_strict_scenario_has_no_violations(strict_api: TestClient[Any, Any]) -> None:
    r = await strict_api.post(f"{V31}/auth_configs", headers=KEY, json={
        "toolkit": {"slug": "github"}, "auth_config": {"type": "use_composio_managed_auth"}})
    assert r.status == 201
    ac = (await r.json())["auth_config"]["id"]
    for path in (f"/auth_configs/{ac}", "/auth_configs", "/toolkits", "/toolkits/github",
                 "/connected_accounts"):
        assert (await strict_api.get(V31 + path, headers=KEY)).status == 200
    r = await strict_api.post(f"{V31}/connected_accounts/link", headers=KEY,
                              json={"auth_config_id": ac, "user_id": "u1"})
    assert r.status == 201
    ca = (await r.json())["connected_account_id"]
    assert (await strict_api.get(f"{V31}/connected_accounts/{ca}", headers=KEY)).status == 200
    r = await strict_api.post(f"{V31}/tool_router/session", headers=KEY,
                              json={"user_id": "u1", "toolkits": {"enable": ["github"]}})
    assert r.status == 201
    # errors: envelope checked against the operation's contract too
    assert (await strict_api.get(f"{V31}/auth_configs/ac_missing", headers=KEY)).status == 404
    assert (await strict_api.post(f"{V31}/auth_configs", headers=KEY, json={})).status == 400
    assert (await strict_api.get(f"{V31}/auth_configs")).status == 401
    assert (await strict_api.get("/_mock/health")).status == 200


async def test_strict_mode_refuses_a_broken_response(
        aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ac: Any) -> dict[str, Any]:
        return {"toolkit": {"slug": ac.toolkit}, "auth_config": {"id": ac.id}}

    monkeypatch.setattr(render, "auth_config_created", broken)
    body = {"toolkit": {"slug": "github"}, "auth_config": {"type": "use_composio_managed_auth"}}
    lenient = await aiohttp_client(create_app(Engine(seed=1)))
    assert (await lenient.post(f"{V31}/auth_configs", headers=KEY, json=body)).status == 201

    app: web.Application = create_app(Engine(seed=1), strict=True)
    client = await aiohttp_client(app)
    r = await client.post(f"{V31}/auth_configs", headers=KEY, json=body)
    assert r.status == 500
    err = (await r.json())["error"]
    assert err["slug"] == "Mock_ContractViolation"
    assert any("auth_scheme" in e for e in err["errors"])
    (violation,) = app[contracts.VIOLATIONS_KEY]
    assert violation.operation == "auth_configs.create" and violation.status == 201


async def test_revoked_api_key_account_matches_the_sdk_model(
        strict_api: TestClient[Any, Any]) -> None:
    r = await strict_api.post(f"{V31}/auth_configs", headers=KEY, json={
        "toolkit": {"slug": "serpapi"}, "auth_config": {
            "type": "use_custom_auth", "authScheme": "API_KEY", "credentials": {}}})
    ac = (await r.json())["auth_config"]["id"]
    r = await strict_api.post(f"{V31}/connected_accounts", headers=KEY, json={
        "auth_config": {"id": ac}, "connection": {"user_id": "u", "state": {
            "authScheme": "API_KEY", "val": {"status": "ACTIVE", "generic_api_key": "k"}}}})
    ca = (await r.json())["id"]
    refused = await strict_api.post(f"{V31}/connected_accounts/{ca}/revoke", headers=KEY)
    assert refused.status == 400
    assert (await refused.json())["error"]["slug"] == "ConnectedAccount_RevocationNotSupported"
    r = await strict_api.get(f"{V31}/connected_accounts/{ca}", headers=KEY)
    assert r.status == 200 and (await r.json())["status"] == "ACTIVE"
    assert strict_api.app[contracts.VIOLATIONS_KEY] == []


async def test_session_toolkits_require_approval_alone_is_accepted(
        strict_api: TestClient[Any, Any]) -> None:
    # v3.1 (composio-client SessionCreateParams.ToolkitsRequireApproval): require_approval may
    # come alone, and the config echoes it alone.
    r = await strict_api.post(f"{V31}/tool_router/session", headers=KEY,
                              json={"user_id": "u", "toolkits": {"require_approval": ["gmail"]}})
    assert r.status == 201, await r.text()
    assert (await r.json())["config"]["toolkits"] == {"require_approval": ["gmail"]}
    assert strict_api.app[contracts.VIOLATIONS_KEY] == []


@pytest.mark.parametrize("toolkits", [{}, {"enable": ["gmail"], "disable": ["github"]}])
async def test_session_toolkits_without_enable_or_disable_is_refused(
        strict_api: TestClient[Any, Any], toolkits: dict[str, Any]) -> None:
    # The spec requires enable or disable, and a session echoes enabled XOR disabled; the fake
    # used to accept {} and echo it in a shape the response contract forbids.
    r = await strict_api.post(f"{V31}/tool_router/session", headers=KEY,
                              json={"user_id": "u", "toolkits": toolkits})
    assert r.status == 400, await r.text()
    assert "enable" in (await r.json())["error"]["message"]
    assert strict_api.app[contracts.VIOLATIONS_KEY] == []


# -- contracts check / diff ----------------------------------------------------------------------

@pytest.fixture
def live() -> Iterator[LiveServer]:
    server = LiveServer(Engine(seed=3)).start()
    yield server
    server.stop()


def test_contracts_check_passes_against_live_server(live: LiveServer,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    report = check(live.base_url)
    assert report.violations == [], report.render()
    assert sum(1 for s in report.steps if not s.skipped) >= 25
    operations = {s.operation for s in report.steps}
    assert {"auth_configs.create", "auth_configs.get", "auth_configs.list", "toolkits.list",
            "toolkits.get", "connected_accounts.link", "connected_accounts.get",
            "connected_accounts.list", "tool_router.create_session"} <= operations
    assert main(["contracts", "check", "--base-url", live.base_url]) == 0
    assert "0 breaking the contracts" in capsys.readouterr().out


def test_contracts_check_reports_violations(live: LiveServer, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    original = render.connected_account

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        out = original(*args, **kwargs)
        out.pop("state")
        out["is_disabled"] = "no"
        return out

    monkeypatch.setattr(render, "connected_account", broken)
    assert main(["contracts", "check", "--base-url", live.base_url]) == 1
    out = capsys.readouterr().out
    assert "FAIL connected account: get" in out and "'state' is a required property" in out


def test_contracts_diff_and_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    require_file(SPEC, SPEC_HOW)
    report = diff_file(SPEC)
    served = {r.operation_id: r.served_as for r in report.coverage}
    assert served["postAuthConfigs"] == "auth_configs.create"
    assert served["postToolRouterSessionBySessionIdLink"] == "tool_router.link"
    assert served["getToolkitsCategories"] == "toolkits.categories"
    assert served["postToolkitsMulti"] == "toolkits.multi"
    assert served["getAuthSessionInfo"] is None
    assert all(r.response_schema == "yes" for r in report.coverage if r.served_as)
    assert all(r.request_schema != "MISSING" for r in report.coverage)
    # the contracts were generated from this very spec: no response field drifts
    assert all(op.response.empty() for op in report.operations)
    not_in_spec = {op.operation for op in report.operations if op.spec_operation_id is None}
    assert {"connected_accounts.revoke", "tool_router.delete_session"} <= not_in_spec
    assert main(["contracts", "diff", str(SPEC), "--coverage-only"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Coverage of the official spec") and "| `getAuthConfigs` |" in out


def test_contracts_diff_reports_drift(tmp_path: Path) -> None:
    require_file(SPEC, SPEC_HOW)
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    op = spec["paths"]["/api/v3/connected_accounts/link"]["post"]
    schema = op["responses"]["201"]["content"]["application/json"]["schema"]
    schema["properties"]["brand_new_field"] = {"type": "string"}
    schema["required"] = [*schema.get("required", []), "brand_new_field"]
    del spec["paths"]["/api/v3/auth_configs/{nanoid}"]["delete"]
    drifted = tmp_path / "spec.json"
    drifted.write_text(json.dumps(spec))
    report = diff_file(drifted)
    by_op = {o.operation: o for o in report.operations}
    assert by_op["connected_accounts.link"].response.added == ["brand_new_field"]
    assert by_op["auth_configs.delete"].spec_operation_id is None
    assert main(["contracts", "diff", str(drifted), "--fail-on-diff"]) == 1
