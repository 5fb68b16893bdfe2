"""Browser-facing endpoints: the Connect Link page, the fake provider (consent page, token,
revocation, userinfo) and Composio's OAuth callback.

The consent page is a public contract, so tests can drive it with any HTTP client:
one ``<form method="post">``, a checkbox ``name="scope"`` per requested scope (checked), and
buttons ``name="decision"`` with ``value="allow"`` / ``value="deny"``. Every user-supplied
string is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from aiohttp import web

from ..domain import connected_accounts as ca
from ..domain.connected_accounts import FlowError
from ..domain.project import Project
from ..domain.provider import ProviderError
from .app import Call, HandlerResult

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}}
.card{{border:1px solid #ddd;border-radius:10px;padding:1.5rem}}
.scopes label{{display:block;margin:.3rem 0;font-family:monospace}}
button{{padding:.5rem 1.2rem;margin-right:.5rem;border-radius:6px;border:1px solid #888}}
button[value=allow],button.primary{{background:#1b6ef3;color:#fff;border-color:#1b6ef3}}
.muted{{color:#666;font-size:.9rem}} .error{{color:#b00020}}
</style></head>
<body><div class="card">{body}</div>
<p class="muted">mockcomposio — an offline fake of Composio; nothing here reaches the real
service.</p></body></html>"""


# The pages run no script at all: if escaping ever missed something, the browser still would
# not run it. (No form-action: the forms' redirects go to the app's own callback_url.)
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src 'self' data:; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
}


def html_page(title: str, body: str, status: int = 200) -> web.Response:
    return web.Response(status=status, content_type="text/html", charset="utf-8",
                        text=PAGE.format(title=escape(title), body=body),
                        headers=PAGE_HEADERS)


def flow_error_page(err: FlowError) -> web.Response:
    return html_page(err.title, f"<h1>{escape(err.title)}</h1>"
                     f'<p class="error">{escape(err.message)}</p>', err.status)


def redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def finish(location: str | None, success: bool) -> web.Response:
    """Send the browser to the app's callback_url, or say it is done when there is none."""
    if location:
        return redirect(location)
    if success:
        return html_page("Connected", "<h1>Connected</h1><p>Your account is connected. "
                         "You can close this tab.</p>")
    return html_page("Connection failed", "<h1>Connection failed</h1><p class=\"error\">The "
                     "account could not be connected. You can close this tab.</p>", 400)


def _link_or_404(c: Call) -> tuple[Project, Any]:
    hit = c.engine.find_link(c.match["token"])
    if hit is None:
        raise FlowError(404, "Link not found",
                        "This connect link does not exist (or its project was reset).")
    return hit


# -- Connect Link ----------------------------------------------------------------------------

def link_page(c: Call) -> HandlerResult:
    try:
        project, link = _link_or_404(c)
        with project.lock:
            account, _, toolkit, spec = ca.describe_link(project, link)
    except FlowError as err:
        return flow_error_page(err)
    header = (f"<h1>Connect {escape(toolkit.name)}</h1>"
              f"<p>Connect your {escape(toolkit.name)} account for user "
              f"<code>{escape(account.user_id)}</code>.</p>")
    if spec.is_oauth:
        scopes = "".join(f"<li><code>{escape(s)}</code></li>" for s in link.scopes) or \
            "<li class=\"muted\">(no scopes)</li>"
        body = (f"{header}<p>{escape(toolkit.name)} will be asked for these permissions:</p>"
                f'<ul class="scopes" id="requested-scopes">{scopes}</ul>'
                '<form method="post"><button class="primary" type="submit" name="action" '
                f'value="continue">Continue to {escape(toolkit.name)}</button></form>')
    else:
        inputs = []
        for which in ("required", "optional"):
            for f in spec.fields("connected_account_initiation", which):
                kind = "password" if f.get("is_secret") else "text"
                req = " required" if which == "required" else ""
                inputs.append(
                    f'<label>{escape(str(f.get("displayName", f["name"])))}<br>'
                    f'<input type="{kind}" name="{escape(f["name"])}"{req}></label><br>')
        body = (f"{header}<form method=\"post\">{''.join(inputs)}"
                '<button class="primary" type="submit" name="action" value="connect">'
                "Connect</button></form>")
    return html_page(f"Connect {toolkit.name}", body)


def link_submit(c: Call) -> HandlerResult:
    form: dict[str, list[str]] = c.body
    try:
        project, link = _link_or_404(c)
        with project.lock:
            _, _, _, spec = ca.describe_link(project, link)
            if spec.is_oauth:
                return redirect(ca.begin_oauth(project, c.origin, link))
            location = ca.submit_credentials(project, link, {k: v[0] for k, v in form.items()
                                                             if k != "action"})
    except FlowError as err:
        return flow_error_page(err)
    return finish(location, True)


def initiate_redirect(c: Call) -> HandlerResult:
    """``/api/v3/s/{token}``: initiate's redirect URL goes straight to the provider."""
    try:
        project, link = _link_or_404(c)
        with project.lock:
            return redirect(ca.begin_oauth(project, c.origin, link))
    except FlowError as err:
        return flow_error_page(err)


def oauth_callback(c: Call) -> HandlerResult:
    state = c.query.get("state", "")
    hit = c.engine.find_state(state) if state else None
    if hit is None:
        return flow_error_page(FlowError(
            400, "Bad callback state",
            "This callback's state matches no connection in progress (code 1704). Start the "
            "connection again from your app."))
    project, link = hit
    try:
        with project.lock:
            location = ca.complete_callback(project, link, dict(c.query))
            account = project.accounts.get(link.connected_account_id)
            ok = account is not None and account.status == "ACTIVE"
    except FlowError as err:
        return flow_error_page(err)
    return finish(location, ok)


# -- the fake provider -------------------------------------------------------------------------

def _provider_project(c: Call) -> Project:
    project = c.engine.project_by_id(c.match["project"])
    if project is None:
        raise FlowError(404, "Unknown OAuth provider",
                        "No such provider tenant (the project may have been reset).")
    return project


def provider_error_page(err: ProviderError) -> web.Response:
    if err.redirect_to:
        return redirect(err.redirect_to)
    return html_page("Authorization error",
                     f"<h1>Authorization error</h1><p class=\"error\"><code>{escape(err.error)}"
                     f"</code>: {escape(err.description)}</p>", err.status)


def consent_page(c: Call) -> HandlerResult:
    try:
        project = _provider_project(c)
        with project.lock:
            pending = project.provider.start_authorization(dict(c.query))
    except FlowError as err:
        return flow_error_page(err)
    except ProviderError as err:
        return provider_error_page(err)
    app_name = "Composio" if pending.app.managed else pending.app.client_id
    boxes = "".join(
        f'<label><input type="checkbox" name="scope" value="{escape(s)}" checked> '
        f"{escape(s)}</label>" for s in pending.scopes)
    body = (f"<h1>Authorize {escape(app_name)}</h1>"
            f"<p><b>{escape(app_name)}</b> wants to access your "
            f"<b>{escape(pending.app.toolkit)}</b> account (fake provider).</p>"
            f'<form method="post"><input type="hidden" name="pending" '
            f'value="{escape(pending.id)}"><div class="scopes">{boxes}</div><p>'
            '<button type="submit" name="decision" value="allow">Allow</button>'
            '<button type="submit" name="decision" value="deny">Deny</button></p></form>')
    return html_page(f"Authorize {app_name}", body)


def consent_submit(c: Call) -> HandlerResult:
    form: dict[str, list[str]] = c.body
    try:
        project = _provider_project(c)
        decision = (form.get("decision") or [""])[0]
        if decision not in ("allow", "deny"):
            raise FlowError(400, "No decision",
                            'Submit the form with decision=allow or decision=deny.')
        pending_id = (form.get("pending") or [""])[0]
        with project.lock:
            location = project.provider.decide(
                pending_id, allow=decision == "allow",
                granted_scopes=form.get("scope", []) if decision == "allow" else None,
                error=form["error"][0] if form.get("error") else None)
    except ValueError as exc:  # a scripted provider error that OAuth does not define
        return flow_error_page(FlowError(400, "Invalid provider error", str(exc)))
    except FlowError as err:
        return flow_error_page(err)
    except ProviderError as err:
        return provider_error_page(err)
    return redirect(location)


def _json(status: int, payload: dict[str, Any]) -> web.Response:
    return web.Response(status=status, body=json.dumps(payload).encode(),
                        content_type="application/json",
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def token_endpoint(c: Call) -> HandlerResult:
    form: dict[str, list[str]] = c.body
    try:
        project = _provider_project(c)
    except FlowError as err:
        return _json(404, {"error": "invalid_request", "error_description": err.message})
    with project.lock:
        status, payload = project.provider.token_endpoint(
            {k: v[0] for k, v in form.items()}, dict(c.request.headers))
    return _json(status, payload)


def revocation_endpoint(c: Call) -> HandlerResult:
    form: dict[str, list[str]] = c.body
    try:
        project = _provider_project(c)
    except FlowError as err:
        return _json(404, {"error": "invalid_request", "error_description": err.message})
    with project.lock:
        status, payload = project.provider.revocation_endpoint(
            {k: v[0] for k, v in form.items()}, dict(c.request.headers))
    return _json(status, payload)


def userinfo_endpoint(c: Call) -> HandlerResult:
    try:
        project = _provider_project(c)
    except FlowError as err:
        return _json(404, {"error": "invalid_request", "error_description": err.message})
    with project.lock:
        status, payload = project.provider.userinfo(c.request.headers.get("Authorization", ""))
    return _json(status, payload)
