"""JSON handlers of the Composio API: thin adapters from HTTP to the domain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain import auth_configs, connected_accounts, project_config, render
from ..domain.catalogue import toolkit_changelog, toolkit_detail, toolkit_list_item
from ..domain.connected_accounts import CALLBACK_PATH_V31
from ..domain.pagination import paginate
from ..errors import bad_request, toolkit_not_found
from .app import Call, HandlerResult
from .params import boolean, csv_list, integer, text, whole_number

AUTH_CONFIG_MAX_LIMIT = 200


# -- auth configs ----------------------------------------------------------------------------

def create_auth_config(c: Call) -> HandlerResult:
    ac = auth_configs.create(
        c.project, c.body["toolkit"]["slug"], c.body.get("auth_config"),
        default_redirect_uri=c.origin.url(CALLBACK_PATH_V31))
    return 201, render.auth_config_created(ac)


def get_auth_config(c: Call) -> HandlerResult:
    return 200, render.auth_config(c.project, auth_configs.get(c.project, c.match["id"]))


def list_auth_configs(c: Call) -> HandlerResult:
    q = c.query
    items = auth_configs.list_configs(
        c.project, toolkit_slugs=csv_list(q, "toolkit_slug"),
        is_composio_managed=boolean(q, "is_composio_managed"),
        show_disabled=bool(boolean(q, "show_disabled", False)), search=text(q, "search"))
    return 200, paginate(items, limit=integer(q, "limit"), cursor=text(q, "cursor"),
                         render=lambda ac: render.auth_config(c.project, ac),
                         max_limit=AUTH_CONFIG_MAX_LIMIT)


def update_auth_config(c: Call) -> HandlerResult:
    ac = auth_configs.update(c.project, c.match["id"], c.body)
    return 200, {"success": True, "message": f"Auth config {ac.id} updated"}


def set_auth_config_status(c: Call) -> HandlerResult:
    ac = auth_configs.set_status(c.project, c.match["id"], c.match["status"])
    return 200, {"success": True, "message": f"Auth config {ac.id} is now {ac.status}"}


def delete_auth_config(c: Call) -> HandlerResult:
    revoke = bool(boolean(c.query, "revoke_on_delete", False))
    ac = auth_configs.delete(c.project, c.match["id"])
    payload: dict[str, Any] = {"success": True, "message": f"Auth config {ac.id} deleted"}
    if revoke:
        connected_accounts.revoke_for_auth_config(c.project, ac.id)
        payload["revoke_job_id"] = c.project.ids.new("rj")
    return 200, payload


# -- toolkits --------------------------------------------------------------------------------

TOOLKIT_MAX_LIMIT = 1000
TOOLKIT_DEFAULT_LIMIT = 20
_MANAGED_BY = ("composio", "all", "project")
_SORT_BY = ("usage", "alphabetically")


def _choice(value: str | None, name: str, allowed: tuple[str, ...]) -> str:
    if value is None or value == "":
        return ""
    if value not in allowed:
        raise bad_request(f"{name} must be one of {', '.join(allowed)}, got {value[:50]!r}.",
                          slug="Request_InvalidQuery", errors=[f"{name}: not one of {allowed}"])
    return value


def _toolkit_page(c: Call, params: Mapping[str, Any], *, slugs: list[str] | None = None
                  ) -> dict[str, Any]:
    items = c.project.catalogue.filter(
        search=str(params.get("search") or ""), category=str(params.get("category") or ""),
        managed_by=_choice(params.get("managed_by"), "managed_by", _MANAGED_BY),
        sort_by=_choice(params.get("sort_by"), "sort_by", _SORT_BY),
        slugs=None if slugs is None else tuple(slugs))
    raw_limit = params.get("limit")
    limit = None if raw_limit in (None, "") else whole_number(raw_limit, "limit")
    # Composio answers the top 20 by default ("toolkits.get() returns top 20"); a get_many of
    # more slugs than that gets them all
    default = min(TOOLKIT_MAX_LIMIT, max(TOOLKIT_DEFAULT_LIMIT, len(slugs or ())))
    return paginate(items, limit=limit, cursor=params.get("cursor") or None,
                    render=toolkit_list_item, default_limit=default,
                    max_limit=TOOLKIT_MAX_LIMIT)


def list_toolkits(c: Call) -> HandlerResult:
    return 200, _toolkit_page(c, c.query)


def get_toolkit(c: Call) -> HandlerResult:
    slug = c.match["slug"]
    catalogue = c.project.catalogue
    toolkit = catalogue.get(slug)
    if toolkit is None:
        raise toolkit_not_found(slug, catalogue.suggest(slug))
    return 200, toolkit_detail(toolkit)


def list_toolkit_categories(c: Call) -> HandlerResult:
    categories = list(c.project.catalogue.categories())
    return 200, paginate(categories, limit=integer(c.query, "limit"),
                         cursor=text(c.query, "cursor"), render=dict,
                         default_limit=TOOLKIT_MAX_LIMIT, max_limit=TOOLKIT_MAX_LIMIT)


def toolkits_changelog(c: Call) -> HandlerResult:
    return 200, {"items": [toolkit_changelog(t) for t in c.project.catalogue]}


def get_many_toolkits(c: Call) -> HandlerResult:
    body = c.body or {}
    slugs = body.get("toolkits")
    if slugs is not None:
        unknown = [s for s in slugs if s not in c.project.catalogue]
        if unknown:
            raise toolkit_not_found(unknown[0], c.project.catalogue.suggest(unknown[0]))
    return 200, _toolkit_page(c, body, slugs=slugs)


# -- connected accounts ----------------------------------------------------------------------

def create_connected_account(c: Call) -> HandlerResult:
    connection = c.body.get("connection") or {}
    account, redirect = connected_accounts.initiate(
        c.project, c.origin, auth_config_id=c.body["auth_config"]["id"],
        user_id=connection.get("user_id", "default"),
        callback_url=connection.get("callback_url") or connection.get("redirect_uri"),
        state=connection.get("state"), alias=connection.get("alias"))
    return 201, render.connection_created(c.project, account, redirect)


def link_connected_account(c: Call) -> HandlerResult:
    b = c.body
    account, link, redirect = connected_accounts.link(
        c.project, c.origin, auth_config_id=b["auth_config_id"], user_id=b["user_id"],
        callback_url=b.get("callback_url"), alias=b.get("alias"),
        connection_data=b.get("connection_data"))
    return 201, render.link_created(c.project, account, link, redirect)


def get_connected_account(c: Call) -> HandlerResult:
    account = connected_accounts.get(c.project, c.match["id"])
    return 200, render.connected_account(c.project, account)


def list_connected_accounts(c: Call) -> HandlerResult:
    q = c.query
    items = connected_accounts.select_accounts(
        c.project, user_ids=csv_list(q, "user_ids"), toolkit_slugs=csv_list(q, "toolkit_slugs"),
        statuses=csv_list(q, "statuses"), auth_config_ids=csv_list(q, "auth_config_ids"),
        connected_account_ids=csv_list(q, "connected_account_ids"),
        order_by=text(q, "order_by") or "created_at",
        order_direction=text(q, "order_direction") or "desc")
    return 200, paginate(items, limit=integer(q, "limit"), cursor=text(q, "cursor"),
                         render=lambda a: render.connected_account(c.project, a,
                                                                   with_params=False))


def delete_connected_account(c: Call) -> HandlerResult:
    connected_accounts.delete(c.project, c.match["id"],
                              revoke_upstream=bool(boolean(c.query, "revoke_on_delete", False)))
    return 200, {"success": True}


def update_connected_account_status(c: Call) -> HandlerResult:
    connected_accounts.set_enabled(c.project, c.match["id"], c.body["enabled"])
    return 200, {"success": True}


def update_connected_account(c: Call) -> HandlerResult:
    b = c.body
    account = connected_accounts.update(c.project, c.match["id"], alias=b.get("alias"),
                                        connection=b.get("connection"),
                                        enabled=b.get("enabled"))
    return 200, {"id": account.id, "status": account.status, "success": True}


def complete_auth(c: Call) -> HandlerResult:
    account = connected_accounts.complete_auth(c.project, session_uri=c.body["session_uri"],
                                               user_id=c.body["user_id"])
    return 200, {"connected_account_id": account.id, "toolkit_slug": account.toolkit}


def get_project_config(c: Call) -> HandlerResult:
    return 200, project_config.render(c.project)


def update_project_config(c: Call) -> HandlerResult:
    project_config.update(c.project, c.body)
    return 200, project_config.render(c.project)


def refresh_connected_account(c: Call) -> HandlerResult:
    redirect_url = text(c.query, "redirect_url") or (c.body or {}).get("redirect_url")
    account, redirect = connected_accounts.refresh(c.project, c.origin, c.match["id"],
                                                   redirect_url)
    return 200, {"id": account.id, "status": account.status, "redirect_url": redirect}


def revoke_connected_account(c: Call) -> HandlerResult:
    revoked = connected_accounts.revoke(c.project, c.match["id"])
    account = connected_accounts.get(c.project, c.match["id"])
    return 200, {"revoked_tokens": revoked,
                 "connected_account": {"id": account.id, "status": account.status}}


def unsupported(c: Call) -> HandlerResult:
    raise bad_request(f"{c.request.method} {c.request.path} is not supported by mockcomposio.")
