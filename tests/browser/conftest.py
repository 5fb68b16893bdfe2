"""Real-browser tests: headless Chromium (Debian's ``chromium`` package) driven by Playwright
for Python through ``executable_path`` (Playwright cannot download its own browser here).

One browser and one live server per test session; each test gets a fresh tenant (API key) and
a fresh browser context. Requests the browser makes to any other origin (the app's
``callback_url``) never leave the machine: they are answered by a stub page that records the
URL. A failing test leaves a screenshot of each of its pages in ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest

from mockcomposio.engine import Engine
from mockcomposio.http.policy import Policy
from mockcomposio.server import LiveServer
from mockcomposio.tenant import Tenant

CHROMIUM = os.environ.get("MOCKCOMPOSIO_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium calls Google's services, which the closed
# network refuses (slowly).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 10_000
APP_ORIGIN = "https://app.example"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives headless Chromium through Playwright "
        "(needs `apt-get install -y chromium` and `pip install playwright`)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if report.when == "call":  # read by the browsing fixture's teardown (screenshots)
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()


def _unavailable(reason: str) -> NoReturn:
    """No browser: a contributor's laptop skips these tests with the reason; CI (the ``CI``
    environment variable set, as every CI service does) fails, so a missing browser can't
    hide them there."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{reason} (CI is set: browser tests must run in CI)", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} They run, and must pass, in CI.")


# -- the browser and the server ----------------------------------------------------------------

# Package scope, not session: while Playwright's sync API is started, the main thread has a
# running asyncio loop (playwright/_impl/_greenlets.py: by design), and every async test run
# after it would fail with "Runner.run() cannot be called from a running event loop". One
# browser still serves every test of this package, which runs as one block.
@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium is not installed ({CHROMIUM} is missing). Install Debian's "
                     "package: `apt-get install -y chromium` (or set MOCKCOMPOSIO_CHROMIUM to "
                     "a Chromium binary). Playwright's own browser download is not used.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed: `pip install playwright` (do "
                     "not run `playwright install`; the tests use Debian's chromium).")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    # strict: every JSON response the pages trigger must match its contract.
    # all_tenants: the inspector tests look at tenants the test process made in-process.
    server = LiveServer(Engine(), strict=True, policy=Policy(all_tenants=True)).start()
    yield server
    server.stop()


@pytest.fixture
def tenant(live_server: LiveServer) -> Iterator[Tenant]:
    api_key = f"browser-{uuid.uuid4().hex}"
    t = Tenant(live_server.engine, api_key, live_server.base_url)
    _ = t.project
    yield t
    live_server.engine.drop(api_key)


# -- the API over HTTP -------------------------------------------------------------------------

@dataclass
class Api:
    """Plain HTTP calls to the fake's API as the tenant (``/api/v3.1``)."""

    base_url: str
    api_key: str

    def call(self, method: str, path: str, body: Any = None,
             expect: int | None = None) -> tuple[int, Any]:
        url = path if path.startswith("http") else f"{self.base_url}/api/v3.1{path}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method, headers={
            "x-api-key": self.api_key, "content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        payload = json.loads(raw) if raw else None
        if expect is not None:
            assert status == expect, f"{method} {path}: {status} {payload}"
        return status, payload

    def get(self, path: str) -> Any:
        return self.call("GET", path, expect=200)[1]

    def managed_config(self, toolkit: str = "github", scopes: list[str] | None = None,
                       name: str | None = None) -> str:
        auth_config: dict[str, Any] = {"type": "use_composio_managed_auth"}
        if scopes is not None:
            auth_config["credentials"] = {"scopes": scopes}
        if name is not None:
            auth_config["name"] = name
        _, body = self.call("POST", "/auth_configs", {
            "toolkit": {"slug": toolkit}, "auth_config": auth_config}, expect=201)
        return str(body["auth_config"]["id"])

    def custom_config(self, toolkit: str, auth_scheme: str, credentials: dict[str, Any],
                      name: str | None = None) -> str:
        auth_config: dict[str, Any] = {"type": "use_custom_auth", "authScheme": auth_scheme,
                                       "credentials": credentials}
        if name is not None:
            auth_config["name"] = name
        _, body = self.call("POST", "/auth_configs", {
            "toolkit": {"slug": toolkit}, "auth_config": auth_config}, expect=201)
        return str(body["auth_config"]["id"])

    def link(self, auth_config_id: str, user_id: str,
             callback_url: str | None = f"{APP_ORIGIN}/cb") -> dict[str, Any]:
        body: dict[str, Any] = {"auth_config_id": auth_config_id, "user_id": user_id}
        if callback_url is not None:
            body["callback_url"] = callback_url
        _, out = self.call("POST", "/connected_accounts/link", body, expect=201)
        return dict(out)

    def account(self, account_id: str) -> dict[str, Any]:
        return dict(self.get(f"/connected_accounts/{account_id}"))


@pytest.fixture
def api(tenant: Tenant) -> Api:
    return Api(tenant.base_url, tenant.api_key)


# -- pages ---------------------------------------------------------------------------------------

@dataclass
class Browsing:
    """One browser context: its pages, what left the fake's origin, and page errors."""

    context: Any
    server_origin: str
    left: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def new_page(self) -> Any:
        page = self.context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return page


def _route_outside(browsing: Browsing, route: Any) -> None:
    """Anything not addressed to the fake is answered here (never sent to the network): the
    app's callback_url gets a stub page, so tests can read where the flow ended."""
    url = route.request.url
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" == browsing.server_origin:
        route.continue_()
        return
    browsing.left.append(url)
    route.fulfill(status=200, content_type="text/plain", body=f"app callback stub: {url}")


@pytest.fixture
def browsing(chromium: Any, live_server: LiveServer,
             request: pytest.FixtureRequest) -> Iterator[Browsing]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    b = Browsing(context, live_server.base_url)
    context.route("**/*", lambda route: _route_outside(b, route))
    yield b
    if request.node.stash.get(_CALL_FAILED, False):
        ARTIFACTS.mkdir(exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        for i, page in enumerate(context.pages):
            try:
                page.screenshot(path=str(ARTIFACTS / f"{stem}-{i}.png"), full_page=True)
            except Exception as exc:  # a screenshot must never hide the test's own failure
                print(f"screenshot of page {i} failed: {exc}")
    context.close()


@pytest.fixture
def page(browsing: Browsing) -> Any:
    return browsing.new_page()
