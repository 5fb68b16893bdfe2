"""A tiny app that uses Composio, as a downstream team would write it.

"Agenda Bot" lets its users connect their Google Calendar so it can read their events. It builds
its own ``Composio`` client from the environment (``COMPOSIO_API_KEY``, ``COMPOSIO_BASE_URL``)
and never knows it is talking to mockcomposio. Its tests (``test_sampleapp.py``) use nothing
but the pytest plugin's fixtures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from composio import Composio

# The app asks for narrower scopes than Google Calendar's managed default (seed 000: scope
# override): read-only calendar access and the user's email.
SCOPES = ["https://www.googleapis.com/auth/calendar.readonly",
          "https://www.googleapis.com/auth/userinfo.email"]
CALLBACK_URL = "https://agendabot.example/integrations/google/done"


@dataclass
class Connection:
    id: str
    redirect_url: str


class ConnectionRefused(Exception):
    """New calendar connections are paused (the admin disabled the integration)."""


class AgendaBot:
    def __init__(self, composio: Composio | None = None) -> None:
        self.composio = composio or Composio(allow_tracking=False)
        self.auth_config_id: str | None = None

    # -- admin ---------------------------------------------------------------------------------
    def install(self) -> str:
        """Create the app's Google Calendar auth config once (Composio-managed OAuth, our
        scopes)."""
        config = self.composio.auth_configs.create(toolkit="googlecalendar", options={
            "type": "use_composio_managed_auth", "name": "Agenda Bot calendar",
            "credentials": {"scopes": ",".join(SCOPES)}})
        self.auth_config_id = config.id
        return config.id

    def pause_new_connections(self) -> None:
        self.composio.auth_configs.disable(self._config())

    def resume_new_connections(self) -> None:
        self.composio.auth_configs.enable(self._config())

    # -- users ---------------------------------------------------------------------------------
    def start_connect(self, user_id: str) -> Connection:
        """The "Connect Google Calendar" button: returns the URL to send the user's browser to."""
        from composio.exceptions import ComposioError

        try:
            request = self.composio.connected_accounts.link(
                user_id=user_id, auth_config_id=self._config(), callback_url=CALLBACK_URL)
        except ComposioError as exc:
            if "disabled" in str(exc):
                raise ConnectionRefused(str(exc)) from exc
            raise
        return Connection(request.id, request.redirect_url)

    def finish_connect(self, connection_id: str, timeout: float = 5) -> str:
        """Called when the user lands on CALLBACK_URL: wait until Composio says ACTIVE."""
        account = self.composio.connected_accounts.wait_for_connection(connection_id, timeout)
        return str(account.status)

    def calendar_status(self, user_id: str) -> str:
        """What the settings page shows: the newest connection's status, or "NOT_CONNECTED"."""
        accounts = self._accounts(user_id)
        if not accounts:
            return "NOT_CONNECTED"
        return str(max(accounts, key=lambda a: a.created_at).status)

    def can_read_calendar(self, user_id: str) -> bool:
        return any(a.status == "ACTIVE" for a in self._accounts(user_id))

    def _accounts(self, user_id: str) -> list[Any]:
        page = self.composio.connected_accounts.list(user_ids=[user_id],
                                                     toolkit_slugs=["googlecalendar"])
        return list(page.items)

    def _config(self) -> str:
        if self.auth_config_id is None:
            raise RuntimeError("call install() first")
        return self.auth_config_id
