"""Connected accounts through the official Python SDK, written from Composio's 2026 docs
snippets: importing an existing connection and patching its credentials, aliases, Zendesk's
subdomain, callback identity verification with complete_auth, and the redaction rules."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mockcomposio.testing.tenant import Tenant

from .conftest import require_module

composio = require_module("composio", "end-to-end tests need: pip install -e '.[sdk]'")

pytestmark = pytest.mark.sdk
VERIFIER = "https://myapp.example/verify"


def bearer_config(sdk: Any, toolkit: str = "hubspot") -> Any:
    return sdk.auth_configs.create(toolkit=toolkit, options={
        "type": "use_custom_auth", "auth_scheme": "BEARER_TOKEN", "credentials": {}})


def test_import_a_bearer_token_then_rotate_it(sdk: Any, mock_composio: Tenant) -> None:
    from composio.core.models.connected_accounts import auth_scheme

    auth_config = bearer_config(sdk)
    connection = sdk.connected_accounts.initiate(
        user_id="user_123", auth_config_id=auth_config.id,
        config=auth_scheme.bearer_token({"token": "imported-access-token"}))
    assert connection.status == "ACTIVE"
    # Changelog 2026-04-07: keep access tokens updated with PATCH.
    result = sdk.connected_accounts.update(connection.id, connection={
        "state": {"authScheme": "BEARER_TOKEN", "val": {"token": "rotated-access-token"}}})
    assert result.success and result.id == connection.id and result.status == "ACTIVE"
    assert mock_composio.account(connection.id).val["token"] == "rotated-access-token"
    shown = sdk.connected_accounts.get(connection.id)
    assert shown.state.val.token == "rota..."  # masked, as the API shows it


def test_snake_case_auth_scheme_and_null_removal(sdk: Any, mock_composio: Tenant) -> None:
    auth_config = sdk.auth_configs.create(toolkit="openai", options={
        "type": "use_custom_auth", "auth_scheme": "API_KEY", "credentials": {}})
    connection = sdk.connected_accounts.initiate(
        user_id="u1", auth_config_id=auth_config.id,
        config={"auth_scheme": "API_KEY",
                "val": {"status": "ACTIVE", "generic_api_key": "sk-old", "user_agent": "x/1"}})
    sdk.connected_accounts.update(connection.id, connection={
        "state": {"auth_scheme": "API_KEY", "val": {"generic_api_key": "sk-new",
                                                    "user_agent": None}}})
    val = mock_composio.account(connection.id).val
    assert val["generic_api_key"] == "sk-new" and "user_agent" not in val


def test_alias_set_and_clear(sdk: Any) -> None:
    from composio.core.models.connected_accounts import auth_scheme

    auth_config = bearer_config(sdk)
    connection = sdk.connected_accounts.initiate(
        user_id="user_123", auth_config_id=auth_config.id,
        config=auth_scheme.bearer_token({"token": "t-1"}), alias="work-hubspot")
    assert sdk.connected_accounts.get(connection.id).alias == "work-hubspot"
    # Set an alias
    sdk.connected_accounts.update(connection.id, alias="personal-hubspot")
    assert sdk.connected_accounts.get(connection.id).alias == "personal-hubspot"
    # Clear an alias
    sdk.connected_accounts.update(connection.id, alias="")
    assert sdk.connected_accounts.get(connection.id).alias is None


def test_bad_patch_raises_and_changes_nothing(sdk: Any, mock_composio: Tenant) -> None:
    from composio.core.models.connected_accounts import auth_scheme

    auth_config = bearer_config(sdk)
    connection = sdk.connected_accounts.initiate(
        user_id="u1", auth_config_id=auth_config.id,
        config=auth_scheme.bearer_token({"token": "keep-me"}))
    with pytest.raises(composio.exceptions.ComposioError, match="this connection uses"):
        sdk.connected_accounts.update(connection.id, connection={
            "state": {"authScheme": "API_KEY", "val": {"generic_api_key": "x"}}})
    assert mock_composio.account(connection.id).val["token"] == "keep-me"
    sdk.connected_accounts.delete(connection.id)
    with pytest.raises(composio.exceptions.ComposioError):
        sdk.connected_accounts.update(connection.id, alias="gone")


def test_zendesk_subdomain_on_the_connect_link(sdk: Any, mock_composio: Tenant) -> None:
    auth_config = sdk.auth_configs.create(toolkit="zendesk",
                                          options={"type": "use_composio_managed_auth"})
    assert [f.name if hasattr(f, "name") else f["name"]
            for f in sdk.auth_configs.get(auth_config.id).expected_input_fields] == ["subdomain"]
    request = sdk.connected_accounts.link(user_id="user_123", auth_config_id=auth_config.id,
                                          callback_url="https://myapp.example/cb")
    # Without the subdomain the page stops at its field step.
    stuck = mock_composio.consent.complete(request.redirect_url)
    assert not stuck.left_fake and "Sub Domain" in stuck.page_text
    result = mock_composio.consent.complete(request.redirect_url, fields={"subdomain": "acme"})
    assert result.status == "success"
    assert any("instance=acme.zendesk.com" in url for url in result.visited)
    account = request.wait_for_connection(timeout=5)
    assert account.status == "ACTIVE" and account.state.val.subdomain == "acme"


def test_zendesk_subdomain_on_initiate_and_session(sdk: Any, mock_composio: Tenant) -> None:
    from composio.core.models.connected_accounts import auth_scheme

    auth_config = sdk.auth_configs.create(toolkit="zendesk", options={
        "type": "use_custom_auth", "auth_scheme": "OAUTH2",
        "credentials": {"client_id": "zd-client", "client_secret": "zd-secret"}})
    with pytest.raises(composio.exceptions.ComposioError, match="subdomain"):
        sdk.connected_accounts.initiate(user_id="u1", auth_config_id=auth_config.id)
    request = sdk.connected_accounts.initiate(
        user_id="u1", auth_config_id=auth_config.id,
        config=auth_scheme.oauth2({"subdomain": "initech"}))
    result = mock_composio.consent.complete(request.redirect_url)
    assert any("instance=initech.zendesk.com" in url for url in result.visited)
    assert request.wait_for_connection(timeout=5).status == "ACTIVE"
    session = sdk.create(user_id="user_9", auth_configs={"zendesk": auth_config.id})
    link = session.authorize("zendesk")
    done = mock_composio.consent.complete(link.redirect_url, fields={"subdomain": "umbrella"})
    assert any("instance=umbrella.zendesk.com" in url for url in done.visited)
    assert mock_composio.account(link.id).connection_fields == {"subdomain": "umbrella"}


@pytest.mark.mock_composio(callback_verifier=VERIFIER)
def test_callback_identity_verification(sdk: Any, mock_composio: Tenant) -> None:
    auth_config = sdk.auth_configs.create(toolkit="github", options={
        "type": "use_custom_auth", "auth_scheme": "OAUTH2",
        "credentials": {"client_id": "gh-client", "client_secret": "gh-secret"}})
    request = sdk.connected_accounts.link(user_id="user_123", auth_config_id=auth_config.id,
                                          callback_url="https://myapp.example/cb")
    result = mock_composio.consent.complete(request.redirect_url)
    # The browser lands on the verifier with a single-use session URI, not on the callback.
    assert result.final_url.startswith(VERIFIER + "?session_uri=session_")
    session_uri = parse_qs(urlsplit(result.final_url).query)["session_uri"][0]
    assert sdk.connected_accounts.get(request.id).status == "INITIATED"
    completed = sdk.connected_accounts.complete_auth(
        user_id="user_123",
        session_uri=session_uri,  # from the verifier redirect
    )
    assert completed.connected_account_id == request.id and completed.toolkit_slug == "github"
    assert request.wait_for_connection(timeout=5).status == "ACTIVE"
    with pytest.raises(composio.exceptions.ComposioError):  # single use
        sdk.connected_accounts.complete_auth(user_id="user_123", session_uri=session_uri)


@pytest.mark.mock_composio(callback_verifier=VERIFIER)
def test_complete_auth_with_another_user_fails(sdk: Any, mock_composio: Tenant) -> None:
    auth_config = sdk.auth_configs.create(toolkit="github", options={
        "type": "use_custom_auth", "auth_scheme": "OAUTH2",
        "credentials": {"client_id": "gh-client", "client_secret": "gh-secret"}})
    request = sdk.connected_accounts.link(user_id="alice", auth_config_id=auth_config.id)
    result = mock_composio.consent.complete(request.redirect_url)
    session_uri = parse_qs(urlsplit(result.final_url).query)["session_uri"][0]
    with pytest.raises(composio.exceptions.ComposioError, match="Identity mismatch"):
        sdk.connected_accounts.complete_auth(user_id="mallory", session_uri=session_uri)
    assert sdk.connected_accounts.get(request.id).status == "FAILED"


def test_managed_connection_tokens_are_redacted(sdk: Any, mock_composio: Tenant) -> None:
    auth_config = sdk.auth_configs.create(toolkit="gmail",
                                          options={"type": "use_composio_managed_auth"})
    request = sdk.connected_accounts.link(user_id="u1", auth_config_id=auth_config.id)
    mock_composio.consent.complete(request.redirect_url)
    account = request.wait_for_connection(timeout=5)
    assert account.state.val.access_token == "REDACTED"
    assert account.state.val.refresh_token == "REDACTED"
    custom = sdk.auth_configs.create(toolkit="github", options={
        "type": "use_custom_auth", "auth_scheme": "OAUTH2",
        "credentials": {"client_id": "gh-client", "client_secret": "gh-secret"}})
    shown = sdk.auth_configs.get(custom.id).credentials
    assert shown["client_id"] == "gh-client" and shown["client_secret"] == "gh-s..."


def test_link_with_connection_data_skips_the_field_step(sdk: Any, mock_composio: Tenant) -> None:
    auth_config = sdk.auth_configs.create(toolkit="zendesk",
                                          options={"type": "use_composio_managed_auth"})
    # connected_accounts.link() has no connection_data; the client's link.create has.
    created = sdk.client.link.create(auth_config_id=auth_config.id, user_id="user_123",
                                     connection_data={"subdomain": "globex"})
    result = mock_composio.consent.complete(created.redirect_url)
    assert any("instance=globex.zendesk.com" in url for url in result.visited)
    assert sdk.connected_accounts.get(created.connected_account_id).status == "ACTIVE"
    with pytest.raises(composio.exceptions.ComposioError, match="name only"):
        sdk.client.link.create(auth_config_id=auth_config.id, user_id="user_123",
                               connection_data={"subdomain": "globex.zendesk.com"})
