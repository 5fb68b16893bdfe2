"""Seed 003 with the legacy SDK: ``composio-core==0.7.22`` (``ComposioToolSet``, integrations,
entities, connections) against mockcomposio's v1 API, in its own virtual environment.

composio-core and the current SDK share the import name ``composio``, so the snippets run in
``.venv-v1/`` (created on first use, then reused) as a subprocess: ``tests/v1_snippets/
seed003.py``. A ``sitecustomize`` guard in that folder refuses every non-loopback lookup or
connection and logs it; the test fails on any entry. OAuth flows are completed here, with the
consent driver, while the subprocess waits in ``wait_until_active``.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mockcomposio.engine import Engine
from mockcomposio.server import LiveServer
from mockcomposio.testing import ConsentDriver

pytestmark = pytest.mark.sdk  # drives an official SDK in a subprocess

ROOT = Path(__file__).resolve().parents[1]
SNIPPETS = Path(__file__).resolve().parent / "v1_snippets"
VENV = ROOT / ".venv-v1"
REQUIREMENT = "composio-core==0.7.22"
API_KEY = "v1-sdk-key"
USER = "00000000-0000-0000-0000-000000000000"
CALLBACK = "https://myapp.example/callback"


def venv_python() -> Path:
    """The venv's interpreter, creating the venv (python -m venv + pip install) when missing.
    A lock file keeps parallel workers from building it twice."""
    python = VENV / "bin" / "python"
    with open(Path(tempfile.gettempdir()) / "mockcomposio-venv-v1.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _has_sdk(python):
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "--quiet", REQUIREMENT],
                           check=True)
    assert _has_sdk(python), f"{VENV} has no {REQUIREMENT}"
    return python


def _has_sdk(python: Path) -> bool:
    if not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('composio-core'))"],
        capture_output=True, text=True)
    return probe.returncode == 0 and probe.stdout.strip() == REQUIREMENT.split("==")[1]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    # strict: every v1 response the real SDK receives is checked against contracts/ too
    server = LiveServer(Engine(seed=11), strict=True).start()
    yield server
    server.stop()


def _env(base_url: str, home: Path, guard_log: Path) -> dict[str, str]:
    cache = home / ".composio"
    cache.mkdir(parents=True)
    # The 0.7 SDK fetches a Sentry DSN from backend.composio.dev at exit unless one is cached;
    # an empty cached DSN stops that (COMPOSIO_DISABLE_SENTRY only covers start-up).
    (cache / "user_data.json").write_text(json.dumps({"sentry": {"dsn": ""}}))
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(SNIPPETS),  # loads the sitecustomize network guard
        "PYTHONUNBUFFERED": "1",
        "MOCKCOMPOSIO_GUARD_LOG": str(guard_log),
        "COMPOSIO_BASE_URL": base_url + "/api",
        "COMPOSIO_API_KEY": API_KEY,
        "COMPOSIO_CACHE_DIR": str(cache),
        "COMPOSIO_LOGGING_LEVEL": "warning",
        "COMPOSIO_DISABLE_SENTRY": "true",
        "COMPOSIO_DISABLE_VERSION_CHECK": "true",
        # no COMPOSIO_NO_CACHE_REFRESH: the first-run cache refresh (apps, actions, triggers)
        # goes to the fake too, as it would in a fresh CI environment
    }


def _events(stream: IO[str]) -> Iterator[dict[str, Any]]:
    for line in stream:
        line = line.strip()
        if line.startswith("{"):
            yield json.loads(line)


def test_seed_003_snippets_run_against_the_v1_api(live: LiveServer, tmp_path: Path) -> None:
    python = venv_python()
    guard_log = tmp_path / "guard.log"
    proc = subprocess.Popen(
        [str(python), str(SNIPPETS / "seed003.py")], cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=_env(live.base_url, tmp_path / "home", guard_log))
    assert proc.stdout is not None
    consent = ConsentDriver(live.base_url)
    callbacks: dict[str, str] = {}
    final: dict[str, Any] | None = None
    try:
        for event in _events(proc.stdout):
            if event["event"] == "redirect":  # the user clicks Allow while the SDK polls
                request = event["request"]
                assert request["connectionStatus"] == "INITIATED"
                callbacks[event["app"]] = consent.complete(request["redirectUrl"]).final_url
            else:
                final = event
                break
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert final is not None and final["event"] == "result", (final, stderr)
    assert proc.returncode == 0, stderr
    guard_hits = guard_log.read_text() if guard_log.exists() else ""
    assert guard_hits == "", f"the 0.7 SDK tried to leave the machine:\n{guard_hits}"
    r = final["results"]
    assert r["guard_active"] is True

    # integrations: list, fetch_expected_integration_params, create (custom OAuth credentials)
    assert r["asana_has_integration"] is False and r["gmail_has_integration_before"] is False
    params = {p["name"]: p for p in r["gmail_expected_integration_params"]}
    assert list(params) == ["client_id", "client_secret", "oauth_redirect_uri", "scopes"]
    assert params["client_id"]["required"] and not params["client_id"]["expected_from_customer"]
    assert params["oauth_redirect_uri"]["default"] == \
        "https://backend.composio.dev/api/v1/auth-apps/add"
    gmail = r["gmail_integration"]
    assert gmail["appName"] == "gmail" and gmail["authScheme"] == "OAUTH2"
    assert gmail["enabled"] is True and gmail["expectedInputFields"] == []
    assert r["gmail_has_integration_after"] is True
    assert r["gmail_integration_reused"] == gmail["id"]

    # OAuth 2 via a Composio-managed integration: INITIATED, consent, ACTIVE
    assert r["github_active_before"] is False
    assert r["github_params"]["auth_scheme"] == "OAUTH2"
    assert r["github_params"]["expected_params"] == []
    assert r["github_params_by_integration"]["auth_scheme"] == "OAUTH2"
    github_id = r["github_request"]["connectedAccountId"]
    assert r["github_account"]["id"] == github_id
    assert r["github_account"]["status"] == "ACTIVE"
    assert r["github_account"]["connectionParams"]["access_token"]
    assert r["github_get_connection"]["id"] == github_id
    assert r["github_get_connection"]["clientUniqueUserId"] == USER
    assert r["github_active_after"] is True
    query = parse_qs(urlsplit(callbacks["github"]).query)
    assert query == {"step": ["github"], "status": ["success"],
                     "connectedAccountId": [github_id], "appName": ["github"]}

    # OAuth 2 through the custom Gmail integration (the developer's client id/secret)
    gmail_account = r["gmail_account"]
    assert gmail_account["status"] == "ACTIVE"
    assert gmail_account["integrationId"] == gmail["id"]
    assert parse_qs(urlsplit(callbacks["gmail"]).query)["connectedAccountId"] == \
        [gmail_account["id"]]

    # bearer token and API key: ACTIVE at once, no redirect
    # seed 003's Gmail bearer-token snippet, verbatim: Gmail (OAuth 2) also takes a bearer token
    (token,) = r["gmail_bearer_params"]["expected_params"]
    assert (token["name"], token["required"], token["expected_from_customer"]) == (
        "token", True, True)
    assert r["gmail_bearer_params"]["auth_scheme"] == "BEARER_TOKEN"
    assert "name='token'" in r["gmail_bearer_printed"]
    assert r["gmail_bearer_request"]["connectionStatus"] == "ACTIVE"
    assert r["gmail_bearer_request"]["redirectUrl"] is None
    assert '"connectionStatus": "ACTIVE"' in r["gmail_bearer_printed"]
    bearer = r["gmail_bearer_connection"]
    assert bearer["id"] == r["gmail_bearer_request"]["connectedAccountId"]
    assert bearer["clientUniqueUserId"] == "default" and bearer["status"] == "ACTIVE"
    assert bearer["appName"] == "gmail"
    stored = live.engine.project(API_KEY).accounts[bearer["id"]]
    assert stored.auth_scheme == "BEARER_TOKEN" and stored.status == "ACTIVE"
    assert r["notion_params"]["auth_scheme"] == "API_KEY"
    assert [p["name"] for p in r["notion_params"]["expected_params"]] == ["generic_api_key"]
    assert r["notion_request"] == {"connectionStatus": "ACTIVE", "connectedAccountId":
                                   r["notion_request"]["connectedAccountId"],
                                   "redirectUrl": None}
    assert "generic_api_key" in r["notion_missing_params_error"]
    assert r["notion_with_params"]["connectionStatus"] == "ACTIVE"
    assert r["notion_connection"]["id"] == r["notion_with_params"]["connectedAccountId"]
    assert r["user_connections"] == ["github", "gmail", "notion"]

    # the same engine behind both APIs: v1 objects are v3 auth configs / connected accounts
    project = live.engine.project(API_KEY)
    account = project.accounts[github_id]
    assert account.user_id == USER and account.status == "ACTIVE"
    assert project.auth_configs[account.auth_config_id].is_composio_managed
    assert project.auth_configs[gmail["id"]].credentials["client_id"] == "1234567890"
    assert project.contract_violations == []
    # ToolSet's first-run cache refresh was served by the fake (apps list → enum cache files)
    assert (tmp_path / "home" / ".composio" / "apps" / "GITHUB").exists()


def test_the_snippet_guard_refuses_and_records_outbound_hosts(tmp_path: Path) -> None:
    """The guard the snippets run under is real: a lookup of a public host fails and is
    logged, while loopback stays usable (the venv's interpreter, no composio import)."""
    guard_log = tmp_path / "guard.log"
    probe = (
        "import socket\n"
        "socket.getaddrinfo('127.0.0.1', 80)\n"
        "try:\n"
        "    socket.getaddrinfo('backend.composio.dev', 443)\n"
        "except OSError as exc:\n"
        "    print('refused:', exc)\n")
    done = subprocess.run([str(venv_python()), "-c", probe], capture_output=True, text=True,
                          env=_env("http://127.0.0.1:9", tmp_path / "home", guard_log))
    assert done.returncode == 0, done.stderr
    assert "refused: mockcomposio test guard" in done.stdout
    assert guard_log.read_text() == "getaddrinfo 'backend.composio.dev'\n"
