"""Hostile text everywhere a user or an app can put it, rendered in Chromium: nothing runs, and
the text is shown as text on every page (Connect Link, consent, error pages, inspector)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from mockcomposio.domain.journal import JournalEntry
from mockcomposio.server import LiveServer
from mockcomposio.tenant import Tenant

from .conftest import APP_ORIGIN, Api, Browsing

pytestmark = pytest.mark.browser

SCRIPT = "<script>window.__xss=1</script>"
IMG = '"><img src=x onerror=window.__xss=1>'
SVG = "'><svg/onload=window.__xss=1>"
# Scopes are split on spaces and commas, so their payloads have neither.
SCOPE_IMG = '"><img/src=x/onerror=window.__xss=1>'
TEXTAREA = "</textarea></title><script>window.__xss=1</script>"


def assert_inert(page: Any, *visible: str, scripts: int = 0) -> None:
    """No payload ran or became markup, and each ``visible`` string is on the page as text."""
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img, svg, iframe, object, embed").count() == 0
    assert page.locator("script").count() == scripts
    text = page.inner_text("body")
    for payload in visible:
        assert payload in text, f"{payload!r} is not shown as text"


def test_connect_link_and_callback_escape_user_text(
        page: Any, api: Api, tenant: Tenant, browsing: Browsing) -> None:
    ac = api.managed_config("github", scopes=["repo", SCRIPT, SCOPE_IMG], name=IMG)
    user_id = SCRIPT + IMG
    link = api.link(ac, user_id, callback_url=f"{APP_ORIGIN}/cb?next={SVG}")
    page.goto(link["redirect_url"])
    assert_inert(page, user_id, SCRIPT, SCOPE_IMG)
    assert page.locator("#requested-scopes li").all_inner_texts() == ["repo", SCRIPT, SCOPE_IMG]
    # The provider refuses scopes it does not offer: the account fails, the app is told.
    page.get_by_role("button", name="Continue to GitHub").click()
    page.wait_for_url(f"{APP_ORIGIN}/cb?**")
    assert "status=failed" in page.url
    account = api.account(link["connected_account_id"])
    assert account["status"] == "FAILED" and "invalid_scope" in account["status_reason"]
    assert browsing.errors == []


def test_consent_page_escapes_client_id_and_error_pages_escape_messages(
        page: Any, api: Api, tenant: Tenant) -> None:
    ac = api.custom_config("github", "OAUTH2", {"client_id": IMG, "client_secret": "s3cr3t-x"})
    link = api.link(ac, SVG)
    page.goto(link["redirect_url"])
    assert_inert(page, SVG)
    page.get_by_role("button", name="Continue to GitHub").click()
    page.wait_for_url("**/_oauth/**/authorize?**")
    assert_inert(page, f"Authorize {IMG}")
    assert page.title() == f"Authorize {IMG}"

    # A scripted provider error that is not a valid OAuth error code (it has a double quote)
    # comes back in the error page.
    page.evaluate("""(payload) => {
        const input = document.createElement("input");
        input.type = "hidden"; input.name = "error"; input.value = payload;
        document.querySelector("form").append(input);
    }""", IMG)
    page.get_by_role("button", name="Allow").click()
    page.get_by_role("heading", name="Invalid provider error").wait_for()
    assert_inert(page, IMG)

    # The provider's own error page echoes the client_id it was given.
    query = urlencode({"client_id": SCRIPT + SVG, "response_type": "code",
                       "redirect_uri": f"{APP_ORIGIN}/{IMG}", "state": SCRIPT})
    response = page.goto(f"{tenant.base_url}/_oauth/{tenant.project.id}/github/authorize?"
                         f"{query}")
    assert response is not None and response.status >= 400
    assert_inert(page, SCRIPT + SVG)


def test_error_pages_for_unknown_links_and_states(page: Any, tenant: Tenant) -> None:
    for path in (f"/link/{quote(SCRIPT, safe='')}", f"/api/v3/s/{quote(IMG, safe='')}",
                 "/api/v3.1/toolkits/auth/callback?" + urlencode({"state": SCRIPT, "code": IMG}),
                 f"/_oauth/{quote(SVG, safe='')}/github/authorize?client_id=x"):
        response = page.goto(tenant.base_url + path)
        assert response is not None and response.status in (400, 404), path
        # Defence in depth: the pages allow no script at all.
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert_inert(page)


@pytest.fixture
def hostile_tenant(live_server: LiveServer) -> Iterator[Tenant]:
    """A tenant whose very API key is a payload (the inspector shows it masked)."""
    api_key = SCRIPT + IMG
    t = Tenant(live_server.engine, api_key, live_server.base_url)
    _ = t.project
    yield t
    live_server.engine.drop(api_key)


def test_inspector_shows_hostile_data_as_text(
        page: Any, api: Api, tenant: Tenant, hostile_tenant: Tenant) -> None:
    ac = api.managed_config("github", scopes=["repo", SCRIPT, SCOPE_IMG], name=IMG)
    link = api.link(ac, SCRIPT, callback_url=f"{APP_ORIGIN}/cb?{SVG}")
    active = tenant.add_account("gmail", IMG)
    api.call("PATCH", f"/connected_accounts/{active.id}", {"alias": SVG}, expect=200)
    failed = tenant.add_account("github", SVG, status="FAILED", status_reason=TEXTAREA)
    api.call("POST", "/tool_router/session", {
        "user_id": SCRIPT, "toolkits": {"enable": ["github"]},
        # (no whitespace: a callback URL with spaces is refused, it is no URI)
        "manage_connections": {"callback_url": f"{APP_ORIGIN}/{SVG}"}}, expect=201)
    status, _ = api.call("GET", f"/connected_accounts/{quote(SCRIPT, safe='')}")
    assert status in (400, 404)
    project = tenant.project
    with project.lock:
        project.journal.append(JournalEntry(
            seq=project.journal.next_seq(), at=project.now(), wall_time=time.time(),
            method="GET", path=f"/api/v3.1/{SVG}", query=f"q={SCRIPT}", status=404,
            duration_ms=0.1, request_id=IMG, operation=None, hint=TEXTAREA,
            request_body={SCRIPT: IMG}, response_body={"error": {"message": SVG}}))
    hostile_tenant.add_account("github", "plain-user")

    page.goto(f"{tenant.base_url}/_mock/")
    section = page.locator(f'section.tenant[data-tenant-id="{project.id}"]')
    section.locator(f'tr.account[data-account-id="{failed.id}"]').wait_for()
    for summary in section.locator("summary").all():
        summary.click()
    assert_inert(page, SCRIPT, IMG, SVG, SCOPE_IMG, TEXTAREA, f"{APP_ORIGIN}/cb?{SVG}",
                 f"/api/v3.1/{SVG}?q={SCRIPT}", scripts=1)
    assert section.locator(f'tr.pending-link[data-token="{link["link_token"]}"] code'
                           ).inner_text() == SCRIPT
    assert section.locator(".user-id").all_inner_texts() == sorted([SCRIPT, IMG, SVG])
    hostile = page.locator(f'section.tenant[data-tenant-id="{hostile_tenant.project.id}"]')
    assert hostile.locator(".api-key").inner_text() == SCRIPT[:4] + "..."
    # Approving a link whose data is hostile works and still runs nothing.
    section.locator("tr.pending-link").get_by_role("button", name="Approve").click()
    section.locator(f'tr.account[data-account-id="{link["connected_account_id"]}"] '
                    ".account-status").filter(has_text="FAILED").wait_for()
    assert_inert(page, SCRIPT, scripts=1)
