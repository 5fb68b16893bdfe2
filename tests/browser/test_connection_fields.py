"""The Connect Link page's field step (Zendesk subdomain) and its languages (es, zh), clicked
through in Chromium. Field names and button name/value stay the same in every language."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import APP_ORIGIN, Api, Browsing

pytestmark = pytest.mark.browser


def _query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def test_zendesk_field_step_then_consent_on_the_users_subdomain(
        page: Any, api: Api, browsing: Browsing) -> None:
    ac = api.managed_config("zendesk")
    link = api.link(ac, "user-zd")
    page.goto(link["redirect_url"])
    subdomain = page.locator('input[name="subdomain"]')
    assert subdomain.get_attribute("required") is not None
    page.get_by_role("button", name="Continue").click()  # empty: the browser refuses
    assert page.url == link["redirect_url"] and page.locator("input:invalid").count() == 1
    subdomain.fill("acme.zendesk.com")  # a full host: the server explains what it wants
    page.get_by_role("button", name="Continue").click()
    assert "name only" in page.inner_text("body")
    page.locator('input[name="subdomain"]').fill("acme")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/_oauth/**/authorize?**")
    assert _query(page.url)["instance"] == "acme.zendesk.com"
    assert page.locator("#provider-instance").inner_text() == "acme.zendesk.com"
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{APP_ORIGIN}/cb?**")
    assert _query(page.url)["status"] == "success"
    account = api.account(link["connected_account_id"])
    assert account["status"] == "ACTIVE" and account["state"]["val"]["subdomain"] == "acme"
    assert browsing.errors == []


@pytest.mark.parametrize(("locale", "heading", "button", "lang"), [
    ("es", "Conectar GitHub", "Continuar a GitHub", "es"),
    ("zh", "连接 GitHub", "继续前往 GitHub", "zh-CN"),
])
def test_connect_link_in_spanish_and_chinese(page: Any, api: Api, locale: str, heading: str,
                                             button: str, lang: str) -> None:
    link = api.link(api.managed_config("github"), "user-i18n")
    page.goto(link["redirect_url"] + f"?locale={locale}")
    assert page.get_by_role("heading").inner_text() == heading
    assert page.locator("html").get_attribute("lang") == lang
    continue_button = page.get_by_role("button", name=button)
    # Same contract as the English page: drivers post action=continue.
    assert continue_button.get_attribute("name") == "action"
    assert continue_button.get_attribute("value") == "continue"
    continue_button.click()
    page.wait_for_url("**/_oauth/**/authorize?**")


def test_browser_language_picks_the_page_language(chromium: Any, api: Api) -> None:
    context = chromium.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        link = api.link(api.managed_config("zendesk"), "user-zh")
        page.goto(link["redirect_url"])
        assert page.get_by_role("heading").inner_text() == "连接 Zendesk"
        button = page.get_by_role("button", name="继续")
        assert button.get_attribute("value") == "continue"
        assert page.locator('input[name="subdomain"]').count() == 1  # field names unchanged
        # An explicit ?locale= wins over the browser's language.
        page.goto(link["redirect_url"] + "?locale=es")
        assert page.get_by_role("heading").inner_text() == "Conectar Zendesk"
        page.locator('input[name="subdomain"]').fill("bad host")
        page.get_by_role("button", name="Continuar").click()
        # The form posts back to the same URL, so the step is shown again in Spanish.
        assert page.get_by_role("heading").inner_text() == "Conectar Zendesk"
    finally:
        context.close()
