"""`mockcomposio serve` start-up stays lean (a check of what is imported, not a timing; the
timing is bench/startup.py), and the parts it loads on first use work on a fresh server."""

from __future__ import annotations

import gc
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .serving import modules_loaded_after, serve_subprocess

# Loaded by the first request that needs them, never by start-up: the OAuth provider (and
# faker/oauthlib behind it), the state file and seed file code, the schema validators
# (unless --strict), the contract tooling, YAML.
ON_DEMAND = ("faker", "oauthlib", "jsonschema", "jsonschema_rs", "referencing", "yaml",
             "mockcomposio.domain.provider", "mockcomposio.domain.provider.oauth_provider",
             "mockcomposio.domain.provider.records", "mockcomposio.fakedata",
             "mockcomposio.oauth_pkce", "mockcomposio.snapshot", "mockcomposio.seedfile",
             "mockcomposio.contracts.gen", "mockcomposio.contracts.check",
             "mockcomposio.contracts.diff", "mockcomposio.testing.consent")

# What `serve` imports and builds before it answers (cli._serve_locked, server.serve_forever).
START = """
import mockcomposio.cli, mockcomposio.server
from mockcomposio.engine import Engine
from mockcomposio.http.app import create_app
from mockcomposio.http.policy import Policy
engine = Engine()
app = create_app(engine, policy=Policy())
assert len(app.router.routes()) > 100
"""




def test_building_the_served_app_loads_nothing_used_only_on_demand() -> None:
    assert modules_loaded_after(START, ON_DEMAND) == []


def test_the_first_oauth_account_loads_the_provider() -> None:
    # the counter-check: the names above are the right ones (the flow does load them)
    code = START + """
from mockcomposio.testing.tenant import Tenant
t = Tenant(engine, 'k', 'http://127.0.0.1:9')
t.add_account(t.add_auth_config('github'), 'user-1')
"""
    assert modules_loaded_after(code, ("mockcomposio.domain.provider", "oauthlib", "faker")) == [
        "mockcomposio.domain.provider", "oauthlib", "faker"]


def _call(base_url: str, method: str, path: str, body: dict[str, object] | None = None,
          form: list[tuple[str, str]] | None = None) -> tuple[int, str, str]:
    """(status, final URL, text); redirects followed."""
    data = (json.dumps(body).encode() if body is not None else
            urllib.parse.urlencode(form).encode() if form is not None else None)
    ctype = "application/json" if body is not None else "application/x-www-form-urlencoded"
    url = path if path.startswith("http") else base_url + path
    request = urllib.request.Request(url, method=method, data=data,
                                     headers={"x-api-key": "startup-test",
                                              "content-type": ctype})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.geturl(), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.geturl(), err.read().decode()


def test_a_fresh_server_answers_routes_whose_code_loads_on_first_use(tmp_path: Path) -> None:
    with serve_subprocess(tmp_path / "serve.log") as base_url:
        # the first request of all is a whole OAuth flow: provider consent page and callback
        status, _, text = _call(base_url, "POST", "/api/v3.1/auth_configs",
                                {"toolkit": {"slug": "github"}})
        assert status == 201
        config_id = json.loads(text)["auth_config"]["id"]
        _, _, text = _call(base_url, "POST", "/api/v3.1/connected_accounts/link",
                           {"auth_config_id": config_id, "user_id": "user-1"})
        link = json.loads(text)
        _, consent_url, page = _call(base_url, "POST", link["redirect_url"],
                                     form=[("action", "continue")])
        assert "/_oauth/" in consent_url and 'name="decision"' in page
        pending = re.search(r'name="pending" value="([^"]+)"', page)
        assert pending is not None
        scopes = re.findall(r'name="scope" value="([^"]+)"', page)
        status, final_url, text = _call(base_url, "POST", consent_url,
                                        form=[("pending", pending.group(1)), ("decision", "allow"),
                                              *(("scope", scope) for scope in scopes)])
        assert status == 200, (final_url, text)
        _, _, text = _call(base_url, "GET",
                           f"/api/v3.1/connected_accounts/{link['connected_account_id']}")
        assert json.loads(text)["status"] == "ACTIVE"
        # then the other lazily-used parts: inspector page, v1 API, webhooks API
        status, _, page = _call(base_url, "GET", "/_mock/")
        assert status == 200 and "<html" in page.lower()
        status, _, text = _call(base_url, "GET", "/api/v1/apps")
        assert status == 200 and json.loads(text)
        status, _, text = _call(base_url, "GET",
                                "/api/v3.1/webhook_subscriptions/event_types")
        assert status == 200 and "items" in json.loads(text)


def test_serve_leaves_garbage_collection_as_it_was_when_it_stops_early() -> None:
    # start-up runs with the collector off and freezes what it imported; a refused start
    # must leave neither behind
    from mockcomposio.cli import main

    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert main(["serve", "--port", "0", "--max-tenants", "-1"]) == 2
    assert gc.isenabled() and gc.get_freeze_count() == 0
