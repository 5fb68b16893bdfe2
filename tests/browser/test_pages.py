"""The Connect Link page and the fake provider's consent page, clicked through in Chromium."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mockcomposio.tenant import Tenant

from .conftest import APP_ORIGIN, Api, Browsing

pytestmark = pytest.mark.browser


def _query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def _to_consent(page: Any, api: Api, scopes: list[str]) -> dict[str, Any]:
    """A github link opened in the browser and continued to the provider's consent page."""
    ac = api.managed_config("github", scopes=scopes)
    link = api.link(ac, "user-consent", callback_url=f"{APP_ORIGIN}/cb?keep=1")
    page.goto(link["redirect_url"])
    page.get_by_role("button", name="Continue to GitHub").click()
    page.wait_for_url("**/_oauth/**/authorize?**")
    return link


def test_connect_link_api_key_form_makes_the_account_active(
        page: Any, api: Api, browsing: Browsing) -> None:
    ac = api.custom_config("openai", "API_KEY", {})
    link = api.link(ac, "user-apikey")
    page.goto(link["redirect_url"])
    assert page.get_by_role("heading").inner_text() == "Connect OpenAI"
    assert "user-apikey" in page.inner_text("body")
    key_input = page.locator('input[name="generic_api_key"]')
    assert key_input.get_attribute("type") == "password"
    key_input.fill("sk-test-1234567890")
    page.get_by_role("button", name="Connect").click()
    page.wait_for_url(f"{APP_ORIGIN}/cb?**")
    query = _query(page.url)
    assert query["status"] == "success"
    assert query["connected_account_id"] == link["connected_account_id"]
    account = api.account(link["connected_account_id"])
    assert account["status"] == "ACTIVE"
    assert account["state"]["val"]["generic_api_key"] == "sk-t..."  # masked by the API
    assert browsing.left == [page.url] and browsing.errors == []


def test_connect_link_api_key_form_requires_the_field(page: Any, api: Api) -> None:
    ac = api.custom_config("openai", "API_KEY", {})
    link = api.link(ac, "user-empty")
    page.goto(link["redirect_url"])
    page.get_by_role("button", name="Connect").click()  # the browser refuses: field required
    assert page.url == link["redirect_url"]
    assert page.locator("input:invalid").count() == 1
    assert api.account(link["connected_account_id"])["status"] == "INITIATED"


def test_connect_link_oauth_shows_scopes_and_continues_to_consent(page: Any, api: Api) -> None:
    ac = api.managed_config("github", scopes=["repo", "read:user"])
    link = api.link(ac, "user-oauth")
    page.goto(link["redirect_url"])
    assert page.get_by_role("heading").inner_text() == "Connect GitHub"
    assert page.locator("#requested-scopes li").all_inner_texts() == ["repo", "read:user"]
    page.get_by_role("button", name="Continue to GitHub").click()
    page.wait_for_url("**/_oauth/**/authorize?**")
    assert page.get_by_role("heading").inner_text() == "Authorize Composio"
    boxes = page.locator('input[type="checkbox"][name="scope"]')
    assert [boxes.nth(i).get_attribute("value") for i in range(boxes.count())] == [
        "repo", "read:user"]
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    assert page.locator("form[method=post]").count() == 1
    assert api.account(link["connected_account_id"])["status"] == "INITIATED"


def test_consent_allow_connects_and_returns_to_the_app(page: Any, api: Api) -> None:
    link = _to_consent(page, api, ["repo", "read:user"])
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{APP_ORIGIN}/cb?**")
    query = _query(page.url)
    assert query == {"keep": "1", "status": "success",
                     "connected_account_id": link["connected_account_id"]}
    account = api.account(link["connected_account_id"])
    assert account["status"] == "ACTIVE"
    assert account["granted_scopes"] == ["repo", "read:user"]


def test_consent_deny_fails_the_account(page: Any, api: Api) -> None:
    link = _to_consent(page, api, ["repo"])
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(f"{APP_ORIGIN}/cb?**")
    query = _query(page.url)
    assert query["status"] == "failed"
    assert query["error"]
    account = api.account(link["connected_account_id"])
    assert account["status"] == "FAILED"
    assert "access_denied" in account["status_reason"]


def test_consent_unticked_scope_is_not_granted(page: Any, api: Api, tenant: Tenant) -> None:
    link = _to_consent(page, api, ["repo", "read:user", "gist"])
    page.locator('input[name="scope"][value="read:user"]').uncheck()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{APP_ORIGIN}/cb?**")
    assert _query(page.url)["status"] == "success"
    account_id = link["connected_account_id"]
    assert api.account(account_id)["granted_scopes"] == ["repo", "gist"]
    assert tenant.requested_scopes(account_id) == ["repo", "read:user", "gist"]
    assert tenant.granted_scopes(account_id) == ["repo", "gist"]


def test_link_without_callback_url_ends_on_the_connected_page(page: Any, api: Api) -> None:
    ac = api.managed_config("github")
    link = api.link(ac, "user-nocb", callback_url=None)
    page.goto(link["redirect_url"])
    page.get_by_role("button", name="Continue to GitHub").click()
    page.get_by_role("button", name="Allow").click()
    page.get_by_role("heading", name="Connected").wait_for()
    assert "You can close this tab" in page.inner_text("body")
    assert api.account(link["connected_account_id"])["status"] == "ACTIVE"


def test_expired_and_used_links_show_error_pages(page: Any, api: Api, tenant: Tenant) -> None:
    ac = api.managed_config("github")
    used = api.link(ac, "user-used")
    tenant.consent.complete(used["redirect_url"])
    response = page.goto(used["redirect_url"])
    assert response is not None and response.status == 410
    assert page.get_by_role("heading").inner_text() == "Link already used"

    expired = api.link(ac, "user-late")
    tenant.advance(601)  # links live 10 minutes on the tenant's virtual clock
    response = page.goto(expired["redirect_url"])
    assert response is not None and response.status == 410
    assert page.get_by_role("heading").inner_text() == "Link expired"
    assert api.account(expired["connected_account_id"])["status"] == "EXPIRED"
