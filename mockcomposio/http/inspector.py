"""The inspector page at ``/_mock/`` (issue 7): a human view of every tenant.

``GET /_mock/`` is one self-contained HTML page (inline CSS and JS, no build step). It polls
``GET /_mock/inspector/data`` every second and renders with DOM APIs and ``textContent`` only,
so hostile names, scopes or user ids are shown as text and never run; a per-response CSP nonce
blocks any other script as a second line of defence. The approve / deny buttons post to
``POST /_mock/inspector/links/{token}/decide``, which completes the link in-process exactly as
the end user's browser would (:func:`mockcomposio.domain.consent.complete_link`).

It shows the tenant whose API key the page was given (typed in, or ``/_mock/#key=<api key>``;
sent as ``x-api-key``). Every tenant (the most recently used first, at most MAX_TENANTS_SHOWN)
only when the server allows cross-tenant access: ``serve --all-tenants``, the admin key in
``x-mock-admin-key`` (``/_mock/#admin=<admin key>`` makes the page send it), or the pytest
plugin's own server (one test run owns all its tenants).
Nothing secret leaves it: API keys and auth-config secrets are masked as the API masks them
(first 4 characters + ``...``), token values are never sent, and journal entries get a second
redaction pass.
"""

from __future__ import annotations

import secrets
from operator import attrgetter
from typing import Any

from aiohttp import web

from ..domain import auth_configs, redact, render
from ..domain.consent import complete_link
from ..domain.models import PENDING_STATUSES, ConnectedAccount, Link
from ..domain.outcomes import Outcome
from ..domain.project import Project
from ..errors import ComposioError
from .app import POLICY_KEY, Call, HandlerResult, Route

JOURNAL_SHOWN = 200  # newest entries per tenant sent to the page (the journal keeps more)
POLL_MS = 1000
# Tenants in one data call when every tenant is shown: the call runs on the event loop every
# second, so its cost must not grow with the number of (mostly idle) tenants.
MAX_TENANTS_SHOWN = 50

# The journal is redacted when written (domain/redact.py); the page runs the same redaction
# again, so an entry written without it can never show a secret.


# -- the data endpoint ------------------------------------------------------------------------

def _pending_link(project: Project, link: Link) -> ConnectedAccount | None:
    """The account a link can still complete (the rule of ``Tenant.complete_pending``)."""
    if link.done:
        return None
    account = project.accounts.get(link.connected_account_id)
    if account is None or account.link_token != link.token \
            or account.status not in PENDING_STATUSES:
        return None
    return account


def _account(project: Project, a: ConnectedAccount) -> dict[str, Any]:
    token = a.token
    expires_at = token.expires_at if token is not None else None
    return {
        "id": a.id,
        "user_id": a.user_id,
        "toolkit": a.toolkit,
        "auth_config_id": a.auth_config_id,
        "auth_scheme": a.auth_scheme,
        "status": a.status,
        "status_reason": a.status_reason,
        "alias": a.alias,
        "requested_scopes": list(a.requested_scopes),
        "granted_scopes": None if a.granted_scopes is None else list(a.granted_scopes),
        "has_token": token is not None,
        "token_expires_at": expires_at,
        "has_refresh_token": bool(token is not None and token.refresh_token),
        "refresh_failures": token.refresh_failures if token is not None else 0,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "callback_url": a.callback_url,
        "via": a.via,
        "timeline": [{"at": e.at, "event": e.event, "detail": e.detail} for e in a.timeline],
    }


def _auth_config(project: Project, ac: Any) -> dict[str, Any]:
    # render.auth_config masks the toolkit's secret fields the way the real API does.
    shown = render.auth_config(project, ac)
    return {
        "id": ac.id,
        "name": ac.name,
        "toolkit": ac.toolkit,
        "auth_scheme": ac.auth_scheme,
        "status": ac.status,
        "managed": ac.is_composio_managed,
        "scope_override": None if ac.scope_override is None else list(ac.scope_override),
        "effective_scopes": list(auth_configs.effective_scopes(project, ac)),
        "credentials": {k: v for k, v in shown["credentials"].items()
                        if k not in ("scopes", "user_scopes")},
        "created_by_tool_router": ac.created_by_tool_router,
        "created_at": ac.created_at,
    }


def _session(s: Any) -> dict[str, Any]:
    return {
        "id": s.id,
        "user_id": s.user_id,
        "created_at": s.created_at,
        "toolkits": None if s.enabled_toolkits is None else list(s.enabled_toolkits),
        "disabled_toolkits": list(s.disabled_toolkits),
        "auth_configs": dict(s.auth_configs),
        "connected_accounts": {k: list(v) for k, v in s.connected_accounts.items()},
        "manage_connections": s.manage_connections_enabled,
        "callback_url": s.callback_url,
    }


def _journal_entry(entry: Any) -> dict[str, Any]:
    out: dict[str, Any] = entry.as_json()
    out["query"] = redact.redact_query(out.get("query") or "")
    out["request_body"] = redact.redact(out.get("request_body"))
    out["response_body"] = redact.redact(out.get("response_body"))
    return out


def tenant_view(project: Project) -> dict[str, Any]:
    """Everything the page shows of one tenant. Call under ``project.lock``."""
    project.run_due()  # expiries due on the virtual clock show as they would to the API
    users: dict[str, list[dict[str, Any]]] = {}
    for a in sorted(project.accounts.values(), key=lambda a: a.seq):
        users.setdefault(a.user_id, []).append(_account(project, a))
    links = []
    for link in project.links.values():
        account = _pending_link(project, link)
        if account is None:
            continue
        ac = project.auth_configs.get(link.auth_config_id)
        toolkit = project.catalogue.get(account.toolkit)
        spec = toolkit.scheme(ac.auth_scheme) if toolkit and ac else None
        links.append({
            "token": link.token,
            "connected_account_id": account.id,
            "user_id": account.user_id,
            "toolkit": account.toolkit,
            "auth_config_id": link.auth_config_id,
            "is_oauth": bool(spec and spec.is_oauth),
            "scopes": list(link.scopes),
            "callback_url": link.callback_url,
            "created_at": link.created_at,
            "expires_at": link.expires_at,
            "opened": link.oauth_state is not None,
        })
    entries = project.journal.entries()
    return {
        "id": project.id,
        "api_key": render.mask(project.api_key),
        "now": project.now(),
        "clock_frozen": project.clock.frozen,
        "auth_configs": [_auth_config(project, ac) for ac in project.auth_configs.values()
                         if not ac.deleted],
        "users": [{"user_id": uid, "accounts": accounts}
                  for uid, accounts in sorted(users.items())],
        "sessions": [_session(s) for s in project.sessions.values()],
        "pending_links": links,
        "journal_total": len(entries),
        "journal": [_journal_entry(e) for e in reversed(entries[-JOURNAL_SHOWN:])],
        "webhooks": _webhooks(project),
    }


def _webhooks(project: Project) -> dict[str, Any]:
    """The subscription (secret masked) and the newest deliveries with their attempts."""
    ws = project.webhooks
    deliveries = list(ws.deliveries.values())[-JOURNAL_SHOWN:]
    return {
        "subscriptions": [{"id": s.id, "webhook_url": s.webhook_url, "version": s.version,
                           "enabled_events": list(s.enabled_events),
                           "secret": render.mask(s.secret)}
                          for s in ws.subscriptions.values()],
        "deliveries_total": len(ws.deliveries),
        "deliveries": [{"id": d.id, "event_type": d.event_type, "url": d.url,
                        "state": d.state, "connected_account_id": d.account_id,
                        "created_at": d.created_at, "next_attempt_at": d.next_attempt_at,
                        "attempts": [{"number": a.number, "at": a.at, "status": a.status,
                                      "error": a.error} for a in d.attempts]}
                       for d in reversed(deliveries)],
    }


def _caller(c: Call) -> Project | None:
    """The tenant of the request's x-api-key, if it exists (the inspector never creates one)."""
    key = c.request.headers.get("x-api-key", "").strip()
    return c.engine.existing(key) if key else None


def data(c: Call) -> HandlerResult:
    everyone = c.request.app[POLICY_KEY].cross_tenant(c.request)
    if everyone:
        projects = list(c.engine.projects.values())
        total = len(projects)
        if total > MAX_TENANTS_SHOWN:
            # The most recently used, newest first (a C sort: ~3 ms for 20,000 tenants).
            projects = sorted(projects, key=attrgetter("last_used"))[:-MAX_TENANTS_SHOWN - 1:-1]
    else:
        mine = _caller(c)
        projects = [mine] if mine is not None else []
        total = len(projects)
    tenants = []
    for project in projects:
        with project.lock:
            tenants.append(tenant_view(project))
    return 200, {"tenants": tenants, "poll_ms": POLL_MS, "tenants_total": total,
                 "scope": "all" if everyone else "tenant"}


# -- approve / deny -------------------------------------------------------------------------

def decide_link(c: Call) -> HandlerResult:
    token = c.match["token"]
    body: dict[str, Any] = c.body
    if c.request.content_type != "application/json":
        # A cross-site form can post text/plain without a CORS preflight; JSON it cannot.
        raise ComposioError(415, "Inspector_JsonRequired",
                            "Send the decision as JSON (content-type: application/json).",
                            suggested_fix='POST {"decision": "allow"} with that content type.')
    hit = c.engine.find_link(token)
    if hit is None:
        raise ComposioError(404, "Inspector_LinkNotFound",
                            f"No pending link {token}: it does not exist or its tenant was "
                            "reset.", suggested_fix="Reload the inspector; the link is gone.")
    project, link = hit
    if not c.request.app[POLICY_KEY].cross_tenant(c.request) and _caller(c) is not project:
        raise ComposioError(403, "Inspector_OtherTenant",
                            f"Link {token} belongs to a tenant other than the one of your "
                            "x-api-key.", suggested_fix="Open the inspector with that "
                            "tenant's API key (or start the server with --all-tenants).")
    decision = body["decision"]
    scopes = body.get("scopes")
    with project.lock:
        project.run_due()
        account = _pending_link(project, link)
        if account is None:
            current = project.accounts.get(link.connected_account_id)
            state = current.status if current is not None else "deleted"
            raise ComposioError(
                409, "Inspector_LinkNotPending",
                f"Link {token} can no longer be completed: its connected account is {state}.",
                suggested_fix="Start a new connection from your app.")
        outcome = Outcome.allow(scopes) if decision == "allow" else Outcome.deny()
        result = complete_link(project, c.origin, link, outcome)
        return 200, {
            "token": token,
            "connected_account_id": account.id,
            "decision": decision,
            "status": account.status,
            "status_reason": account.status_reason,
            "granted_scopes": (None if account.granted_scopes is None
                               else list(account.granted_scopes)),
            "redirect_url": result.final_url if result.left_fake else None,
            "message": result.page_text or None,
        }


# -- the page -------------------------------------------------------------------------------

def page(c: Call) -> HandlerResult:
    nonce = secrets.token_urlsafe(16)
    csp = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
           "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
           "frame-ancestors 'none'")
    html = PAGE.replace("__NONCE__", nonce).replace("__POLL_MS__", str(POLL_MS))
    return web.Response(status=200, content_type="text/html", charset="utf-8", text=html,
                        headers={"Content-Security-Policy": csp, "Cache-Control": "no-store",
                                 "X-Content-Type-Options": "nosniff"})


def redirect_to_page(c: Call) -> HandlerResult:
    return web.Response(status=302, headers={"Location": "/_mock/"})


INSPECTOR_ROUTES: list[Route] = [
    Route("GET", "/_mock", redirect_to_page, "page.inspector_redirect", auth=False),
    Route("GET", "/_mock/", page, "page.inspector", auth=False),
    Route("GET", "/_mock/inspector/data", data, "inspector.data", auth=False),
    Route("POST", "/_mock/inspector/links/{token}/decide", decide_link,
          "inspector.decide_link", auth=False, json_body=True),
]


# The page. Data is only ever put in the DOM with textContent / setAttribute("data-…"), never
# innerHTML, so nothing a tenant stores can become markup.
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mockcomposio inspector</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style nonce="__NONCE__">
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#f6f7f9}
header{background:#1d2433;color:#fff;padding:.7rem 1.2rem;display:flex;gap:1rem;
  align-items:center;position:sticky;top:0;z-index:1}
header h1{font-size:1.1rem;margin:0;font-weight:600}
header input{padding:.3rem .5rem;border-radius:5px;border:0;min-width:14rem}
#conn{font-size:.85rem;color:#9fb3d9} #conn.down{color:#ff8a80}
main{padding:1rem 1.2rem}
section.tenant{background:#fff;border:1px solid #dde;border-radius:10px;margin-bottom:1.2rem;
  padding:.6rem 1rem 1rem}
h2{font-size:1.05rem;margin:.4rem 0} h3{font-size:.95rem;margin:1rem 0 .3rem;color:#345}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{text-align:left;padding:.25rem .45rem;border-bottom:1px solid #eee;vertical-align:top}
th{color:#556;font-weight:600;background:#fafbfc}
code,.mono{font-family:ui-monospace,monospace;font-size:.82rem}
.status{font-weight:600;padding:.05rem .4rem;border-radius:4px;background:#eee;
  white-space:nowrap}
.s-ACTIVE,.s-ENABLED{background:#dff5e1;color:#17692a}
.s-INITIATED,.s-INITIALIZING{background:#fff4d6;color:#7a5600}
.s-FAILED,.s-EXPIRED,.s-REVOKED,.s-DISABLED{background:#fde2e1;color:#a1261d}
.s-INACTIVE{background:#e8e8ee;color:#555}
.muted{color:#778} .scope{margin-right:.3rem;overflow-wrap:anywhere}
td{overflow-wrap:break-word} td.mono:first-child{white-space:nowrap}
td.path{overflow-wrap:anywhere} section.tenant{overflow-x:auto}
.missing{text-decoration:line-through;color:#a1261d}
button{padding:.2rem .7rem;border-radius:5px;border:1px solid #888;cursor:pointer;
  margin-right:.3rem}
button.approve{background:#1b7f3b;border-color:#1b7f3b;color:#fff}
button.deny{background:#fff;border-color:#b3261e;color:#b3261e}
pre{white-space:pre-wrap;word-break:break-all;background:#f4f5f7;padding:.4rem;margin:.2rem 0}
#flash{margin:.5rem 1.2rem 0;font-size:.9rem} #flash:empty{display:none}
.empty{color:#889;font-style:italic}
</style></head>
<body>
<header><h1>mockcomposio inspector</h1>
<input id="filter" type="search" placeholder="filter by user_id or id" aria-label="filter">
<input id="apikey" type="password" placeholder="your tenant's API key" aria-label="API key"
  autocomplete="off">
<span id="conn">connecting…</span></header>
<div id="flash" role="status"></div>
<main id="root"><p class="empty">Loading…</p></main>
<script nonce="__NONCE__">
"use strict";
const POLL_MS = __POLL_MS__;
const root = document.getElementById("root");
const conn = document.getElementById("conn");
const flash = document.getElementById("flash");
const filterBox = document.getElementById("filter");
const keyBox = document.getElementById("apikey");
// The tenant to show: from /_mock/#key=<api key> (a fragment never reaches a server or its
// logs) or typed in; kept for this tab only.
// An admin (serve --admin-key) opens /_mock/#admin=<admin key> to see every tenant.
function keyFromHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  for (const [name, item] of [["key", "mockcomposio-key"], ["admin", "mockcomposio-admin"]]) {
    if (params.get(name)) sessionStorage.setItem(item, params.get(name));
  }
  if (location.hash) history.replaceState(null, "", location.pathname);
  keyBox.value = sessionStorage.getItem("mockcomposio-key") || "";
}
keyFromHash();
window.addEventListener("hashchange", () => {
  keyFromHash();
  lastSignature = null;
  refresh();
});
function keyHeaders(extra) {
  const h = Object.assign({}, extra || {});
  if (keyBox.value) h["x-api-key"] = keyBox.value;
  const admin = sessionStorage.getItem("mockcomposio-admin");
  if (admin) h["x-mock-admin-key"] = admin;
  return h;
}
// UI state kept across re-renders: unticked scopes of pending links, open <details>.
const unticked = new Map();
const opened = new Set();
let lastSignature = null;
let lastData = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = String(v);
    else node.setAttribute(k, String(v));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
const iso = (t) => (t === null || t === undefined) ? "" :
  new Date(t * 1000).toISOString().replace(".000Z", "Z");
function rel(seconds) {
  const s = Math.round(Math.abs(seconds));
  const parts = s >= 86400 ? [Math.floor(s / 86400) + "d", Math.floor(s % 86400 / 3600) + "h"]
    : s >= 3600 ? [Math.floor(s / 3600) + "h", Math.floor(s % 3600 / 60) + "m"]
    : s >= 60 ? [Math.floor(s / 60) + "m", (s % 60) + "s"] : [s + "s"];
  return seconds >= 0 ? "in " + parts.join(" ") : parts.join(" ") + " ago";
}
// A time on the tenant's virtual clock: absolute, plus a relative hint refreshed every poll.
function when(t, now) {
  if (t === null || t === undefined) return el("span", {class: "muted"}, "—");
  return el("span", {class: "when mono", "data-at": t},
            iso(t), " ", el("span", {class: "rel muted"}, "(" + rel(t - now) + ")"));
}
function status(s) {
  return el("span", {class: "status s-" + String(s).replace(/[^A-Z_]/g, "")}, s);
}
function scopes(list, granted) {
  const span = el("span");
  if (!list || list.length === 0) { span.append(el("span", {class: "muted"}, "none")); }
  for (const s of list || []) {
    const cls = granted && !granted.includes(s) ? "scope mono missing" : "scope mono";
    span.append(el("span", {class: cls}, s), " ");
  }
  return span;
}
function table(headers, rows, emptyText) {
  if (rows.length === 0) return el("p", {class: "empty"}, emptyText);
  const thead = el("thead", {}, el("tr", {}, ...headers.map(h => el("th", {}, h))));
  return el("table", {}, thead, el("tbody", {}, ...rows));
}
function details(key, summary, ...content) {
  const d = el("details", {"data-key": key}, el("summary", {}, summary), ...content);
  if (opened.has(key)) d.open = true;
  d.addEventListener("toggle", () => { d.open ? opened.add(key) : opened.delete(key); });
  return d;
}
const json = (v) => el("pre", {}, JSON.stringify(v, null, 2));

function matches(filter, ...values) {
  if (!filter) return true;
  return values.some(v => v && String(v).toLowerCase().includes(filter));
}

function renderAuthConfigs(t) {
  return table(["id", "name", "toolkit", "status", "type", "scheme", "scopes", "credentials"],
    t.auth_configs.map(ac => el("tr", {"data-auth-config-id": ac.id},
      el("td", {class: "mono"}, ac.id), el("td", {}, ac.name), el("td", {}, ac.toolkit),
      el("td", {}, status(ac.status)),
      el("td", {}, ac.managed ? "Composio-managed" : "custom",
         ac.created_by_tool_router ? " (tool router)" : ""),
      el("td", {class: "mono"}, ac.auth_scheme),
      el("td", {}, scopes(ac.effective_scopes),
         ac.scope_override === null ? el("span", {class: "muted"}, " (toolkit default)") : null),
      el("td", {class: "mono"}, ...Object.entries(ac.credentials).map(
        ([k, v]) => el("div", {}, k + ": " + (typeof v === "string" ? v : JSON.stringify(v)))))
    )), "No auth configs.");
}

function renderUsers(t, filter) {
  const box = el("div");
  const users = t.users.filter(u => matches(filter, u.user_id,
    ...u.accounts.map(a => a.id)));
  if (users.length === 0) box.append(el("p", {class: "empty"}, "No connected accounts."));
  for (const u of users) {
    box.append(el("h3", {}, "user ", el("code", {class: "user-id"}, u.user_id),
                  el("span", {class: "muted"}, " · " + u.accounts.length + " account(s)")));
    box.append(table(
      ["id", "toolkit", "status", "reason", "requested scopes", "granted scopes",
       "token expires", "updated", "timeline"],
      u.accounts.map(a => el("tr", {class: "account", "data-account-id": a.id,
                                    "data-status": a.status},
        el("td", {class: "mono"}, a.id,
           a.alias ? el("div", {class: "muted"}, "alias: ", a.alias) : null),
        el("td", {}, a.toolkit, el("div", {class: "muted mono"}, a.auth_config_id)),
        el("td", {class: "account-status"}, status(a.status)),
        el("td", {class: "reason"}, a.status_reason || ""),
        el("td", {class: "requested"}, scopes(a.requested_scopes, a.granted_scopes)),
        el("td", {class: "granted"}, a.granted_scopes === null
           ? el("span", {class: "muted"}, "—") : scopes(a.granted_scopes)),
        el("td", {}, !a.has_token ? el("span", {class: "muted"}, "no token")
           : a.token_expires_at === null ? el("span", {class: "muted"}, "never")
           : when(a.token_expires_at, t.now),
           a.refresh_failures ? el("div", {class: "muted"},
                                   a.refresh_failures + " refresh failure(s)") : null),
        el("td", {}, when(a.updated_at, t.now)),
        el("td", {}, details("tl:" + a.id, a.timeline.length + " event(s)",
          table(["at (virtual)", "event", "detail"], a.timeline.map(e => el("tr", {},
            el("td", {class: "mono"}, iso(e.at)), el("td", {}, e.event),
            el("td", {}, e.detail))), "No events.")))
      )), ""));
  }
  return box;
}

function renderLinks(t, filter) {
  const links = t.pending_links.filter(l => matches(filter, l.user_id, l.connected_account_id));
  return table(["link", "user", "toolkit", "scopes (untick to grant fewer)", "expires",
                "callback_url", ""],
    links.map(l => {
      const off = unticked.get(l.token) || new Set();
      const boxes = el("div", {});
      for (const s of l.scopes) {
        const cb = el("input", {type: "checkbox", "data-scope": s});
        cb.checked = !off.has(s);
        cb.addEventListener("change", () => {
          const set = unticked.get(l.token) || new Set();
          cb.checked ? set.delete(s) : set.add(s);
          unticked.set(l.token, set);
        });
        boxes.append(el("label", {class: "scope mono"}, cb, " ", s));
      }
      if (!l.is_oauth) boxes.append(el("span", {class: "muted"},
                                        "non-OAuth: placeholder credentials"));
      const approve = el("button", {class: "approve", type: "button", "data-token": l.token},
                         "Approve");
      const deny = el("button", {class: "deny", type: "button", "data-token": l.token}, "Deny");
      approve.addEventListener("click", () => decide(l, "allow", boxes));
      deny.addEventListener("click", () => decide(l, "deny", boxes));
      return el("tr", {class: "pending-link", "data-token": l.token,
                       "data-account-id": l.connected_account_id},
        el("td", {class: "mono"}, l.token, el("div", {class: "muted"}, l.connected_account_id,
           l.opened ? " · opened" : "")),
        el("td", {}, el("code", {}, l.user_id)), el("td", {}, l.toolkit),
        el("td", {}, boxes), el("td", {}, when(l.expires_at, t.now)),
        el("td", {class: "mono"}, l.callback_url || el("span", {class: "muted"}, "none")),
        el("td", {}, approve, deny));
    }), "No pending links.");
}

function renderSessions(t, filter) {
  const sessions = t.sessions.filter(s => matches(filter, s.user_id, s.id));
  return table(["id", "user", "toolkits", "auth configs", "accounts", "manage connections",
                "created"],
    sessions.map(s => el("tr", {"data-session-id": s.id},
      el("td", {class: "mono"}, s.id), el("td", {}, el("code", {}, s.user_id)),
      el("td", {}, s.toolkits === null ? "all" : s.toolkits.join(", "),
         s.disabled_toolkits.length ? el("div", {class: "muted"},
                                         "except " + s.disabled_toolkits.join(", ")) : null),
      el("td", {class: "mono"}, Object.entries(s.auth_configs).map(
        ([k, v]) => k + " → " + v).join(", ")),
      el("td", {class: "mono"}, Object.entries(s.connected_accounts).map(
        ([k, v]) => k + " → " + v.join(" ")).join(", ")),
      el("td", {}, s.manage_connections ? "on" : "off",
         s.callback_url ? el("div", {class: "muted mono"}, s.callback_url) : null),
      el("td", {}, when(s.created_at, t.now)))), "No tool-router sessions.");
}

// Query strings are stored percent-encoded; show them decoded (as text, like everything).
function readable(query) {
  try {
    return [...new URLSearchParams(query)].map(([k, v]) => k + "=" + v).join("&");
  } catch (err) { return query; }
}

function renderJournal(t) {
  const rows = t.journal.map(e => el("tr", {class: "journal-entry", "data-seq": e.seq},
    el("td", {class: "mono"}, e.seq), el("td", {class: "mono"}, iso(e.at)),
    el("td", {class: "mono"}, e.method),
    el("td", {class: "mono path"}, e.path + (e.query ? "?" + readable(e.query) : "")),
    el("td", {}, el("span", {class: "status " + (e.status < 400 ? "s-ACTIVE" : "s-FAILED")},
                    e.status)),
    el("td", {class: "mono"}, e.operation || "", e.hint ? el("div", {class: "muted"}, e.hint)
       : null, e.fault ? el("div", {class: "muted"}, "fault: ", e.fault) : null),
    el("td", {class: "mono"}, e.duration_ms + " ms"),
    el("td", {}, details("j:" + t.id + ":" + e.seq, e.request_id,
       el("div", {}, "request"), json(e.request_body),
       el("div", {}, "response"), json(e.response_body)))));
  const shown = t.journal.length < t.journal_total
    ? " (newest " + t.journal.length + " of " + t.journal_total + ")" : "";
  return el("div", {}, el("p", {class: "muted"}, t.journal_total + " request(s)" + shown),
            table(["#", "at (virtual)", "method", "path", "status", "operation", "time",
                   "request id"], rows, "No requests yet."));
}

function renderWebhooks(t) {
  const w = t.webhooks;
  const subs = w.subscriptions.map(s => el("p", {class: "webhook-subscription"},
    el("code", {}, s.id), " → ", el("code", {}, s.webhook_url), " · ", s.version, " · ",
    s.enabled_events.join(", "), " · secret ", el("code", {}, s.secret)));
  const rows = w.deliveries.map(d => el("tr", {class: "webhook-delivery", "data-id": d.id},
    el("td", {class: "mono"}, d.id), el("td", {class: "mono"}, d.event_type),
    el("td", {class: "mono"}, d.connected_account_id || ""),
    el("td", {}, el("span", {class: "status " + (d.state === "delivered" ? "s-ACTIVE"
                                                  : "s-FAILED")}, d.state)),
    el("td", {class: "mono"}, d.attempts.map(a => "#" + a.number + " " +
                                            (a.status === null ? (a.error || "…") : a.status))
                                        .join(" · ")),
    el("td", {}, d.next_attempt_at === null ? "" : when(d.next_attempt_at, t.now))));
  return el("div", {}, ...(subs.length ? subs : [el("p", {class: "muted"}, "No subscription.")]),
            table(["webhook-id", "event", "account", "state", "attempts", "next retry"],
                  rows, "No deliveries yet."));
}

function render(data) {
  const filter = filterBox.value.trim().toLowerCase();
  const frag = document.createDocumentFragment();
  if (data.tenants.length === 0)
    frag.append(el("p", {class: "empty"}, data.scope === "all"
      ? "No tenants yet: any request with an x-api-key creates one."
      : "Enter your tenant's API key above (or open /_mock/#key=<api key>) to see it. " +
        "Every tenant is shown only by a server started with --all-tenants."));
  else if (data.tenants_total > data.tenants.length)
    frag.append(el("p", {class: "muted"}, "Showing the " + data.tenants.length +
                   " most recently used of " + data.tenants_total + " tenants."));
  for (const t of data.tenants) {
    frag.append(el("section", {class: "tenant", "data-tenant-id": t.id},
      el("h2", {}, "Tenant ", el("code", {}, t.id), " · API key ",
         el("code", {class: "api-key"}, t.api_key)),
      el("div", {class: "muted"}, "virtual clock: ",
         el("span", {class: "mono clock"}, iso(t.now)), t.clock_frozen ? " (frozen)" : ""),
      el("h3", {}, "Pending links"), renderLinks(t, filter),
      el("h3", {}, "Users and connected accounts"), renderUsers(t, filter),
      el("h3", {}, "Auth configs"), renderAuthConfigs(t),
      el("h3", {}, "Tool-router sessions"), renderSessions(t, filter),
      el("h3", {}, "Webhook deliveries"), renderWebhooks(t),
      el("h3", {}, "Request journal"), renderJournal(t)));
  }
  root.replaceChildren(frag);
}

// Only the clock moves between most polls: refresh the relative times in place, and rebuild
// the DOM only when something else changed (so a click never lands on a replaced button).
function tick(data) {
  const nowOf = new Map(data.tenants.map(t => [t.id, t.now]));
  for (const section of root.querySelectorAll("section.tenant")) {
    const now = nowOf.get(section.getAttribute("data-tenant-id"));
    if (now === undefined) continue;
    const clock = section.querySelector(".clock");
    if (clock) clock.textContent = iso(now);
    for (const w of section.querySelectorAll(".when")) {
      const r = w.querySelector(".rel");
      if (r) r.textContent = "(" + rel(Number(w.getAttribute("data-at")) - now) + ")";
    }
  }
}

async function refresh() {
  try {
    const response = await fetch("/_mock/inspector/data", {cache: "no-store",
                                                           headers: keyHeaders()});
    if (!response.ok) throw new Error("HTTP " + response.status);
    const data = await response.json();
    const signature = JSON.stringify(data.tenants.map(t => ({...t, now: 0})));
    lastData = data;
    if (signature !== lastSignature) { lastSignature = signature; render(data); }
    tick(data);
    conn.textContent = "live · updated " + new Date().toLocaleTimeString();
    conn.className = "";
  } catch (err) {
    conn.textContent = "server unreachable (" + err.message + "); retrying";
    conn.className = "down";
  }
}

async function decide(link, decision, boxes) {
  const body = {decision: decision};
  if (decision === "allow" && link.is_oauth) {
    body.scopes = [...boxes.querySelectorAll("input[data-scope]")]
      .filter(cb => cb.checked).map(cb => cb.getAttribute("data-scope"));
  }
  try {
    const response = await fetch("/_mock/inspector/links/" + encodeURIComponent(link.token) +
                                 "/decide", {method: "POST", body: JSON.stringify(body),
                                 headers: keyHeaders({"content-type": "application/json"})});
    const result = await response.json();
    flash.textContent = response.ok
      ? result.connected_account_id + " → " + result.status +
        (result.status_reason ? " (" + result.status_reason + ")" : "")
      : "Could not " + decision + ": " + result.error.message;
  } catch (err) {
    flash.textContent = "Could not " + decision + ": " + err.message;
  }
  unticked.delete(link.token);
  await refresh();
}

filterBox.addEventListener("input", () => { if (lastData) render(lastData); });
keyBox.addEventListener("change", () => {
  sessionStorage.setItem("mockcomposio-key", keyBox.value);
  lastSignature = null;
  refresh();
});
refresh();
setInterval(refresh, POLL_MS);
</script>
</body></html>
"""
