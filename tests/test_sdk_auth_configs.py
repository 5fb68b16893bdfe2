"""The official Python SDK (composio 0.29.0), unmodified, against a live server: every
auth-config and toolkit call of the seed docs, with strict response validation on."""

from __future__ import annotations

from typing import Any

import pytest

from mockcomposio.tenant import Tenant

from .conftest import require_module

composio = require_module("composio", "end-to-end tests need: pip install -e '.[sdk]'")

pytestmark = pytest.mark.sdk


def test_seed000_managed_hubspot_scopes(sdk: Any, mock_composio: Tenant) -> None:
    auth_config = sdk.auth_configs.create(
        toolkit="hubspot",
        options={"type": "use_composio_managed_auth", "name": "HubSpot",
                 "credentials": {"scopes": "sales-email-read,tickets"}})
    assert auth_config.id.startswith("ac_")
    assert auth_config.is_composio_managed is True
    stored = mock_composio.auth_config(auth_config.id)
    assert stored.scope_override == ["sales-email-read", "tickets"]


def test_seed000_custom_github_with_scopes_then_update(sdk: Any, mock_composio: Tenant) -> None:
    auth_config = sdk.auth_configs.create(
        toolkit="github",
        options={"type": "use_custom_auth", "auth_scheme": "OAUTH2", "name": "GitHub",
                 "credentials": {"client_id": "gh-client", "client_secret": "gh-secret",
                                 "scopes": "repo,read:org"}})
    assert auth_config.auth_scheme == "OAUTH2" and auth_config.is_composio_managed is False
    # Seed 000's update: the SDK drops `scopes` for type "default" (documented SDK behaviour),
    # so the call succeeds and leaves the scopes as they were.
    sdk.auth_configs.update(auth_config.id, options={"type": "default",
                                                     "scopes": "repo,read:org,read:user"})
    assert mock_composio.auth_config(auth_config.id).scope_override == ["repo", "read:org"]
    # What does change scopes through the Python SDK: credentials.scopes on a custom config.
    sdk.auth_configs.update(auth_config.id, options={
        "type": "custom", "credentials": {"scopes": "repo,read:org,read:user"}})
    got = sdk.auth_configs.get(auth_config.id)
    assert got.credentials["client_id"] == "gh-client"
    assert mock_composio.auth_config(auth_config.id).scope_override == [
        "repo", "read:org", "read:user"]


def test_seed001_programmatic_auth_configs(sdk: Any) -> None:
    managed = sdk.auth_configs.create(toolkit="github",
                                      options={"type": "use_composio_managed_auth"})
    assert managed.id.startswith("ac_")
    notion = sdk.auth_configs.create(
        toolkit="notion",
        options={"name": "Notion Auth", "type": "use_custom_auth", "auth_scheme": "OAUTH2",
                 "credentials": {
                     "client_id": "1234567890", "client_secret": "1234567890",
                     "oauth_redirect_uri":
                         "https://backend.composio.dev/api/v3/toolkits/auth/callback"}})
    assert notion.auth_scheme == "OAUTH2"
    hubspot = sdk.auth_configs.create(
        toolkit="HUBSPOT",
        options={"name": "HubspotConfig", "authScheme": "OAUTH2",
                 "type": "use_composio_managed_auth",
                 "credentials": {"scopes": "sales-email-read,tickets"}})
    assert hubspot.id.startswith("ac_")
    pplx = sdk.auth_configs.create(
        toolkit="perplexityai",
        options={"type": "use_custom_auth", "auth_scheme": "API_KEY", "credentials": {}})
    assert pplx.auth_scheme == "API_KEY"
    required = sdk.toolkits.get_auth_config_creation_fields(
        toolkit="NOTION", auth_scheme="OAUTH2", required_only=True)
    assert [f["name"] if isinstance(f, dict) else f.name for f in required] == [
        "client_id", "client_secret"]


def test_seed002_reference_calls(sdk: Any) -> None:
    created = sdk.auth_configs.create(
        toolkit="github",
        options={"type": "use_custom_auth", "auth_scheme": "OAUTH2",
                 "credentials": {"client_id": "a", "client_secret": "b",
                                 "scopes": ["repo", "read:org", "read:user"]}})
    openai_cfg = sdk.auth_configs.create(
        toolkit="openai",
        options={"type": "use_custom_auth", "auth_scheme": "API_KEY",
                 "credentials": {"generic_api_key": "sk-shared"}})
    linear = sdk.auth_configs.create(
        "linear", {"type": "use_custom_auth", "name": "Linear API Key", "authScheme": "API_KEY",
                   "credentials": {"generic_api_key": "lin_api_x"}})
    assert linear.auth_scheme == "API_KEY" and openai_cfg.auth_scheme == "API_KEY"
    configs = sdk.auth_configs.list(toolkit_slug="github")
    assert [c.id for c in configs.items] == [created.id]
    assert configs.items[0].auth_scheme == "OAUTH2" and configs.items[0].status == "ENABLED"
    config = sdk.auth_configs.get(created.id)
    assert (config.id, config.auth_scheme, config.status) == (created.id, "OAUTH2", "ENABLED")
    sdk.auth_configs.update(created.id, options={
        "type": "custom", "credentials": {"client_id": "new-id", "client_secret": "new-sec",
                                          "scopes": ["repo", "read:org"]}})
    assert sdk.auth_configs.get(created.id).credentials["client_id"] == "new-id"
    sdk.auth_configs.disable(created.id)
    assert sdk.auth_configs.get(created.id).status == "DISABLED"
    assert sdk.auth_configs.list(toolkit_slug="github").items == []
    sdk.auth_configs.enable(created.id)
    assert sdk.auth_configs.get(created.id).status == "ENABLED"
    sdk.auth_configs.delete(created.id)
    with pytest.raises(composio.exceptions.ComposioError) as info:
        sdk.auth_configs.get(created.id)
    assert "404" in str(info.value)


def test_toolkits_get_and_list(sdk: Any) -> None:
    github = sdk.toolkits.get("github")
    assert github.slug == "github" and "OAUTH2" in github.composio_managed_auth_schemes
    everything = sdk.toolkits.get()
    assert len(everything) >= 20
    fields = sdk.toolkits.get_connected_account_initiation_fields(
        toolkit="perplexityai", auth_scheme="API_KEY")
    assert fields


def test_errors_surface_as_sdk_exceptions(sdk: Any) -> None:
    with pytest.raises(composio.exceptions.ComposioError) as info:
        sdk.auth_configs.create(toolkit="twitter", options={"type": "use_composio_managed_auth"})
    assert "managed auth" in str(info.value)
    with pytest.raises(composio.exceptions.ComposioError):
        sdk.auth_configs.get("ac_doesnotexist")
