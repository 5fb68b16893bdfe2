"""Tool Router session handlers: thin adapters from HTTP to :mod:`..domain.sessions`."""

from __future__ import annotations

from ..domain import render, sessions
from ..domain.pagination import paginate
from .app import Call, Handler, HandlerResult
from .params import boolean, csv_list, integer, text

TOOLKITS_DEFAULT_LIMIT = 20  # "Returns the first 20 toolkits by default" (docs)
TOOLS_DEFAULT_LIMIT = 500
HISTORY_DEFAULT_LIMIT = 20


def create_session(c: Call) -> HandlerResult:
    session = sessions.create(c.project, c.origin, c.body)
    return 201, sessions.render(session, c.origin)


def get_session(c: Call) -> HandlerResult:
    return 200, sessions.render(sessions.get(c.project, c.match["session_id"]), c.origin)


def update_session(c: Call) -> HandlerResult:
    return 200, sessions.render(sessions.update(c.project, c.match["session_id"], c.body),
                                c.origin)


def config_history(c: Call) -> HandlerResult:
    q = c.query
    items = sessions.config_history(c.project, c.match["session_id"])
    return 200, paginate(items, limit=integer(q, "limit"), cursor=text(q, "cursor"),
                         default_limit=HISTORY_DEFAULT_LIMIT, render=lambda item: item)


def not_served(operation: str, fix: str) -> Handler:
    """A handler for an SDK operation mockcomposio does not model: a clear 400 naming it (after
    the session id is checked, so an unknown session is still a 404)."""
    def handle(c: Call) -> HandlerResult:
        if "session_id" in c.match:
            sessions.get(c.project, c.match["session_id"])
        raise sessions.not_served_operation(operation, fix)
    handle.not_served = True  # type: ignore[attr-defined]  # sweeps that read data skip these
    return handle


def is_not_served(handler: Handler) -> bool:
    """Whether ``handler`` is a :func:`not_served` refusal (it never reads tenant data)."""
    return bool(getattr(handler, "not_served", False))


def delete_session(c: Call) -> HandlerResult:
    session = sessions.delete(c.project, c.match["session_id"])
    return 200, {"session_id": session.id, "deleted": True}


def link(c: Call) -> HandlerResult:
    b = c.body
    account, link_obj, redirect = sessions.link(
        c.project, c.origin, c.match["session_id"], toolkit=b["toolkit"],
        callback_url=b.get("callback_url"), alias=b.get("alias"))
    return 201, render.link_created(c.project, account, link_obj, redirect)


def toolkits(c: Call) -> HandlerResult:
    q = c.query
    session, items = sessions.toolkits(
        c.project, c.match["session_id"], slugs=csv_list(q, "toolkits"),
        is_connected=boolean(q, "is_connected"), search=text(q, "search"))
    return 200, paginate(
        items, limit=integer(q, "limit"), cursor=text(q, "cursor"),
        default_limit=TOOLKITS_DEFAULT_LIMIT,
        render=lambda item: sessions.render_toolkit(c.project, session, item[0], item[1]))


def tools(c: Call) -> HandlerResult:
    q = c.query
    items = sessions.tools(c.project, c.match["session_id"])
    return 200, paginate(items, limit=integer(q, "limit"), cursor=text(q, "cursor"),
                         default_limit=TOOLS_DEFAULT_LIMIT, render=lambda item: item)


def execute(c: Call) -> HandlerResult:
    return 200, sessions.execute(c.project, c.origin, c.match["session_id"],
                                 c.body["tool_slug"], c.body.get("arguments"),
                                 account=c.body.get("account"))


def execute_meta(c: Call) -> HandlerResult:
    return 200, sessions.execute(c.project, c.origin, c.match["session_id"],
                                 c.body["slug"], c.body.get("arguments"))


def search(c: Call) -> HandlerResult:
    sessions.get(c.project, c.match["session_id"])
    raise sessions.not_supported("search (COMPOSIO_SEARCH_TOOLS)")
