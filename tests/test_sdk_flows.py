"""The whole redirect flow with the official SDK: link / initiate → Connect Link → fake
provider consent → Composio callback → the app's callback_url → wait_for_connection."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mockcomposio.tenant import Tenant

from .conftest import require_module

composio = require_module("composio", "end-to-end tests need: pip install -e '.[sdk]'")

pytestmark = pytest.mark.sdk
APP_CALLBACK = "https://myapp.example/auth/callback?source=onboarding"


def managed(sdk: Any, toolkit: str, **credentials: Any) -> Any:
    options: dict[str, Any] = {"type": "use_composio_managed_auth"}
    if credentials:
        options["credentials"] = credentials
    return sdk.auth_configs.create(toolkit=toolkit, options=options)


def test_link_consent_callback_active(sdk: Any, mock_composio: Tenant) -> None:
    ac = managed(sdk, "github")
    request = sdk.connected_accounts.link(user_id="user_123", auth_config_id=ac.id,
                                          callback_url=APP_CALLBACK)
    assert request.status == "INITIATED" and request.redirect_url.startswith(
        mock_composio.base_url + "/link/lk_")
    result = mock_composio.consent.complete(request.redirect_url)
    assert result.left_fake
    assert result.final_url.startswith("https://myapp.example/auth/callback?")
    assert result.query["source"] == "onboarding"  # the app's own query is kept
    assert result.status == "success" and result.connected_account_id == request.id
    account = request.wait_for_connection(timeout=5)
    assert account.status == "ACTIVE"
    assert account.state.val.access_token  # masked, but present
    got = sdk.connected_accounts.get(request.id)
    assert got.status == "ACTIVE" and got.user_id == "user_123"
    # A second link for the same user and config trips the SDK's client-side guard, which
    # relies on the server honouring the list filters.
    with pytest.raises(composio.exceptions.ComposioMultipleConnectedAccountsError):
        sdk.connected_accounts.link(user_id="user_123", auth_config_id=ac.id)


def test_initiate_on_custom_oauth2_config(sdk: Any, mock_composio: Tenant) -> None:
    ac = sdk.auth_configs.create(toolkit="notion", options={
        "type": "use_custom_auth", "auth_scheme": "OAUTH2",
        "credentials": {"client_id": "notion-client", "client_secret": "notion-secret",
                        "oauth_redirect_uri":
                            "https://backend.composio.dev/api/v3/toolkits/auth/callback"}})
    request = sdk.connected_accounts.initiate(user_id="u1", auth_config_id=ac.id,
                                              callback_url="https://myapp.example/cb")
    assert request.status == "INITIATED"
    result = mock_composio.consent.complete(request.redirect_url)
    # The legacy initiate callback speaks camelCase.
    assert result.query["status"] == "success"
    assert result.query["connectedAccountId"] == request.id
    assert request.wait_for_connection(timeout=5).status == "ACTIVE"


def test_initiate_on_managed_oauth_is_retired(sdk: Any) -> None:
    ac = managed(sdk, "github")
    with pytest.raises(composio.exceptions.ComposioError) as info:
        sdk.connected_accounts.initiate(user_id="u1", auth_config_id=ac.id)
    assert "connected_accounts/link" in str(info.value)


def test_deny_marks_failed_and_wait_raises(sdk: Any, mock_composio: Tenant) -> None:
    ac = managed(sdk, "gmail")
    request = sdk.connected_accounts.link(user_id="u2", auth_config_id=ac.id,
                                          callback_url="https://myapp.example/cb")
    result = mock_composio.consent.complete(request.redirect_url, decision="deny")
    assert result.status == "failed" and "access_denied" in (result.error or "")
    assert result.connected_account_id == request.id
    with pytest.raises(composio.exceptions.SDKError):
        request.wait_for_connection(timeout=5)
    account = sdk.connected_accounts.get(request.id)
    assert account.status == "FAILED" and "access_denied" in account.status_reason


def test_fewer_scopes_are_recorded(sdk: Any, mock_composio: Tenant) -> None:
    ac = managed(sdk, "github", scopes="repo,read:org,read:user")
    request = sdk.connected_accounts.link(user_id="u3", auth_config_id=ac.id)
    result = mock_composio.consent.complete(request.redirect_url, scopes=["repo"])
    assert result.status is None and "Connected" in result.page_text  # no callback_url
    account = mock_composio.account(request.id)
    assert account.requested_scopes == ["repo", "read:org", "read:user"]
    assert account.granted_scopes == ["repo"]
    raw = sdk.client.get(f"/api/v3.1/connected_accounts/{request.id}", cast_to=object)
    assert raw["requested_scopes"] == ["repo", "read:org", "read:user"]
    assert raw["granted_scopes"] == ["repo"]


def test_seed000_scope_override_reaches_provider(sdk: Any, mock_composio: Tenant) -> None:
    ac = sdk.auth_configs.create(toolkit="hubspot", options={
        "type": "use_composio_managed_auth", "name": "HubSpot",
        "credentials": {"scopes": "sales-email-read,tickets"}})
    request = sdk.connected_accounts.link(user_id="u4", auth_config_id=ac.id)
    result = mock_composio.consent.complete(request.redirect_url)
    authorize = next(u for u in result.visited if "/authorize?" in u)
    scope = parse_qs(urlsplit(authorize).query)["scope"][0]
    assert scope.split(" ") == ["sales-email-read", "tickets"]
    assert mock_composio.account(request.id).granted_scopes == ["sales-email-read", "tickets"]


def test_scope_update_affects_only_new_connections(sdk: Any, mock_composio: Tenant) -> None:
    ac = sdk.auth_configs.create(toolkit="github", options={
        "type": "use_custom_auth", "auth_scheme": "OAUTH2",
        "credentials": {"client_id": "gh", "client_secret": "gh-secret",
                        "scopes": "repo,read:org"}})
    first = sdk.connected_accounts.link(user_id="u5", auth_config_id=ac.id)
    mock_composio.consent.complete(first.redirect_url)
    sdk.auth_configs.update(ac.id, options={"type": "custom",
                                            "credentials": {"scopes": "repo,read:org,read:user"}})
    second = sdk.connected_accounts.link(user_id="u6", auth_config_id=ac.id)
    mock_composio.consent.complete(second.redirect_url)
    assert mock_composio.account(first.id).granted_scopes == ["repo", "read:org"]
    assert mock_composio.account(second.id).granted_scopes == ["repo", "read:org", "read:user"]
    assert mock_composio.account(first.id).status == "ACTIVE"


def test_disable_refuses_new_links_old_accounts_keep_working(sdk: Any,
                                                           mock_composio: Tenant) -> None:
    ac = managed(sdk, "slack")
    old = sdk.connected_accounts.link(user_id="u7", auth_config_id=ac.id)
    mock_composio.consent.complete(old.redirect_url)
    in_flight = sdk.connected_accounts.link(user_id="u8", auth_config_id=ac.id)
    sdk.auth_configs.disable(ac.id)
    with pytest.raises(composio.exceptions.ComposioError) as info:
        sdk.connected_accounts.link(user_id="u9", auth_config_id=ac.id)
    assert ac.id in str(info.value) and "disabled" in str(info.value)
    assert sdk.connected_accounts.get(old.id).status == "ACTIVE"
    assert sdk.connected_accounts.get(old.id).auth_config.is_disabled is True
    # A link opened before the disable can't produce an ACTIVE account.
    page = mock_composio.consent.complete(in_flight.redirect_url)
    assert page.status_code == 403
    assert sdk.connected_accounts.get(in_flight.id).status == "INITIATED"
    sdk.auth_configs.enable(ac.id)
    again = sdk.connected_accounts.link(user_id="u9", auth_config_id=ac.id)
    mock_composio.consent.complete(again.redirect_url)
    assert again.wait_for_connection(timeout=5).status == "ACTIVE"


def test_api_key_bearer_basic_active_at_once(sdk: Any) -> None:
    from composio.core.models.connected_accounts import auth_scheme

    pplx = sdk.auth_configs.create(toolkit="perplexityai", options={
        "type": "use_custom_auth", "auth_scheme": "API_KEY", "credentials": {}})
    request = sdk.connected_accounts.initiate(
        user_id="u10", auth_config_id=pplx.id,
        config=auth_scheme.api_key({"generic_api_key": "pplx-abcdef"}))
    assert request.status == "ACTIVE" and request.redirect_url is None
    account = sdk.connected_accounts.get(request.id)
    assert account.status == "ACTIVE"
    assert account.state.val.generic_api_key == "pplx..."  # masked as the real API does
    neon = sdk.auth_configs.create(toolkit="neon", options={
        "type": "use_custom_auth", "auth_scheme": "BEARER_TOKEN", "credentials": {}})
    bearer = sdk.connected_accounts.initiate(
        user_id="u10", auth_config_id=neon.id,
        config=auth_scheme.bearer_token({"token": "neon-token-123"}))
    assert bearer.status == "ACTIVE"
    zendesk = sdk.auth_configs.create(toolkit="zendesk", options={
        "type": "use_custom_auth", "auth_scheme": "BASIC", "credentials": {}})
    basic_fields = [f.name for f in sdk.toolkits.get_connected_account_initiation_fields(
        toolkit="zendesk", auth_scheme="BASIC", required_only=True)]
    values = {name: f"value-{name}" for name in basic_fields}
    basic = sdk.connected_accounts.initiate(user_id="u10", auth_config_id=zendesk.id,
                                            config=auth_scheme.basic(values))
    assert basic.status == "ACTIVE"
    # A missing required field is a clear 400 naming it.
    with pytest.raises(composio.exceptions.ComposioError) as info:
        sdk.connected_accounts.initiate(user_id="u11", auth_config_id=pplx.id,
                                        config=auth_scheme.api_key({}))
    assert "generic_api_key" in str(info.value)


def test_token_refresh_and_provider_revocation(sdk: Any, mock_composio: Tenant) -> None:
    ac = managed(sdk, "gmail")
    request = sdk.connected_accounts.link(user_id="u12", auth_config_id=ac.id)
    mock_composio.consent.complete(request.redirect_url)
    before = mock_composio.account(request.id).token
    assert before is not None and before.expires_at is not None
    mock_composio.advance(before.expires_at - mock_composio.project.now() + 1)
    after = mock_composio.account(request.id)
    assert after.status == "ACTIVE" and after.token is not None
    assert after.token.access_token != before.access_token
    assert "access token refreshed" in [e.event for e in after.timeline]
    # The user revokes the app at the provider: the next refresh fails for good.
    mock_composio.project.provider.revoke_user_grants(refresh_token=after.token.refresh_token)
    mock_composio.advance(after.token.expires_at - mock_composio.project.now() + 1)
    expired = sdk.connected_accounts.get(request.id)
    assert expired.status == "EXPIRED"
    assert expired.status_reason == "Permanent auth error during token refresh"


def test_link_not_completed_in_ten_minutes_expires(sdk: Any, mock_composio: Tenant) -> None:
    ac = managed(sdk, "github")
    request = sdk.connected_accounts.link(user_id="u13", auth_config_id=ac.id)
    mock_composio.advance(601)
    account = sdk.connected_accounts.get(request.id)
    assert account.status == "EXPIRED"
    assert account.status_reason == "Connection initiation did not complete within 10 minutes"
    with pytest.raises(composio.exceptions.SDKError):
        request.wait_for_connection(timeout=5)
    page = mock_composio.consent.complete(request.redirect_url)
    assert page.status_code == 410 and "expired" in page.page_text


def test_enable_disable_refresh_revoke_delete(sdk: Any, mock_composio: Tenant) -> None:
    ac = managed(sdk, "github")
    request = sdk.connected_accounts.link(user_id="u14", auth_config_id=ac.id)
    mock_composio.consent.complete(request.redirect_url)
    sdk.connected_accounts.disable(request.id)
    assert sdk.connected_accounts.get(request.id).status == "INACTIVE"
    sdk.connected_accounts.enable(request.id)
    assert sdk.connected_accounts.get(request.id).status == "ACTIVE"
    listed = sdk.connected_accounts.list(user_ids=["u14"], statuses=["ACTIVE"])
    assert [a.id for a in listed.items] == [request.id]
    with pytest.warns(Warning, match="deprecated"):
        refreshed = sdk.connected_accounts.refresh(request.id)
    assert refreshed.status == "INITIATED" and refreshed.redirect_url
    mock_composio.consent.complete(refreshed.redirect_url)
    assert sdk.connected_accounts.get(request.id).status == "ACTIVE"
    revoked = sdk.connected_accounts.revoke(request.id)
    assert revoked.connected_account.status == "REVOKED"
    assert set(revoked.revoked_tokens) >= {"access_token"}
    sdk.connected_accounts.delete(request.id)
    with pytest.raises(composio.exceptions.ComposioError) as info:
        sdk.connected_accounts.get(request.id)
    assert "404" in str(info.value)
