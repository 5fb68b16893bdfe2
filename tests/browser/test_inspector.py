"""The inspector page at /_mock/ in Chromium: live updates, approve / deny, masking, journal."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from mockcomposio.domain.journal import JournalEntry
from mockcomposio.tenant import Tenant

from .conftest import Api, Browsing

pytestmark = pytest.mark.browser


def _open(page: Any, tenant: Tenant) -> Any:
    """The inspector, with a marker on ``window`` that a reload would wipe."""
    page.goto(f"{tenant.base_url}/_mock/")
    section = page.locator(f'section.tenant[data-tenant-id="{tenant.project.id}"]')
    section.wait_for()
    page.evaluate("window.__sameDocument = true")
    return section


def _not_reloaded(page: Any) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


def _account_row(section: Any, account_id: str) -> Any:
    return section.locator(f'tr.account[data-account-id="{account_id}"]')


def test_approve_turns_the_pending_account_active_without_reload(
        page: Any, api: Api, tenant: Tenant, browsing: Browsing) -> None:
    ac = api.managed_config("github", scopes=["repo", "read:user"])
    link = api.link(ac, "user-approve")
    account_id = link["connected_account_id"]
    section = _open(page, tenant)
    row = _account_row(section, account_id)
    assert row.locator(".account-status").inner_text() == "INITIATED"
    pending = section.locator(f'tr.pending-link[data-account-id="{account_id}"]')
    assert pending.locator("code").inner_text() == "user-approve"

    pending.get_by_role("button", name="Approve").click()

    row.locator(".account-status", has_text="ACTIVE").wait_for()
    assert pending.count() == 0
    assert row.locator(".granted .scope").all_inner_texts() == ["repo", "read:user"]
    assert _not_reloaded(page)
    assert api.account(account_id)["status"] == "ACTIVE"
    assert page.locator("#flash").inner_text() == f"{account_id} → ACTIVE"
    assert browsing.errors == []


def test_deny_fails_the_account(page: Any, api: Api, tenant: Tenant) -> None:
    link = api.link(api.managed_config("github"), "user-deny")
    section = _open(page, tenant)
    section.locator("tr.pending-link").get_by_role("button", name="Deny").click()
    row = _account_row(section, link["connected_account_id"])
    row.locator(".account-status", has_text="FAILED").wait_for()
    assert "access_denied" in row.locator(".reason").inner_text()
    assert api.account(link["connected_account_id"])["status"] == "FAILED"


def test_unticked_scope_is_not_granted(page: Any, api: Api, tenant: Tenant) -> None:
    link = api.link(api.managed_config("github", scopes=["repo", "gist", "read:org"]), "user-s")
    section = _open(page, tenant)
    pending = section.locator("tr.pending-link")
    pending.locator('input[data-scope="gist"]').uncheck()
    pending.get_by_role("button", name="Approve").click()
    account_id = link["connected_account_id"]
    row = _account_row(section, account_id)
    row.locator(".account-status", has_text="ACTIVE").wait_for()
    assert row.locator(".granted .scope").all_inner_texts() == ["repo", "read:org"]
    assert row.locator(".requested .missing").inner_text() == "gist"
    assert tenant.granted_scopes(account_id) == ["repo", "read:org"]


def test_api_key_link_approved_with_placeholder_credentials(
        page: Any, api: Api, tenant: Tenant) -> None:
    link = api.link(api.custom_config("openai", "API_KEY", {}), "user-key", callback_url=None)
    section = _open(page, tenant)
    section.locator("tr.pending-link").get_by_role("button", name="Approve").click()
    _account_row(section, link["connected_account_id"]).locator(
        ".account-status", has_text="ACTIVE").wait_for()


def test_page_follows_changes_made_elsewhere(page: Any, api: Api, tenant: Tenant) -> None:
    section = _open(page, tenant)
    assert section.locator("tr.pending-link").count() == 0
    ac = api.managed_config("github")
    link = api.link(ac, "user-later")
    section.locator("tr.pending-link", has_text="user-later").wait_for()
    tenant.consent.complete(link["redirect_url"], decision="deny")  # the user, in another tab
    row = _account_row(section, link["connected_account_id"])
    row.locator(".account-status", has_text="FAILED").wait_for()
    assert section.locator("tr.pending-link").count() == 0
    # The virtual clock: a link opened now shows its expiry 10 minutes ahead, then expires.
    late = api.link(ac, "user-late")
    late_row = section.locator("tr.pending-link", has_text="user-late")
    late_row.wait_for()
    assert "(in 9m" in late_row.inner_text() or "(in 10m" in late_row.inner_text()
    tenant.advance(601)
    _account_row(section, late["connected_account_id"]).locator(
        ".account-status", has_text="EXPIRED").wait_for()
    assert "did not complete within 10 minutes" in _account_row(
        section, late["connected_account_id"]).locator(".reason").inner_text()
    assert _not_reloaded(page)


def test_timeline_and_token_expiry_on_the_virtual_clock(
        page: Any, tenant: Tenant) -> None:
    account = tenant.add_account("gmail", "user-time")  # gmail tokens expire after an hour
    assert account.token is not None and account.token.expires_at is not None
    section = _open(page, tenant)
    row = _account_row(section, account.id)
    assert "(in 59m" in row.inner_text() or "(in 1h" in row.inner_text()
    row.locator("summary").click()
    events = row.locator("details tr").all_inner_texts()
    assert any("ACTIVE" in e for e in events), events
    tenant.clock.expire_token(account.id)  # the engine refreshes the token
    row.locator("details[open] tr", has_text="access token refreshed").wait_for()
    assert row.locator("details").get_attribute("open") is not None  # kept open on re-render


def test_secrets_are_masked(page: Any, api: Api, tenant: Tenant, live_server: Any) -> None:
    client_secret = "cs-very-secret-value-0123456789"
    api_key_value = "sk-live-never-show-me-42"
    ac = api.custom_config("github", "OAUTH2", {"client_id": "my-client-id",
                                                 "client_secret": client_secret})
    key_ac = api.custom_config("openai", "API_KEY", {})
    _, created = api.call("POST", "/connected_accounts", {
        "auth_config": {"id": key_ac}, "connection": {"user_id": "user-secret", "state": {
            "authScheme": "API_KEY", "val": {"status": "ACTIVE",
                                             "generic_api_key": api_key_value}}}}, expect=201)
    oauth = tenant.add_account(ac, "user-oauth")
    assert oauth.token is not None
    section = _open(page, tenant)
    _account_row(section, created["id"]).wait_for()
    raw = page.evaluate("fetch('/_mock/inspector/data').then(r => r.text())")
    text = page.inner_text("body")
    for secret in (client_secret, api_key_value, tenant.api_key, oauth.token.access_token,
                   oauth.token.refresh_token or "no-refresh-token"):
        assert secret not in raw and secret not in text
    assert section.locator(".api-key").inner_text() == tenant.api_key[:4] + "..."
    shown = json.loads(raw)
    mine = next(t for t in shown["tenants"] if t["id"] == tenant.project.id)
    creds = next(c for c in mine["auth_configs"] if c["id"] == ac)["credentials"]
    assert creds["client_secret"] == client_secret[:4] + "..."
    assert creds["client_id"] == "my-client-id"


def test_journal_entries_are_shown_redacted(page: Any, tenant: Tenant) -> None:
    project = tenant.project
    with project.lock:
        seq = project.journal.next_seq()
        project.journal.append(JournalEntry(
            seq=seq, at=project.now(), wall_time=time.time(), method="POST",
            path="/api/v3.1/auth_configs", query="code=abcdef123&page=2", status=201,
            duration_ms=1.5, request_id="req-journal-1", operation="auth_configs.create",
            request_body={"auth_config": {"credentials": {"client_secret": "hidden-secret-1"}}},
            response_body={"auth_config": {"id": "ac_x"}}))
    section = _open(page, tenant)
    entry = section.locator(f'tr.journal-entry[data-seq="{seq}"]')
    assert "/api/v3.1/auth_configs?code=REDACTED&page=2" in entry.inner_text()
    entry.locator("summary").click()
    body = entry.locator("details").inner_text()
    assert "req-journal-1" in body and '"client_secret": "REDACTED"' in body
    assert "hidden-secret-1" not in page.inner_text("body")


def test_journal_shows_the_tenants_requests(page: Any, api: Api, tenant: Tenant) -> None:
    api.get("/auth_configs")
    api.call("GET", "/connected_accounts/ca_doesnotexist", expect=404)
    section = _open(page, tenant)
    rows = section.locator("tr.journal-entry")
    rows.first.wait_for()
    texts = rows.all_inner_texts()
    assert any("GET" in t and "/api/v3.1/auth_configs" in t and "200" in t for t in texts), texts
    assert any("/connected_accounts/ca_doesnotexist" in t and "404" in t for t in texts), texts
    # newest first, and the page keeps up with new requests
    api.get("/toolkits/github")
    section.locator("tr.journal-entry", has_text="/api/v3.1/toolkits/github").wait_for()
    assert "/toolkits/github" in rows.first.inner_text()


def test_filter_by_user_id(page: Any, tenant: Tenant) -> None:
    tenant.add_account("github", "alice-1")
    tenant.add_account("github", "bob-2")
    section = _open(page, tenant)
    assert section.locator(".user-id").all_inner_texts() == ["alice-1", "bob-2"]
    page.locator("#filter").fill("bob")
    assert section.locator(".user-id").all_inner_texts() == ["bob-2"]


def test_webhook_deliveries_show_with_their_attempts(page: Any, api: Api, tenant: Tenant,
                                                     browsing: Browsing) -> None:
    """A failed then retried delivery appears in the tenant's "Webhook deliveries" table,
    live, and the subscription's secret only masked."""
    hooks = tenant.webhooks
    tenant.clock.freeze()
    sub = hooks.subscribe()
    hooks.respond_with(503)
    account = tenant.add_account("gmail", "user-hook")
    section = _open(page, tenant)
    assert section.locator(".webhook-subscription code").nth(1).inner_text() == sub.webhook_url
    tenant.fault(preset="token_refresh_failure")
    tenant.clock.expire_token(account.id)
    [d] = hooks.wait_for(attempts=1, delivered=None)
    row = section.locator(f'tr.webhook-delivery[data-id="{d.id}"]')
    row.locator("td", has_text="#1 503").wait_for()
    hooks.run_retry()
    row.locator(".status", has_text="delivered").wait_for()
    assert row.locator("td").nth(4).inner_text() == "#1 503 · #2 200"
    assert account.id in row.inner_text()
    assert sub.secret not in page.content()
    assert _not_reloaded(page)
    assert browsing.errors == []
