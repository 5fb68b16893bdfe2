"""The downstream example: Agenda Bot's own tests, written with nothing but the plugin.

No conftest, no imports from mockcomposio's internals: ``pip install mockcomposio`` gives these
fixtures. The suite is also run under ``pytest -n 2`` and in random order
(tests/test_downstream_example.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from sampleapp import CALLBACK_URL, SCOPES, AgendaBot, ConnectionRefused

pytestmark = pytest.mark.usefixtures("composio_env")


@pytest.fixture
def app(composio_env: dict[str, str]) -> AgendaBot:
    app = AgendaBot()  # builds its own client from COMPOSIO_API_KEY / COMPOSIO_BASE_URL
    app.install()
    return app


def test_user_connects_calendar_through_the_redirect_flow(app: AgendaBot, mock_composio: Any,
                                                        composio_consent: Any) -> None:
    user = mock_composio.new_user_id()
    conn = app.start_connect(user)
    assert app.calendar_status(user) == "INITIATED"

    result = composio_consent.complete(conn.redirect_url)  # the user clicks Allow

    assert result.final_url.startswith(CALLBACK_URL)
    assert result.status == "success" and result.connected_account_id == conn.id
    assert app.finish_connect(conn.id) == "ACTIVE"
    assert app.calendar_status(user) == "ACTIVE" and app.can_read_calendar(user)


def test_the_apps_scopes_are_requested_and_the_user_may_grant_fewer(
        app: AgendaBot, mock_composio: Any, composio_consent: Any) -> None:
    full, partial = mock_composio.new_user_id(), mock_composio.new_user_id()
    first, second = app.start_connect(full), app.start_connect(partial)

    composio_consent.complete(first.redirect_url)
    composio_consent.complete(second.redirect_url, scopes=SCOPES[:1])  # unticks the email

    assert mock_composio.requested_scopes(first.id) == SCOPES
    assert mock_composio.granted_scopes(first.id) == SCOPES
    assert mock_composio.requested_scopes(second.id) == SCOPES
    assert mock_composio.granted_scopes(second.id) == SCOPES[:1]


def test_user_denies_consent(app: AgendaBot, mock_composio: Any,
                             composio_consent: Any) -> None:
    user = mock_composio.new_user_id()
    conn = app.start_connect(user)
    result = composio_consent.complete(conn.redirect_url, decision="deny")
    assert result.final_url.startswith(CALLBACK_URL) and result.status == "failed"
    assert app.calendar_status(user) == "FAILED" and not app.can_read_calendar(user)


def test_scripted_outcome_for_a_flow_the_app_starts(app: AgendaBot, mock_composio: Any,
                                                    composio_consent: Any) -> None:
    user = mock_composio.new_user_id()
    composio_consent.script("allow")  # whatever redirect the app opens next gets approved
    conn = app.start_connect(user)
    assert app.finish_connect(conn.id) == "ACTIVE"


def test_paused_integration_refuses_new_users_but_keeps_existing_ones(
        app: AgendaBot, mock_composio: Any, composio_consent: Any) -> None:
    early, late = mock_composio.new_user_id(), mock_composio.new_user_id()
    composio_consent.complete(app.start_connect(early).redirect_url)

    app.pause_new_connections()
    with pytest.raises(ConnectionRefused, match="disabled"):
        app.start_connect(late)
    assert app.can_read_calendar(early)  # existing connections keep working

    app.resume_new_connections()
    conn = app.start_connect(late)
    composio_consent.complete(conn.redirect_url)
    assert app.finish_connect(conn.id) == "ACTIVE"


def test_expired_token_is_refreshed_then_revoked_grant_expires_the_account(
        app: AgendaBot, mock_composio: Any, composio_consent: Any,
        composio_clock: Any) -> None:
    user = mock_composio.new_user_id()
    conn = app.start_connect(user)
    composio_consent.complete(conn.redirect_url)
    token = mock_composio.account(conn.id).token.access_token

    refreshed = composio_clock.expire_token(conn.id)  # an hour later: Composio refreshes
    assert refreshed.status == "ACTIVE" and refreshed.token.access_token != token
    assert app.can_read_calendar(user)

    # The user removes the app in their Google account: the next refresh fails for good.
    mock_composio.project.provider.revoke_user_grants(
        refresh_token=refreshed.token.refresh_token)
    composio_clock.expire_token(conn.id)
    assert app.calendar_status(user) == "EXPIRED" and not app.can_read_calendar(user)


def test_unfinished_connection_expires_after_ten_minutes(app: AgendaBot, mock_composio: Any,
                                                         composio_clock: Any) -> None:
    user = mock_composio.new_user_id()
    app.start_connect(user)
    composio_clock.advance(minutes=10, seconds=1)
    assert app.calendar_status(user) == "EXPIRED"


def test_each_test_starts_from_an_empty_project(app: AgendaBot, mock_composio: Any) -> None:
    # Other tests of this module connected users; none of it is visible here, in any order
    # and on any xdist worker.
    assert [ac.id for ac in mock_composio.auth_configs()] == [app.auth_config_id]
    assert mock_composio.accounts() == []
