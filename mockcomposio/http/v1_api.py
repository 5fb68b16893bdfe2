"""JSON handlers of the legacy v1 API: thin adapters from HTTP to ``domain.v1`` and the same
auth-config / connected-account domain the v3 handlers use."""

from __future__ import annotations

from ..domain import auth_configs, connected_accounts, render_v1, v1
from ..domain.connected_accounts import CALLBACK_PATH_V31
from .app import Call, HandlerResult
from .params import boolean, csv_list, integer, text

SUCCESS = {"status": "success"}


def client_info(c: Call) -> HandlerResult:
    """The 0.7 SDK checks its API key here before its first call."""
    return 200, render_v1.client_info(c.project)


# -- apps ------------------------------------------------------------------------------------

def list_apps(c: Call) -> HandlerResult:
    category = (text(c.query, "category") or "").lower()
    items = [render_v1.app(t) for t in sorted(c.engine.catalogue, key=lambda t: t.slug)]
    if category:
        items = [a for a in items if any(category == cat.lower() for cat in a["categories"])]
    return 200, {"items": items, "totalPages": 1}


def get_app(c: Call) -> HandlerResult:
    return 200, render_v1.app(v1.find_app(c.project, c.match["name"]))


# Tool execution and triggers are not emulated. Empty catalogues still matter: on first use
# (no ~/.composio cache) ComposioToolSet refreshes its cache from these and fails on a 404.

def list_actions(c: Call) -> HandlerResult:
    return 200, {"items": [], "page": 1, "totalPages": 1}


def list_triggers(c: Call) -> HandlerResult:
    return 200, []


# -- integrations ----------------------------------------------------------------------------

def create_integration(c: Call) -> HandlerResult:
    ac = v1.create_integration(c.project, c.body,
                               default_redirect_uri=c.origin.url(CALLBACK_PATH_V31))
    return 200, render_v1.integration(c.project, ac)


def list_integrations(c: Call) -> HandlerResult:
    q = c.query
    configs = v1.list_integrations(c.project, app_key=text(q, "appId") or text(q, "appName"),
                                   show_disabled=bool(boolean(q, "showDisabled", False)))
    window, number, pages = v1.page(configs, page_number=integer(q, "page"),
                                    page_size=integer(q, "pageSize"))
    return 200, {"items": [render_v1.integration(c.project, ac) for ac in window],
                 "totalPages": pages, "page": number}


def get_integration(c: Call) -> HandlerResult:
    return 200, render_v1.integration(c.project, auth_configs.get(c.project, c.match["id"]))


def update_integration(c: Call) -> HandlerResult:
    v1.update_integration(c.project, c.match["id"], c.body)
    return 200, dict(SUCCESS)


def delete_integration(c: Call) -> HandlerResult:
    auth_configs.delete(c.project, c.match["id"])
    return 200, {**SUCCESS, "count": 1}


# -- connected accounts ----------------------------------------------------------------------

def initiate_connection(c: Call) -> HandlerResult:
    account, redirect = v1.initiate(c.project, c.origin, c.body)
    return 200, render_v1.connection_request(account, redirect)


def list_connections(c: Call) -> HandlerResult:
    q = c.query
    accounts = v1.list_connections(
        c.project, user_ids=csv_list(q, "user_uuid") or csv_list(q, "entityId"),
        app_names=csv_list(q, "appNames"), integration_ids=csv_list(q, "integrationId"),
        statuses=csv_list(q, "status"),
        active_only=bool(boolean(q, "showActiveOnly", False)),
        show_disabled=bool(boolean(q, "showDisabled", False)), labels=csv_list(q, "labels"))
    window, number, pages = v1.page(accounts, page_number=integer(q, "page"),
                                    page_size=integer(q, "pageSize"))
    return 200, {"items": [render_v1.connection(c.project, a) for a in window],
                 "totalPages": pages, "page": number}


def get_connection(c: Call) -> HandlerResult:
    account = connected_accounts.get(c.project, c.match["id"])
    return 200, render_v1.connection(c.project, account)


def delete_connection(c: Call) -> HandlerResult:
    connected_accounts.delete(c.project, c.match["id"])
    return 200, {**SUCCESS, "count": 1}


def enable_connection(c: Call) -> HandlerResult:
    connected_accounts.set_enabled(c.project, c.match["id"], True)
    return 201, dict(SUCCESS)


def disable_connection(c: Call) -> HandlerResult:
    connected_accounts.set_enabled(c.project, c.match["id"], False)
    return 201, dict(SUCCESS)
