"""The inspector on a server without the cross-tenant opt-in (``serve`` by default, issue 19):
the page shows only the tenant whose API key it was given (``/_mock/#key=...`` or typed in),
and approving works for that tenant's links."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockcomposio.engine import Engine
from mockcomposio.http.policy import Policy
from mockcomposio.server import LiveServer
from mockcomposio.tenant import Tenant

from .conftest import TIMEOUT_MS

pytestmark = pytest.mark.browser
ADMIN_KEY = "inspector-admin"


@pytest.fixture(scope="module")
def scoped_server() -> Iterator[LiveServer]:
    # One tenant per key, except for requests with the admin key.
    server = LiveServer(Engine(), strict=True, policy=Policy(admin_key=ADMIN_KEY)).start()
    yield server
    server.stop()


def test_the_page_shows_only_the_tenant_of_its_key(chromium: Any,
                                                   scoped_server: LiveServer) -> None:
    base = scoped_server.base_url
    mine = Tenant(scoped_server.engine, "scope-key-mine", base)
    other = Tenant(scoped_server.engine, "scope-key-other", base)
    pending = mine.add_account("github", "user-mine", status="INITIATED")
    other.add_account("github", "user-other", status="INITIATED")
    context = chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{base}/_mock/")
        page.locator("p.empty", has_text="Enter your tenant's API key").wait_for()
        assert page.locator("section.tenant").count() == 0

        page.goto(f"{base}/_mock/#key={mine.api_key}")
        section = page.locator(f'section.tenant[data-tenant-id="{mine.project.id}"]')
        section.wait_for()
        assert page.locator("section.tenant").count() == 1
        assert "user-other" not in page.content()
        assert "#key" not in page.url  # the key does not stay in the address bar
        row = section.locator(f'tr.pending-link[data-account-id="{pending.id}"]')
        row.get_by_role("button", name="Approve").click()
        section.locator(f'tr.account[data-account-id="{pending.id}"] .account-status',
                        has_text="ACTIVE").wait_for()
        assert mine.project.accounts[pending.id].status == "ACTIVE"
        assert errors == []
    finally:
        context.close()


def test_the_admin_key_in_the_fragment_shows_every_tenant(chromium: Any,
                                                          scoped_server: LiveServer) -> None:
    base = scoped_server.base_url
    tenants = [Tenant(scoped_server.engine, f"admin-view-{i}", base) for i in range(2)]
    for i, t in enumerate(tenants):
        t.add_account("github", f"admin-user-{i}", status="INITIATED")
    context = chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{base}/_mock/#admin={ADMIN_KEY}")
        for t in tenants:
            page.locator(f'section.tenant[data-tenant-id="{t.project.id}"]').wait_for()
        assert ADMIN_KEY not in page.url
    finally:
        context.close()
