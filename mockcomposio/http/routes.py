"""The route table: every path the server answers, in one list.

API routes are served identically under ``/api/v3`` and ``/api/v3.1`` (Composio documents the
auth endpoints as identical on both).
"""

from __future__ import annotations

from . import api, control, pages, sessions_api, webhooks_api
from .app import Handler, Route
from .inspector import INSPECTOR_ROUTES
from .v1_routes import V1_ROUTES

API_PREFIXES = ("/api/v3", "/api/v3.1")


def _api(method: str, path: str, handler: Handler, operation: str,
         *, json_body: bool = False, cache: bool = False) -> list[Route]:
    return [Route(method, prefix + path, handler, operation, json_body=json_body, cache=cache)
            for prefix in API_PREFIXES]


API_ROUTES: list[Route] = [
    *_api("POST", "/auth_configs", api.create_auth_config, "auth_configs.create", json_body=True),
    *_api("GET", "/auth_configs", api.list_auth_configs, "auth_configs.list", cache=True),
    *_api("GET", "/auth_configs/{id}", api.get_auth_config, "auth_configs.get", cache=True),
    *_api("PATCH", "/auth_configs/{id}", api.update_auth_config, "auth_configs.update",
          json_body=True),
    *_api("PATCH", "/auth_configs/{id}/{status}", api.set_auth_config_status,
          "auth_configs.set_status"),
    *_api("DELETE", "/auth_configs/{id}", api.delete_auth_config, "auth_configs.delete"),
    *_api("GET", "/toolkits", api.list_toolkits, "toolkits.list", cache=True),
    *_api("GET", "/toolkits/categories", api.list_toolkit_categories, "toolkits.categories"),
    *_api("GET", "/toolkits/changelog", api.toolkits_changelog, "toolkits.changelog"),
    *_api("POST", "/toolkits/multi", api.get_many_toolkits, "toolkits.multi", json_body=True),
    *_api("GET", "/toolkits/{slug}", api.get_toolkit, "toolkits.get", cache=True),
    *_api("POST", "/connected_accounts", api.create_connected_account,
          "connected_accounts.create", json_body=True),
    *_api("POST", "/connected_accounts/link", api.link_connected_account,
          "connected_accounts.link", json_body=True),
    *_api("GET", "/connected_accounts", api.list_connected_accounts, "connected_accounts.list",
          cache=True),
    *_api("GET", "/connected_accounts/{id}", api.get_connected_account,
          "connected_accounts.get", cache=True),
    *_api("DELETE", "/connected_accounts/{id}", api.delete_connected_account,
          "connected_accounts.delete"),
    *_api("PATCH", "/connected_accounts/{id}/status", api.update_connected_account_status,
          "connected_accounts.update_status", json_body=True),
    *_api("PATCH", "/connected_accounts/{id}", api.update_connected_account,
          "connected_accounts.update", json_body=True),
    *_api("POST", "/connected_accounts/{id}/refresh", api.refresh_connected_account,
          "connected_accounts.refresh", json_body=True),
    *_api("POST", "/connected_accounts/{id}/revoke", api.revoke_connected_account,
          "connected_accounts.revoke"),
    *_api("POST", "/connected_accounts/complete_auth", api.complete_auth,
          "connected_accounts.complete_auth", json_body=True),
    *_api("GET", "/org/project/config", api.get_project_config, "project.config.get"),
    *_api("PATCH", "/org/project/config", api.update_project_config, "project.config.update",
          json_body=True),
]

SESSION_ROUTES: list[Route] = [
    *_api("POST", "/tool_router/session", sessions_api.create_session,
          "tool_router.create_session", json_body=True),
    *_api("GET", "/tool_router/session/{session_id}", sessions_api.get_session,
          "tool_router.get_session"),
    *_api("DELETE", "/tool_router/session/{session_id}", sessions_api.delete_session,
          "tool_router.delete_session"),
    *_api("POST", "/tool_router/session/{session_id}/link", sessions_api.link,
          "tool_router.link", json_body=True),
    *_api("GET", "/tool_router/session/{session_id}/toolkits", sessions_api.toolkits,
          "tool_router.toolkits"),
    *_api("GET", "/tool_router/session/{session_id}/tools", sessions_api.tools,
          "tool_router.tools"),
    *_api("POST", "/tool_router/session/{session_id}/execute", sessions_api.execute,
          "tool_router.execute", json_body=True),
    *_api("POST", "/tool_router/session/{session_id}/execute_meta", sessions_api.execute_meta,
          "tool_router.execute_meta", json_body=True),
    *_api("POST", "/tool_router/session/{session_id}/search", sessions_api.search,
          "tool_router.search"),
    *_api("PATCH", "/tool_router/session/{session_id}", sessions_api.update_session,
          "tool_router.update_session", json_body=True),
    *_api("GET", "/tool_router/session/{session_id}/config_history",
          sessions_api.config_history, "tool_router.config_history"),
    # SDK session operations outside the auth API: a clear 400 naming them, never a 404/405.
    *_api("POST", "/tool_router/session/{session_id}/attach", sessions_api.not_served(
        "composio.sessions.use(session_id, custom_tools=...) (POST …/attach)",
        "Call composio.sessions.use(session_id) without custom tools; custom tools run in "
        "your process and need no server."), "tool_router.attach"),
    *_api("POST", "/tool_router/session/{session_id}/proxy_execute", sessions_api.not_served(
        "session.proxy_execute() (POST …/proxy_execute)",
        "Stub the provider API call in your test; mockcomposio does not call provider APIs."),
        "tool_router.proxy_execute"),
    *[route for verb, tail, name in (
        ("GET", "items", "list"), ("POST", "delete", "delete"),
        ("POST", "download_url", "download_url"), ("POST", "upload_url", "upload_url"))
      for route in _api(verb, "/tool_router/session/{session_id}/mounts/{mount_id}/" + tail,
                        sessions_api.not_served(
                            f"session files ({verb} …/mounts/{{mount_id}}/{tail})",
                            "Session file mounts belong to the remote workbench; stub them."),
                        f"tool_router.files.{name}")],
    *_api("GET", "/session_configs", sessions_api.not_served(
        "composio.sessionConfigs.list() (GET /session_configs)",
        "Pass toolkits / tools / tags inline when you create the session."),
        "session_configs.list"),
    *_api("GET", "/session_configs/{session_config_id}", sessions_api.not_served(
        "composio.sessionConfigs.get() (GET /session_configs/{id})",
        "Pass toolkits / tools / tags inline when you create the session."),
        "session_configs.get"),
]

FLOW_ROUTES: list[Route] = [
    Route("GET", "/link/{token}", pages.link_page, "flow.link_page", auth=False),
    Route("POST", "/link/{token}", pages.link_submit, "flow.link_submit", auth=False,
          form_body=True),
    *[Route("GET", prefix + "/s/{token}", pages.initiate_redirect, "flow.initiate_redirect",
            auth=False) for prefix in API_PREFIXES],
    *[Route("GET", prefix + "/toolkits/auth/callback", pages.oauth_callback, "flow.callback",
            auth=False) for prefix in API_PREFIXES],
    Route("GET", "/_oauth/{project}/{toolkit}/authorize", pages.consent_page,
          "provider.authorize", auth=False),
    Route("POST", "/_oauth/{project}/{toolkit}/authorize", pages.consent_submit,
          "provider.decide", auth=False, form_body=True),
    Route("POST", "/_oauth/{project}/{toolkit}/token", pages.token_endpoint, "provider.token",
          auth=False, form_body=True),
    Route("POST", "/_oauth/{project}/{toolkit}/revoke", pages.revocation_endpoint,
          "provider.revoke", auth=False, form_body=True),
    Route("GET", "/_oauth/{project}/{toolkit}/userinfo", pages.userinfo_endpoint,
          "provider.userinfo", auth=False),
]

CONTROL_ROUTES: list[Route] = [
    Route("GET", "/_mock/health", control.health, "control.health", auth=False),
    Route("GET", "/_mock/version", control.version, "control.version", auth=False),
    # Tenant-scoped (x-api-key names the tenant, as on the API).
    Route("POST", "/_mock/reset", control.reset, "control.reset", json_body=True),
    Route("POST", "/_mock/seed", control.seed, "control.seed", json_body=True),
    Route("GET", "/_mock/clock", control.clock_get, "control.clock.get"),
    Route("POST", "/_mock/clock", control.clock_update, "control.clock.update", json_body=True),
    Route("GET", "/_mock/consent", control.consent_get, "control.consent.get"),
    Route("POST", "/_mock/consent", control.consent_script, "control.consent.script",
          json_body=True),
    Route("DELETE", "/_mock/consent", control.consent_clear, "control.consent.clear"),
    Route("GET", "/_mock/faults", control.faults_list, "control.faults.list"),
    Route("POST", "/_mock/faults", control.faults_create, "control.faults.create",
          json_body=True),
    Route("DELETE", "/_mock/faults", control.faults_clear, "control.faults.clear"),
    Route("GET", "/_mock/journal", control.journal_list, "control.journal.list"),
    Route("DELETE", "/_mock/journal", control.journal_clear, "control.journal.clear"),
    Route("GET", "/_mock/state", control.state_export, "control.state.export"),
    Route("POST", "/_mock/state", control.state_import, "control.state.import",
          json_body=True),
    Route("POST", "/_mock/toolkits", control.toolkits_add, "control.toolkits.add",
          json_body=True),
    Route("GET", "/_mock/toolkits", control.toolkits_list, "control.toolkits.list"),
    Route("POST", "/_mock/callback_verifier", control.callback_verifier,
          "control.callback_verifier", json_body=True),
]

WEBHOOK_ROUTES: list[Route] = [
    # event_types before {id}: a literal segment wins over the placeholder
    *_api("GET", "/webhook_subscriptions/event_types", webhooks_api.list_event_types,
          "webhook_subscriptions.list_event_types"),
    *_api("POST", "/webhook_subscriptions", webhooks_api.create_subscription,
          "webhook_subscriptions.create", json_body=True),
    *_api("GET", "/webhook_subscriptions", webhooks_api.list_subscriptions,
          "webhook_subscriptions.list"),
    *_api("GET", "/webhook_subscriptions/{id}", webhooks_api.get_subscription,
          "webhook_subscriptions.get"),
    *_api("PATCH", "/webhook_subscriptions/{id}", webhooks_api.update_subscription,
          "webhook_subscriptions.update", json_body=True),
    *_api("DELETE", "/webhook_subscriptions/{id}", webhooks_api.delete_subscription,
          "webhook_subscriptions.delete"),
    *_api("POST", "/webhook_subscriptions/{id}/rotate_secret", webhooks_api.rotate_secret,
          "webhook_subscriptions.rotate_secret"),
    Route("GET", "/_mock/webhooks", webhooks_api.control_list, "control.webhooks.list"),
    Route("POST", "/_mock/webhooks/receiver", webhooks_api.control_receiver_script,
          "control.webhooks.script", json_body=True),
    Route("POST", "/_mock/webhooks/receiver/{project}", webhooks_api.receive,
          "control.webhooks.receive", auth=False, raw_body=True),
]

ROUTES: list[Route] = [*API_ROUTES, *SESSION_ROUTES, *FLOW_ROUTES, *CONTROL_ROUTES,
                       *INSPECTOR_ROUTES, *V1_ROUTES, *WEBHOOK_ROUTES]
