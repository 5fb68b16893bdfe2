"""Seed 004 with the official Python SDK (composio 0.29.0), unmodified, against a live server:
Tool Router sessions, session.authorize + Connect Link consent + wait_for_connection,
session.toolkits(), in-chat COMPOSIO_MANAGE_CONNECTIONS, and the refusals. Strict response
validation is on throughout."""

from __future__ import annotations

import os
from typing import Any

import pytest

from mockcomposio.tenant import Tenant

from .conftest import require_module

composio = require_module("composio", "end-to-end tests need: pip install -e '.[sdk]'")

pytestmark = pytest.mark.sdk
CALLBACK = "https://myapp.com/auth/callback"


def test_seed004_managed_default_authorize_and_wait(sdk: Any, mock_composio: Tenant) -> None:
    composio = sdk
    # Composio auto-creates an auth config with its managed credentials
    session = composio.create(user_id="user_123")
    connection_request = session.authorize("github")
    assert connection_request.redirect_url.startswith(mock_composio.base_url + "/link/lk_")
    # The auto-created config is managed and tagged as Tool Router-created.
    account = mock_composio.account(connection_request.id)
    ac = mock_composio.auth_config(account.auth_config_id)
    assert ac.is_composio_managed and ac.created_by_tool_router
    assert account.user_id == "user_123" and account.status == "INITIATED"

    # Via session, with a callback URL:
    session = composio.create(user_id="user_123")
    connection_request = session.authorize(
        "github",
        callback_url="https://myapp.com/auth/callback",
    )
    # After the user visits the URL and authenticates:
    result = mock_composio.consent.complete(connection_request.redirect_url)
    assert result.status == "success"
    assert result.final_url.startswith(CALLBACK + "?")
    assert result.connected_account_id == connection_request.id
    connected_account = connection_request.wait_for_connection(timeout=5)
    assert connected_account.status == "ACTIVE"
    # The second session reused the config Tool Router created the first time.
    assert connected_account.auth_config.id == ac.id
    assert [c.id for c in composio.auth_configs.list(toolkit_slug="github").items] == [ac.id]


def test_seed004_custom_auth_config_passed_to_session(sdk: Any, mock_composio: Tenant,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLIENT_ID", "google-client-id")
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", "google-client-secret")
    composio = sdk
    # The seed writes the options as keyword arguments; composio 0.29 takes them as `options`.
    auth_config = composio.auth_configs.create(
        "gmail",
        options={
            "type": "use_custom_auth",
            "name": "My Gmail OAuth App",
            "auth_scheme": "OAUTH2",
            "credentials": {
                "client_id": os.environ["GOOGLE_CLIENT_ID"],
                "client_secret": os.environ["GOOGLE_CLIENT_SECRET"],
            },
        },
    )
    session = composio.create(
        user_id="user_123",
        auth_configs={"gmail": auth_config.id},
    )
    assert session.config.auth_configs == {"gmail": auth_config.id}
    connection_request = session.authorize("gmail", callback_url=CALLBACK)
    result = mock_composio.consent.complete(connection_request.redirect_url)
    assert result.status == "success"
    connected_account = connection_request.wait_for_connection(timeout=5)
    assert connected_account.status == "ACTIVE"
    assert connected_account.auth_config.id == auth_config.id
    assert connected_account.auth_config.is_composio_managed is False
    # No managed config was auto-created for gmail.
    assert [c.id for c in composio.auth_configs.list(toolkit_slug="gmail").items] == [
        auth_config.id]


def test_session_toolkits_before_and_after_connecting(sdk: Any, mock_composio: Tenant) -> None:
    session = sdk.create(user_id="user_42", toolkits=["github", "gmail", "hackernews"])
    before = session.toolkits()
    # sorted by popularity, as the docs say (no-auth toolkits last)
    assert [t.slug for t in before.items] == ["gmail", "github", "hackernews"]
    assert before.total_pages == 1 and before.next_cursor is None
    github = before.items[1]
    assert github.connection is not None and github.connection.is_active is False
    assert github.connection.connected_account is None
    assert before.items[2].is_no_auth is True and before.items[2].connection is None
    assert session.toolkits(is_connected=True).items == []

    request = session.authorize("github")
    mock_composio.consent.complete(request.redirect_url)
    request.wait_for_connection(timeout=5)

    after = session.toolkits(toolkits=["github"])
    github = after.items[0]
    assert github.connection.is_active is True
    assert github.connection.connected_account.id == request.id
    assert github.connection.connected_account.status == "ACTIVE"
    assert github.connection.auth_config.mode == "OAUTH2"
    assert github.connection.auth_config.is_composio_managed is True
    assert [t.slug for t in session.toolkits(is_connected=True).items] == ["github"]
    # The state is live: disabling the account through the plain API shows at once.
    sdk.connected_accounts.disable(request.id)
    assert session.toolkits(is_connected=True).items == []
    page = session.toolkits(limit=2)
    assert len(page.items) == 2 and page.next_cursor and page.total_pages == 2
    rest = session.toolkits(next_cursor=page.next_cursor)
    assert [t.slug for t in rest.items] == ["hackernews"]


def test_in_chat_manage_connections_link_completes(sdk: Any, mock_composio: Tenant) -> None:
    session = sdk.create(user_id="user_7", manage_connections={
        "enable": True, "callback_url": CALLBACK})
    assert session.config.manage_connections.enabled is True
    assert session.config.manage_connections.callback_url == CALLBACK
    result = session.execute("COMPOSIO_MANAGE_CONNECTIONS",
                             arguments={"toolkits": ["github"], "reinitiate_all": False})
    assert result.result_type == "completed" and result.error is None
    github = result.data["results"]["github"]
    assert github["status"] == "initiated"
    consent = mock_composio.consent.complete(github["redirect_url"])
    assert consent.status == "success" and consent.final_url.startswith(CALLBACK)
    account = sdk.connected_accounts.wait_for_connection(github["connected_account_id"],
                                                         timeout=5)
    assert account.status == "ACTIVE"

    again = session.execute_meta("COMPOSIO_MANAGE_CONNECTIONS",
                                 arguments={"toolkits": ["github", "twitter"]})
    assert again.data["results"]["github"]["status"] == "active"
    assert again.data["results"]["github"]["connected_account_id"] == account.id
    assert again.data["results"]["twitter"]["status"] == "failed"
    assert again.data["summary"]["active_connections"] == 1
    # Other meta tools are refused clearly, not faked.
    with pytest.raises(composio.exceptions.ComposioError, match="not supported by mockcomposio"):
        session.execute_meta("COMPOSIO_SEARCH_TOOLS",
                             arguments={"queries": [{"use_case": "star a repo"}]})


def test_session_tools_terminates(sdk: Any) -> None:
    session = sdk.create(user_id="user_8")
    tools = session.tools()
    names = [t["function"]["name"] if isinstance(t, dict) else getattr(t, "name", None)
             for t in tools]
    assert "COMPOSIO_MANAGE_CONNECTIONS" in names


def test_twitter_has_no_managed_auth(sdk: Any) -> None:
    session = sdk.create(user_id="user_123")
    with pytest.raises(composio.exceptions.ComposioError) as excinfo:
        session.authorize("twitter")
    err = excinfo.value
    assert "Composio does not manage auth for toolkit twitter" in str(err)
    assert err.status_code == 400
    assert err.details["slug"] == "ToolRouterV2_NoManagedAuth" and err.details["code"] == 4300


def test_disabled_config_refused_through_session(sdk: Any, mock_composio: Tenant) -> None:
    ac = sdk.auth_configs.create(toolkit="github", options={"type": "use_composio_managed_auth"})
    session = sdk.create(user_id="user_123", auth_configs={"github": ac.id})
    sdk.auth_configs.disable(ac.id)
    with pytest.raises(composio.exceptions.ComposioError, match="disabled") as excinfo:
        session.authorize("github")
    assert excinfo.value.details["slug"] == "Auth_Config_Disabled"
    assert mock_composio.accounts(user_ids=["user_123"]) == []
    sdk.auth_configs.enable(ac.id)
    assert session.authorize("github").status == "INITIATED"


def test_use_and_delete_session(sdk: Any, mock_composio: Tenant) -> None:
    session = sdk.create(user_id="user_9", toolkits={"disable": ["gmail"]},
                         multi_account={"enable": True, "max_accounts_per_toolkit": 2})
    same = sdk.use(session.session_id)
    assert same.session_id == session.session_id and same.config.user_id == "user_9"
    assert same.config.toolkits.disabled == ["gmail"]
    assert same.config.multi_account.max_accounts_per_toolkit == 2
    assert session.delete() == {"session_id": session.session_id, "deleted": True}
    with pytest.raises(composio.exceptions.ComposioError) as excinfo:
        sdk.use(session.session_id)
    assert excinfo.value.status_code == 404
    with pytest.raises(composio.exceptions.ComposioError):
        sdk.sessions.delete(session.session_id)
