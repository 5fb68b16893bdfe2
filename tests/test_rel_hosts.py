"""Host header and redirect URIs (issue 19, finding 4): requests naming a host that is not
loopback, an IP address or a configured name are refused before anything runs (DNS
rebinding); a managed OAuth app's redirect URIs are the server's own base URLs, whatever
Host headers arrive; and the base URL the server prints always works."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio.engine import Engine
from mockcomposio.http import policy as policy_mod
from mockcomposio.http.app import create_app
from mockcomposio.http.policy import Policy
from mockcomposio.server import LiveServer, base_urls

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]
V31 = "/api/v3.1"


async def test_foreign_hosts_are_refused_before_anything_runs(
        aiohttp_client: MakeClient) -> None:
    engine = Engine(seed=1)
    api = await aiohttp_client(create_app(engine, strict=True,
                                          policy=Policy(allowed_hosts=frozenset(
                                              {"mock.internal", ".ci.example"}))))
    refused = ["attacker.example", "attacker.example:80", "127.0.0.1.nip.io",
               "mock.internal.attacker.example", "ci.example.evil", ""]
    for host in refused:
        for method, path in (("GET", f"{V31}/auth_configs"), ("POST", "/_mock/reset"),
                             ("GET", "/_mock/inspector/data"), ("GET", "/nowhere")):
            resp = await api.request(method, path, headers={"host": host, "x-api-key": host
                                                           or "k"})
            assert resp.status == 403, (host, path)
            error = (await resp.json())["error"]
            assert error["slug"] == "Request_HostNotAllowed"
            assert "--allowed-host" in error["suggested_fix"]
    assert engine.projects == {}  # no tenant was created, nothing journaled

    allowed = ["127.0.0.1:8000", "localhost:8000", "LOCALHOST", "app.localhost:1",
               "[::1]:8000", "10.1.2.3:8000", "mock.internal:8000", "ci.example",
               "job-7.ci.example:9"]
    for i, host in enumerate(allowed):
        resp = await api.get(f"{V31}/auth_configs", headers={"host": host,
                                                            "x-api-key": f"k{i}"})
        assert resp.status == 200, (host, await resp.text())
    assert len(engine.projects) == len(allowed)


async def test_any_host_when_asked(aiohttp_client: MakeClient) -> None:
    api = await aiohttp_client(create_app(Engine(seed=1), strict=True,
                                          policy=Policy(allowed_hosts=frozenset({"*"}))))
    resp = await api.get(f"{V31}/auth_configs", headers={"host": "anything.example",
                                                        "x-api-key": "k"})
    assert resp.status == 200


def test_host_verdicts_are_remembered_within_a_bound() -> None:
    """Asked on every request, so remembered per Host header; a flood of distinct hostile
    names neither grows the memory without bound nor changes any verdict."""
    policy = Policy(allowed_hosts=frozenset({".corp.example"}))
    for i in range(3 * policy_mod.MAX_REMEMBERED_HOSTS):
        assert not policy.host_allowed(f"evil-{i}.example:8000")
        assert policy.host_allowed(f"127.0.0.{i % 250 + 1}:8000")
    assert len(policy._verdicts) == policy_mod.MAX_REMEMBERED_HOSTS
    for _ in range(2):  # the remembered answers are the computed ones
        assert policy.host_allowed("api.corp.example") and policy.host_allowed("[::1]:80")
        assert not policy.host_allowed("corp.example.evil") and not policy.host_allowed("")
        assert not policy.host_allowed("evil-0.example:8000")


def _authorize_redirect_uri(server: LiveServer, host: str, key: str) -> str:
    """Create a managed GitHub link and follow it to the provider with the given Host; the
    redirect_uri the provider is sent."""
    import json
    from urllib.parse import parse_qs, urlsplit

    def call(method: str, path: str, body: Any = None) -> Any:
        req = urllib.request.Request(server.base_url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"x-api-key": key, "host": host,
                                              "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    ac = call("POST", f"{V31}/auth_configs", {"toolkit": {"slug": "github"}})
    link = call("POST", f"{V31}/connected_accounts/link",
                {"auth_config_id": ac["auth_config"]["id"], "user_id": "u"})
    token = link["redirect_url"].rsplit("/", 1)[1]

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(f"{server.base_url}/link/{token}", data=b"", method="POST",
                                 headers={"host": host,
                                          "content-type": "application/x-www-form-urlencoded"})
    try:
        opener.open(req, timeout=10)
        raise AssertionError("expected a redirect to the provider")
    except urllib.error.HTTPError as err:
        assert err.code in (302, 303), err.read()
        location = err.headers["Location"]
    return parse_qs(urlsplit(location).query)["redirect_uri"][0]


def test_managed_apps_keep_a_fixed_set_of_redirect_uris() -> None:
    engine = Engine(seed=4)
    # Every Host accepted, so only the fixed set stands between a Host and a redirect URI.
    with LiveServer(engine, policy=Policy(allowed_hosts=frozenset({"*"}))) as server:
        port = server.base_url.rsplit(":", 1)[1]
        own = base_urls("127.0.0.1", int(port))
        assert engine.base_urls == own
        uris = [_authorize_redirect_uri(server, f"evil-{i}.example:{port}", "key-a")
                for i in range(20)]
        # An unknown host gets the server's first base URL, never its own.
        assert set(uris) == {f"{own[0]}/api/v3.1/toolkits/auth/callback"}
        assert _authorize_redirect_uri(server, f"localhost:{port}", "key-a") \
            == f"http://localhost:{port}/api/v3.1/toolkits/auth/callback"
        app = engine.projects["key-a"].provider.get_app("composio-managed-github")
        assert app is not None
        assert sorted(app.redirect_uris) == sorted(
            f"{base}{path}" for base in own
            for path in ("/api/v3.1/toolkits/auth/callback", "/api/v3/toolkits/auth/callback"))
        assert not any("evil" in uri for uri in app.redirect_uris)


def test_printed_base_url_is_always_usable() -> None:
    assert base_urls("0.0.0.0", 8000)[0] == "http://127.0.0.1:8000"
    assert base_urls("", 8000)[0] == "http://127.0.0.1:8000"
    assert base_urls("::", 8000)[0] == "http://[::1]:8000"
    assert base_urls("[::1]", 8000)[0] == "http://[::1]:8000"
    assert base_urls("10.0.0.5", 81)[0] == "http://10.0.0.5:81"
    assert "http://mock.internal:81" in base_urls("0.0.0.0", 81, frozenset({"mock.internal"}))


def test_serve_on_a_wildcard_address_prints_a_url_that_answers() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "mockcomposio", "serve", "--host",
                             "0.0.0.0", "--port", "0", "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and not base_url.endswith(":0"), \
            base_url
        with urllib.request.urlopen(f"{base_url}/_mock/health", timeout=10) as resp:
            assert resp.status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_serve_flags_reach_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--allowed-host, --admin-key (also from the environment) and --max-tenants, end to end."""
    from .test_state_file import serve

    def status(server: Any, path: str, headers: dict[str, str]) -> int:
        req = urllib.request.Request(server.base_url + path, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as err:
            return int(err.code)

    with serve(tmp_path, "--allowed-host", "mock.internal", "--admin-key", "s3cr3t",
               "--max-tenants", "5") as server:
        port = server.base_url.rsplit(":", 1)[1]
        key = {"x-api-key": "k"}
        assert status(server, "/_mock/health", {"host": f"mock.internal:{port}"}) == 200
        assert status(server, "/_mock/health", {"host": f"other.internal:{port}"}) == 403
        assert status(server, "/_mock/state?all=true", key) == 403
        assert status(server, "/_mock/state?all=true", {**key, "x-mock-admin-key": "s3cr3t"}) \
            == 200
        for i in range(20):
            assert status(server, "/api/v3.1/auth_configs", {"x-api-key": f"t{i}"}) == 200
        with urllib.request.urlopen(f"{server.base_url}/_mock/health", timeout=10) as resp:
            assert json.loads(resp.read())["projects"] <= 5
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(15) == 0
    monkeypatch.setenv("MOCKCOMPOSIO_ADMIN_KEY", "from-env")  # kept out of `ps`
    with serve(tmp_path) as server:
        assert status(server, "/_mock/state?all=true",
                      {"x-api-key": "k", "x-mock-admin-key": "from-env"}) == 200
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(15) == 0
