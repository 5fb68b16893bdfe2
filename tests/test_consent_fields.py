"""The consent driver and scripted consent with the Connect Link's field step (connection
fields such as Zendesk's subdomain), and with callback identity verification."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from mockcomposio.testing import ConsentDriver, Outcome
from mockcomposio.testing.tenant import Tenant


def zendesk_link(tenant: Tenant, user: str = "u1") -> tuple[str, str]:
    ac = tenant.add_auth_config("zendesk")
    _, redirect = tenant.link(ac.id, user, callback_url="https://app.example/cb")
    account_id = next(a.id for a in tenant.accounts() if a.user_id == user)
    return account_id, redirect


def test_driver_fills_the_field_step(mock_composio: Tenant) -> None:
    account_id, redirect = zendesk_link(mock_composio)
    result = ConsentDriver(mock_composio.base_url).complete(redirect,
                                                            fields={"subdomain": "acme"})
    assert result.status == "success" and result.connected_account_id == account_id
    assert any("instance=acme.zendesk.com" in url for url in result.visited)
    assert mock_composio.account(account_id).connection_fields == {"subdomain": "acme"}


def test_driver_without_the_field_stops_on_the_step(mock_composio: Tenant) -> None:
    account_id, redirect = zendesk_link(mock_composio)
    result = mock_composio.consent.complete(redirect)
    assert not result.left_fake and result.status_code == 400
    assert "Sub Domain" in result.page_text
    assert mock_composio.account(account_id).status == "INITIATED"


def test_scripted_outcome_carries_the_fields(mock_composio: Tenant) -> None:
    account_id, _ = zendesk_link(mock_composio)
    [result] = mock_composio.complete_pending(Outcome.allow(fields={"subdomain": "globex"}))
    assert result.status == "success"
    account = mock_composio.account(account_id)
    assert account.status == "ACTIVE" and account.val["subdomain"] == "globex"


def test_auto_consent_fills_a_placeholder_subdomain(mock_composio: Tenant) -> None:
    account_id, _ = zendesk_link(mock_composio)
    [result] = mock_composio.complete_pending()
    assert result.status == "success"
    assert mock_composio.account(account_id).connection_fields == {
        "subdomain": "fake-subdomain"}


def test_scripted_consent_with_a_verifier_ends_at_the_verifier(mock_composio: Tenant) -> None:
    mock_composio.set_callback_verifier("https://app.example/verify")
    assert mock_composio.callback_verifier == "https://app.example/verify"
    ac = mock_composio.add_auth_config("github", custom=True)
    _, redirect = mock_composio.link(ac.id, "alice")
    result = mock_composio.consent.complete(redirect)
    query: dict[str, Any] = parse_qs(urlsplit(result.final_url).query)
    assert result.final_url.startswith("https://app.example/verify?")
    assert query["session_uri"][0].startswith("session_")
    mock_composio.set_callback_verifier(None)
    assert mock_composio.callback_verifier is None
