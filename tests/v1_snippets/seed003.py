"""The snippets of seed 003 ("Auth Concepts", composio-core 0.7.x), run against mockcomposio.

Runs in the composio-core 0.7.22 virtual environment, started by tests/test_v1_sdk.py with
COMPOSIO_BASE_URL / COMPOSIO_API_KEY pointing at a LiveServer. It prints one JSON object per
line: ``{"event": "redirect", ...}`` when an OAuth flow waits for the user (the pytest side
completes the consent page, this side blocks in ``wait_until_active``), then ``{"event":
"result", ...}`` with everything the test asserts on (or ``{"event": "error", ...}``).

Deviations from the seed, each because of the catalogue or of the 0.7.22 SDK itself:
- ``composio_openai`` is not installed; ``ComposioToolSet`` and ``App`` come from ``composio``.
- The API-key example passes Notion's own field (``generic_api_key``) rather than the seed's
  ``token``. The Gmail bearer-token example runs verbatim (its prints captured: stdout carries
  this script's events).
- ``get_expected_params_for_user(app=...)`` needs an existing integration in 0.7.22 (its
  fallback catches ``ValueError`` but ``NoItemsFound`` is not one), so integrations are created
  first, as the seed's "Fetch Integration ID" step assumes.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import traceback
from typing import Any

import sitecustomize  # the network guard of tests/v1_snippets (must have loaded at start-up)
from composio import App, ComposioToolSet
from composio.client.collections import AuthSchemeType, IntegrationModel
from composio.exceptions import InvalidParams, NoItemsFound

CALLBACK = "https://myapp.example/callback"


def emit(event: str, **data: Any) -> None:
    print(json.dumps({"event": event, **data}, default=str), flush=True)


def dump(value: Any) -> Any:
    """pydantic models (also inside the SDK's plain dicts and lists) as JSON-ready data."""
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    if isinstance(value, list):
        return [dump(v) for v in value]
    return value


def main() -> dict[str, Any]:
    out: dict[str, Any] = {"guard_active": getattr(sitecustomize, "GUARD_ACTIVE", False)}

    # -- Creating integrations ---------------------------------------------------------------
    toolset = ComposioToolSet()

    def has_integration(app: App) -> bool:
        integrations = toolset.get_integrations(app=app)
        return len(integrations) > 0

    def create_integration_if_not_exists(
        app: App,
        auth_mode: AuthSchemeType,
        auth_config: dict[str, Any],
        use_composio_oauth_app: bool = False,
        force_new_integration: bool = False,
    ) -> IntegrationModel:
        if not force_new_integration and has_integration(app):
            integrations = toolset.get_integrations(app=app)
            return integrations[0]
        return toolset.create_integration(
            app=app,
            auth_mode=auth_mode,
            auth_config=auth_config,
            use_composio_oauth_app=use_composio_oauth_app,
        )

    out["asana_has_integration"] = has_integration(App.ASANA)
    out["gmail_has_integration_before"] = has_integration(App.GMAIL)

    app = toolset.client.apps.get(name="gmail")
    expected_params = toolset.fetch_expected_integration_params(app=app, auth_scheme="OAUTH2")
    out["gmail_expected_integration_params"] = [dump(p) for p in expected_params]

    integration = create_integration_if_not_exists(
        app=App.GMAIL,
        auth_mode="OAUTH2",
        auth_config={"client_id": "1234567890", "client_secret": "1234567890"},
        use_composio_oauth_app=False,
    )
    out["gmail_integration"] = dump(integration)
    out["gmail_has_integration_after"] = has_integration(App.GMAIL)
    out["gmail_integration_reused"] = create_integration_if_not_exists(
        app=App.GMAIL, auth_mode="OAUTH2", auth_config={}).id

    # -- Connections: OAuth 2 (Composio-managed GitHub app) ------------------------------------
    user_id = "00000000-0000-0000-0000-000000000000"

    def has_active_connection(user_id: str, app: App) -> bool:
        entity = toolset.get_entity(user_id)
        try:
            connection = entity.get_connection(app=app)
            return connection.status == "ACTIVE"
        except NoItemsFound:
            return False

    out["github_active_before"] = has_active_connection(user_id, App.GITHUB)
    toolset.create_integration(app=App.GITHUB, auth_mode="OAUTH2", use_composio_oauth_app=True)
    github_integration = toolset.get_integrations(App.GITHUB)[0]
    out["github_params_by_integration"] = dump(
        toolset.get_expected_params_for_user(integration_id=github_integration.id))
    github_params = toolset.get_expected_params_for_user(app=App.GITHUB)
    out["github_params"] = dump(github_params)

    entity = toolset.get_entity(user_id)
    github_request = entity.initiate_connection(
        app_name=App.GITHUB,
        auth_mode=github_params["auth_scheme"],
        auth_config={},
        redirect_url=CALLBACK + "?step=github",
    )
    out["github_request"] = dump(github_request)
    emit("redirect", app="github", request=dump(github_request))
    github_account = github_request.wait_until_active(client=toolset.client, timeout=60)
    out["github_account"] = dump(github_account)
    out["github_get_connection"] = dump(entity.get_connection(app=App.GITHUB))
    out["github_active_after"] = has_active_connection(user_id, App.GITHUB)

    # -- Connections: OAuth 2 through the custom Gmail integration -----------------------------
    gmail_request = toolset.initiate_connection(
        integration_id=integration.id, entity_id=user_id, redirect_url=CALLBACK + "?step=gmail")
    out["gmail_request"] = dump(gmail_request)
    emit("redirect", app="gmail", request=dump(gmail_request))
    out["gmail_account"] = dump(gmail_request.wait_until_active(client=toolset.client,
                                                                timeout=60))

    # -- Connections: bearer token (ACTIVE at once) ---------------------------------------------
    # The seed's "Many applications that have OAuth 2.0, also support the user providing their
    # own Bearer token" example, verbatim (its import line aside). As the seed's "Creating
    # Integrations" step assumes, a Gmail BEARER_TOKEN integration exists first: 0.7.22's
    # get_expected_params_for_user(app=...) needs one.
    toolset.create_integration(app=App.GMAIL, auth_mode="BEARER_TOKEN", auth_config={},
                               use_composio_oauth_app=False)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # stdout carries this script's JSON events
        # ---- seed 003, verbatim from here ----
        toolset = ComposioToolSet()
        entity = toolset.get_entity("default")
        gmail_params = toolset.get_expected_params_for_user(app=App.GMAIL, auth_scheme="BEARER_TOKEN")  # noqa: E501
        print(gmail_params["expected_params"])
        # [ExpectedFieldInput(name='token', type='string', description='Token for bearer token auth', displayName='Token', is_secret=False, required=True, expected_from_customer=True, default=None, get_current_user_endpoint=None)]  # noqa: E501


        gmail_connection_request = entity.initiate_connection(
            app_name=App.GMAIL,
            auth_mode=gmail_params["auth_scheme"],
            auth_config={"token": "gmail_token"},
        )

        print(gmail_connection_request.model_dump_json(indent=2))
        # ---- to here ----
    out["gmail_bearer_printed"] = printed.getvalue()
    out["gmail_bearer_params"] = dump(gmail_params)
    out["gmail_bearer_request"] = dump(gmail_connection_request)
    out["gmail_bearer_connection"] = dump(entity.get_connection(
        connected_account_id=gmail_connection_request.connectedAccountId))
    default_entity = entity

    # -- Connections: API key (ACTIVE at once) -------------------------------------------------
    notion_integration = toolset.create_integration(
        app=App.NOTION, auth_mode="API_KEY", auth_config={}, use_composio_oauth_app=False)
    notion_params = toolset.get_expected_params_for_user(app=App.NOTION)
    out["notion_params"] = dump(notion_params)
    notion_request = default_entity.initiate_connection(
        app_name=App.NOTION,
        auth_mode=notion_params["auth_scheme"],
        auth_config={p.name: "notion_token" for p in notion_params["expected_params"]},
    )
    out["notion_request"] = dump(notion_request)
    # "Initializing connection with parameters": the SDK checks the expected params first.
    try:
        toolset.initiate_connection(integration_id=notion_integration.id, entity_id=user_id)
        out["notion_missing_params_error"] = None
    except InvalidParams as exc:
        out["notion_missing_params_error"] = str(exc)
    notion_with_params = toolset.initiate_connection(
        integration_id=notion_integration.id, entity_id=user_id,
        connected_account_params={"generic_api_key": "secret_notion_key"})
    out["notion_with_params"] = dump(notion_with_params)
    out["notion_connection"] = dump(toolset.get_entity(user_id).get_connection(app=App.NOTION))
    out["user_connections"] = sorted(c.appUniqueId
                                     for c in toolset.get_entity(user_id).get_connections())
    return out


if __name__ == "__main__":
    try:
        emit("result", results=main())
    except BaseException:
        emit("error", traceback=traceback.format_exc())
        sys.exit(1)
