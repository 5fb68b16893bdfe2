"""The legacy v1 API (``/api/v1``) for ``composio-core`` 0.7.x ToolSet users (issue 11).

Only the endpoints the 0.7 SDK's auth surface calls (API-key check, apps, integrations,
connected accounts, and the empty action/trigger lists of its cache refresh); see
``domain/v1.py`` for how they map onto the engine.
"""

from __future__ import annotations

from . import v1_api
from .app import Route

V1 = "/api/v1"

V1_ROUTES: list[Route] = [
    Route("GET", V1 + "/client/auth/client_info", v1_api.client_info, "v1.client_info"),
    Route("GET", V1 + "/apps", v1_api.list_apps, "v1.apps.list"),
    Route("GET", V1 + "/apps/{name}", v1_api.get_app, "v1.apps.get"),
    Route("POST", V1 + "/integrations", v1_api.create_integration, "v1.integrations.create",
          json_body=True),
    Route("GET", V1 + "/integrations", v1_api.list_integrations, "v1.integrations.list"),
    Route("GET", V1 + "/integrations/{id}", v1_api.get_integration, "v1.integrations.get"),
    Route("PATCH", V1 + "/integrations/{id}", v1_api.update_integration,
          "v1.integrations.update", json_body=True),
    Route("DELETE", V1 + "/integrations/{id}", v1_api.delete_integration,
          "v1.integrations.delete"),
    Route("POST", V1 + "/connectedAccounts", v1_api.initiate_connection,
          "v1.connected_accounts.initiate", json_body=True),
    Route("GET", V1 + "/connectedAccounts", v1_api.list_connections,
          "v1.connected_accounts.list"),
    Route("GET", V1 + "/connectedAccounts/{id}", v1_api.get_connection,
          "v1.connected_accounts.get"),
    Route("DELETE", V1 + "/connectedAccounts/{id}", v1_api.delete_connection,
          "v1.connected_accounts.delete"),
    Route("POST", V1 + "/connectedAccounts/{id}/enable", v1_api.enable_connection,
          "v1.connected_accounts.enable"),
    Route("POST", V1 + "/connectedAccounts/{id}/disable", v1_api.disable_connection,
          "v1.connected_accounts.disable"),
    # the 0.7 SDK's first-run cache refresh (ToolSet construction) reads these
    Route("GET", "/api/v2/actions", v1_api.list_actions, "v1.actions.list"),
    Route("GET", V1 + "/triggers", v1_api.list_triggers, "v1.triggers.list"),
]
