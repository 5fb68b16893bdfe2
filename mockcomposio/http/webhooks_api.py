"""Handlers of the webhook-subscriptions API, the control plane's ``/_mock/webhooks`` and the
in-process receiver: thin adapters to :mod:`mockcomposio.domain.webhooks`."""

from __future__ import annotations

from aiohttp import web

from ..domain import webhooks
from ..domain.pagination import paginate
from ..errors import ComposioError
from .app import Call, HandlerResult
from .params import integer, text

MAX_LIMIT = 1000  # the reference: "max allowed is 1000"
RECEIVED_SHOWN = 100


def create_subscription(c: Call) -> HandlerResult:
    b = c.body
    sub = webhooks.create(c.project, webhook_url=b.get("webhook_url"),
                          enabled_events=b.get("enabled_events"), version=b.get("version"))
    return 201, webhooks.render(c.project, sub)


def _full_secret(c: Call) -> bool:
    """The v3 reference masks the secret in reads ("full secret only on create/rotate"); the
    v3.1 reference (and both SDKs, which call v3.1) returns it in every response."""
    return not c.request.path.startswith("/api/v3/")


def list_subscriptions(c: Call) -> HandlerResult:
    q = c.query
    full = _full_secret(c)
    return 200, paginate(webhooks.list_subscriptions(c.project), limit=integer(q, "limit"),
                         cursor=text(q, "cursor"),
                         render=lambda s: webhooks.render(c.project, s, full_secret=full),
                         max_limit=MAX_LIMIT)


def get_subscription(c: Call) -> HandlerResult:
    return 200, webhooks.render(c.project, webhooks.get(c.project, c.match["id"]),
                                full_secret=_full_secret(c))


def update_subscription(c: Call) -> HandlerResult:
    return 200, webhooks.render(c.project, webhooks.update(c.project, c.match["id"], c.body),
                                full_secret=_full_secret(c))


def delete_subscription(c: Call) -> HandlerResult:
    webhooks.delete(c.project, c.match["id"])
    return 200, {"success": True}


def rotate_secret(c: Call) -> HandlerResult:
    sub = webhooks.rotate_secret(c.project, c.match["id"])
    return 200, {"id": sub.id, "secret": sub.secret}


def list_event_types(c: Call) -> HandlerResult:
    return 200, {"items": [dict(e, supported_versions=list(e["supported_versions"]))
                           for e in webhooks.EVENT_TYPES]}


# -- control plane -----------------------------------------------------------------------------

def control_list(c: Call) -> HandlerResult:
    """The tenant's subscriptions and its whole delivery log (``?body=false``: without
    payloads), with the in-process receiver's URL."""
    p = c.project
    ws = p.webhooks
    with_body = c.query.get("body", "true").lower() not in ("0", "false", "no")
    return 200, {
        "subscriptions": [webhooks.render(p, s) for s in ws.subscriptions.values()],
        "deliveries": [webhooks.delivery_json(p, d, body=with_body)
                       for d in ws.deliveries.values()],
        "receiver": {"url": c.origin.url(f"/_mock/webhooks/receiver/{p.id}"),
                     "received": len(ws.received), "script": list(ws.receiver_script),
                     # the newest requests it got, headers and raw body as sent (so a test in
                     # any language can verify the signature itself)
                     "requests": [{"headers": r.headers,
                                   "body": r.body.decode("utf-8", "replace"),
                                   "status": r.status}
                                  for r in ws.received[-RECEIVED_SHOWN:]]},
    }


def control_receiver_script(c: Call) -> HandlerResult:
    """``{"statuses": [500, 500]}``: what the in-process receiver answers next (then 200)."""
    statuses = c.body.get("statuses", [])
    ws = c.project.webhooks
    ws.receiver_script = [int(s) for s in statuses]
    return 200, {"script": list(ws.receiver_script)}


def receive(c: Call) -> HandlerResult:
    """``POST /_mock/webhooks/receiver/{project}``: the in-process receiver records what it
    got (headers and raw body, for signature checks) and answers as scripted (default 200)."""
    project = c.engine.project_by_id(c.match["project"])
    if project is None:
        raise ComposioError(404, "Mock_ReceiverNotFound",
                            f"No tenant {c.match['project']} (dropped or reset).",
                            suggested_fix="Use the receiver URL of a live tenant "
                            "(GET /_mock/webhooks).")
    with project.lock:
        status = webhooks.receive(project, dict(c.request.headers), bytes(c.body or b""))
    return web.Response(status=status, text="ok" if status < 400 else "scripted failure")
