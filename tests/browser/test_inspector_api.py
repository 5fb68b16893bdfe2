"""The inspector's JSON endpoints over plain HTTP (no browser): contracts, errors, redaction.

Sync on purpose: this package's browser fixture keeps Playwright's loop running on the main
thread (see conftest.py), so async tests do not belong here.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from mockcomposio import contracts
from mockcomposio.domain.journal import JournalEntry
from mockcomposio.server import LiveServer
from mockcomposio.tenant import Tenant

from .conftest import Api


def _call(url: str, method: str = "GET", body: Any = None, raw: bytes | None = None,
          content_type: str = "application/json") -> tuple[int, dict[str, str], Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"content-type": content_type})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=10) as resp:
            status, message, payload = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, message, payload = err.code, err.headers, err.read()
    headers = {k.lower(): v for k, v in message.items()}
    ctype = headers.get("content-type", "")
    return status, headers, json.loads(payload) if "json" in ctype else payload.decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _mine(base_url: str, tenant: Tenant) -> dict[str, Any]:
    status, _, data = _call(f"{base_url}/_mock/inspector/data")
    assert status == 200
    assert contracts.response_problems("inspector.data", 200, data) == []
    return next(t for t in data["tenants"] if t["id"] == tenant.project.id)


def test_data_shows_every_kind_of_object_and_matches_its_contract(
        live_server: LiveServer, api: Api, tenant: Tenant) -> None:
    ac = api.managed_config("github", scopes=["repo", "gist"])
    pending = api.link(ac, "user-a", callback_url="https://app.example/cb")
    active = tenant.add_account("gmail", "user-a")
    partial = tenant.add_account(ac, "user-b", scopes=["repo"])
    api.call("POST", "/tool_router/session",
             {"user_id": "user-b", "toolkits": {"enable": ["github"]}}, expect=201)
    mine = _mine(live_server.base_url, tenant)
    assert mine["api_key"] == tenant.api_key[:4] + "..."
    assert [u["user_id"] for u in mine["users"]] == ["user-a", "user-b"]
    accounts = {a["id"]: a for u in mine["users"] for a in u["accounts"]}
    assert accounts[pending["connected_account_id"]]["status"] == "INITIATED"
    assert accounts[partial.id]["requested_scopes"] == ["repo", "gist"]
    assert accounts[partial.id]["granted_scopes"] == ["repo"]
    gmail = accounts[active.id]
    assert active.token is not None and gmail["token_expires_at"] == active.token.expires_at
    assert [e["event"] for e in gmail["timeline"]][-1] == "tokens stored, ACTIVE"
    assert [link["connected_account_id"] for link in mine["pending_links"]] == [
        pending["connected_account_id"]]
    assert mine["pending_links"][0]["scopes"] == ["repo", "gist"]
    assert mine["pending_links"][0]["callback_url"] == "https://app.example/cb"
    assert [s["user_id"] for s in mine["sessions"]] == ["user-b"]
    assert {c["toolkit"] for c in mine["auth_configs"]} >= {"github", "gmail"}


def test_decide_allow_with_fewer_scopes(live_server: LiveServer, api: Api,
                                        tenant: Tenant) -> None:
    link = api.link(api.managed_config("github", scopes=["repo", "gist"]), "user-x")
    status, _, out = _call(
        f"{live_server.base_url}/_mock/inspector/links/{link['link_token']}/decide", "POST",
        {"decision": "allow", "scopes": ["gist"]})
    assert status == 200, out
    assert contracts.response_problems("inspector.decide_link", 200, out) == []
    assert out["status"] == "ACTIVE" and out["granted_scopes"] == ["gist"]
    assert out["redirect_url"].startswith("https://app.example/cb?")
    assert f"connected_account_id={link['connected_account_id']}" in out["redirect_url"]
    assert api.account(link["connected_account_id"])["granted_scopes"] == ["gist"]
    assert _mine(live_server.base_url, tenant)["pending_links"] == []


def test_decide_errors_use_the_envelope_and_change_nothing(
        live_server: LiveServer, api: Api, tenant: Tenant) -> None:
    link = api.link(api.managed_config("github"), "user-y")
    url = f"{live_server.base_url}/_mock/inspector/links/{link['link_token']}/decide"
    for body, raw in (({"decision": "maybe"}, None), ({"decision": "allow", "extra": 1}, None),
                      ({"scopes": ["repo"]}, None), (None, b"{not json"),
                      ({"decision": "allow", "scopes": "repo"}, None)):
        status, _, out = _call(url, "POST", body, raw)
        assert status == 400, (body, raw, out)
        assert out["error"]["status"] == 400 and out["error"]["message"]
    # what a cross-site page could send without a CORS preflight
    status, _, out = _call(url, "POST", {"decision": "allow"}, content_type="text/plain")
    assert status == 415 and out["error"]["slug"] == "Inspector_JsonRequired"
    assert api.account(link["connected_account_id"])["status"] == "INITIATED"

    status, _, out = _call(f"{live_server.base_url}/_mock/inspector/links/lk_nope/decide",
                           "POST", {"decision": "allow"})
    assert status == 404 and out["error"]["slug"] == "Inspector_LinkNotFound"

    assert _call(url, "POST", {"decision": "deny"})[2]["status"] == "FAILED"
    status, _, out = _call(url, "POST", {"decision": "allow"})
    assert status == 409 and "FAILED" in out["error"]["message"]
    assert api.account(link["connected_account_id"])["status"] == "FAILED"


def test_page_is_html_with_a_fresh_script_nonce(live_server: LiveServer) -> None:
    base = live_server.base_url
    status, headers, _ = _call(f"{base}/_mock")
    assert status == 302 and headers["location"] == "/_mock/"
    nonces = []
    for _ in range(2):
        status, headers, html = _call(f"{base}/_mock/")
        assert status == 200 and headers["content-type"].startswith("text/html")
        csp = headers["content-security-policy"]
        nonce = csp.split("'nonce-")[1].split("'")[0]
        assert f'<script nonce="{nonce}">' in html and "innerHTML" not in html
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_journal_entries_get_a_second_redaction_pass(live_server: LiveServer,
                                                      tenant: Tenant) -> None:
    project = tenant.project
    with project.lock:  # as if a writer had forgotten to redact
        project.journal.append(JournalEntry(
            seq=project.journal.next_seq(), at=project.now(), wall_time=time.time(),
            method="POST", path="/api/v3.1/auth_configs", query="code=abc123&page=2",
            status=201, duration_ms=1.0, request_id="r1", operation="auth_configs.create",
            request_body={"credentials": {"client_id": "cid", "client_secret": "cs-123456",
                                          "proxy_auth_key": "pk-123456"},
                          "items": [{"Authorization": "Bearer xyz"}], "name": "shown"},
            response_body={"error": {"code": 400, "message": "m"}}))
    entry = _mine(live_server.base_url, tenant)["journal"][0]
    assert entry["query"] == "code=REDACTED&page=2"
    assert entry["request_body"] == {
        "credentials": {"client_id": "cid", "client_secret": "REDACTED",
                        "proxy_auth_key": "REDACTED"},
        "items": [{"Authorization": "REDACTED"}], "name": "shown"}
    assert entry["response_body"] == {"error": {"code": 400, "message": "m"}}
