"""The docs' screenshots (docs/img/), taken by the browser on a server of their own (the
inspector lists every tenant of its server, so the session's shared one would show other
tests' data). Each test also checks what the picture must show."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mockcomposio import LiveServer, Tenant
from mockcomposio.engine import Engine

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
SIZE = {"width": 1100, "height": 760}


@pytest.fixture
def shot_tenant() -> Iterator[Tenant]:
    server = LiveServer(Engine(seed=20), strict=True).start()
    try:
        tenant = Tenant(server.engine, "docs-demo-key", server.base_url, seed=20)
        tenant.clock.freeze()
        tenant.clock.set("2030-01-01T09:00:00Z")  # the same times in every picture
        yield tenant
    finally:
        server.stop()


@pytest.fixture
def shot_page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=SIZE)
    context.set_default_timeout(10_000)
    # Nothing leaves the machine: other origins get an empty page.
    context.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url
                  else route.fulfill(status=200, body="", content_type="text/html"))
    try:
        yield context.new_page()
    finally:
        context.close()


def test_connect_link_page_screenshot(shot_page: Any, shot_tenant: Tenant) -> None:
    ac = shot_tenant.add_auth_config("github", scopes=["repo", "read:user", "gist"])
    _, redirect = shot_tenant.link(ac, "alice@example.com", "https://myapp.example/cb")
    shot_page.set_viewport_size({"width": 900, "height": 440})
    shot_page.goto(redirect)
    assert shot_page.get_by_role("heading").inner_text() == "Connect GitHub"
    assert shot_page.locator("#requested-scopes li").all_inner_texts() == [
        "repo", "read:user", "gist"]
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    shot_page.screenshot(path=str(DOCS_IMG / "connect-link.png"))
    shot_page.get_by_role("button", name="Continue to GitHub").click()
    shot_page.wait_for_url("**/_oauth/**/authorize?**")
    assert shot_page.get_by_role("heading").inner_text() == "Authorize Composio"
    shot_page.screenshot(path=str(DOCS_IMG / "consent.png"))
    for name in ("connect-link.png", "consent.png"):
        assert (DOCS_IMG / name).stat().st_size > 5_000


def test_inspector_screenshot(shot_page: Any, shot_tenant: Tenant) -> None:
    gh = shot_tenant.add_auth_config("github", scopes=["repo", "read:user"])
    cal = shot_tenant.add_auth_config("googlecalendar")
    shot_tenant.add_account(gh, "alice", scopes=["repo"])
    shot_tenant.add_account(cal, "alice")
    shot_tenant.add_account(gh, "bob", status="EXPIRED")
    shot_tenant.link(gh, "carol", "https://myapp.example/cb")
    # The page shows "updated <wall-clock time>": fixed, so the committed picture is the same
    # on every run.
    shot_page.clock.set_fixed_time("2030-01-01T09:00:00Z")
    shot_page.goto(f"{shot_tenant.base_url}/_mock/#key={shot_tenant.api_key}")  # one tenant
    section = shot_page.locator(f'section.tenant[data-tenant-id="{shot_tenant.project.id}"]')
    section.wait_for()
    section.locator("tr.pending-link").first.wait_for()
    assert section.locator("tr.account").count() == 4
    assert "docs-demo-key" not in shot_page.inner_text("body")  # the API key is masked
    shot_page.screenshot(path=str(DOCS_IMG / "inspector.png"), full_page=True)
    assert (DOCS_IMG / "inspector.png").stat().st_size > 5_000
