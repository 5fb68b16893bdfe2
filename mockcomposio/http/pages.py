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
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..domain import connected_accounts as ca
from ..domain.connected_accounts import FlowError
from ..domain.project import Project
from . import i18n
from .app import Call, HandlerResult

if TYPE_CHECKING:  # the provider package loads on the first OAuth flow, not at start-up
    from ..domain.provider import ProviderError

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
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


def html_page(title: str, body: str, status: int = 200, lang: str = i18n.DEFAULT,
              ) -> web.Response:
    return web.Response(status=status, content_type="text/html", charset="utf-8",
                        text=PAGE.format(title=escape(title), body=body,
                                         lang=i18n.HTML_LANG.get(lang, "en")),
                        headers=PAGE_HEADERS)


def flow_error_page(err: FlowError) -> web.Response:
    return html_page(err.title, f"<h1>{escape(err.title)}</h1>"
                     f'<p class="error">{escape(err.message)}</p>', err.status)


def redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def finish(location: str | None, success: bool, lang: str = i18n.DEFAULT) -> web.Response:
    """Send the browser to the app's callback_url, or say it is done when there is none."""
    if location:
        return redirect(location)
    if success:
        title = i18n.t(lang, "connected_title")
        return html_page(title, f"<h1>{escape(title)}</h1><p>"
                         f"{escape(i18n.t(lang, 'connected_body'))}</p>", lang=lang)
    title = i18n.t(lang, "failed_title")
    return html_page(title, f"<h1>{escape(title)}</h1><p class=\"error\">"
                     f"{escape(i18n.t(lang, 'failed_body'))}</p>", 400, lang=lang)


def page_lang(c: Call) -> str:
    """``?locale=es|zh`` on the link URL, else the browser's Accept-Language, else English."""
    return i18n.choose(c.query.get("locale"), c.request.headers.get("Accept-Language"))


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
            missing = ca.missing_connection_fields(spec, account.connection_fields)
    except FlowError as err:
        return flow_error_page(err)
    lang = page_lang(c)
    return _link_form(lang, account, toolkit, spec, link.scopes, bool(missing))


def _link_form(lang: str, account: Any, toolkit: Any, spec: Any, scopes: list[str],
               field_step: bool, error: str | None = None, status: int = 200) -> web.Response:
    """The Connect Link page. Form field names and the button's name/value are the same in
    every language (drivers post them)."""
    name = escape(toolkit.name)
    title = i18n.t(lang, "connect_title").format(toolkit=toolkit.name)
    header = (f"<h1>{escape(title)}</h1><p>"
              + escape(i18n.t(lang, "connect_intro")).format(
                  toolkit=name, user=f"<code>{escape(account.user_id)}</code>") + "</p>")
    if error:
        header += f'<p class="error">{escape(error)}</p>'
    if spec.is_oauth and field_step:
        # The field step: what the provider needs before the redirect (a subdomain, a shop).
        inputs = []
        for f in ca.connection_field_specs(spec):
            req = " required" if f.get("required") or f in spec.fields(
                "connected_account_initiation", "required") else ""
            value = account.connection_fields.get(f["name"], "")
            inputs.append(
                f'<label>{escape(str(f.get("displayName", f["name"])))}<br>'
                f'<input type="text" name="{escape(f["name"])}" value="{escape(value)}"{req}>'
                f'</label><br><span class="muted">{escape(str(f.get("description", "")))}'
                "</span><br>")
        body = (f"{header}<p>{escape(i18n.t(lang, 'fields_intro').format(toolkit=toolkit.name))}"
                f'</p><form method="post" id="connection-fields">{"".join(inputs)}'
                '<button class="primary" type="submit" name="action" value="continue">'
                f"{escape(i18n.t(lang, 'continue'))}</button></form>")
    elif spec.is_oauth:
        items = "".join(f"<li><code>{escape(s)}</code></li>" for s in scopes) or \
            f'<li class="muted">{escape(i18n.t(lang, "no_scopes"))}</li>'
        button = i18n.t(lang, "continue_to").format(toolkit=toolkit.name)
        body = (f"{header}<p>{escape(i18n.t(lang, 'permissions').format(toolkit=toolkit.name))}"
                f'</p><ul class="scopes" id="requested-scopes">{items}</ul>'
                '<form method="post"><button class="primary" type="submit" name="action" '
                f'value="continue">{escape(button)}</button></form>')
    else:
        inputs = []
        for which in ("required", "optional"):
            for f in spec.fields("connected_account_initiation", which):
                kind = "password" if f.get("is_secret") else "text"
                req = " required" if which == "required" else ""
                # connection_data given on link pre-fills the non-secret fields (a subdomain).
                given = account.data.get(f["name"]) if not f.get("is_secret") else None
                value = f' value="{escape(given)}"' if isinstance(given, str) else ""
                inputs.append(
                    f'<label>{escape(str(f.get("displayName", f["name"])))}<br>'
                    f'<input type="{kind}" name="{escape(f["name"])}"{value}{req}></label><br>')
        body = (f"{header}<form method=\"post\">{''.join(inputs)}"
                '<button class="primary" type="submit" name="action" value="connect">'
                f"{escape(i18n.t(lang, 'connect'))}</button></form>")
    return html_page(title, body, status, lang=lang)


def link_submit(c: Call) -> HandlerResult:
    form: dict[str, list[str]] = c.body
    lang = page_lang(c)
    values = {k: v[0] for k, v in form.items() if k != "action"}
    try:
        project, link = _link_or_404(c)
        with project.lock:
            account, _, toolkit, spec = ca.describe_link(project, link)
            if spec.is_oauth:
                if ca.connection_field_specs(spec) and (
                        values or ca.missing_connection_fields(spec, account.connection_fields)):
                    try:
                        ca.submit_connection_fields(project, link, values)
                    except FlowError as err:  # show the step again, with what was wrong
                        return _link_form(lang, account, toolkit, spec, link.scopes, True,
                                          error=err.message, status=400)
                return redirect(ca.begin_oauth(project, c.origin, link))
            location = ca.submit_credentials(project, link, values)
    except FlowError as err:
        return flow_error_page(err)
    return finish(location, True, lang)


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
    from ..domain.provider import ProviderError

    try:
        project = _provider_project(c)
        with project.lock:
            pending = project.provider.start_authorization(dict(c.query))
    except FlowError as err:
        return flow_error_page(err)
    except ProviderError as err:
        return provider_error_page(err)
    app_name = "Composio" if pending.app.managed else pending.app.client_id
    # Per-tenant providers (Zendesk, Shopify): the user signs in on their own subdomain.
    where = (f' at <code id="provider-instance">{escape(pending.instance)}</code>'
             if pending.instance else "")
    boxes = "".join(
        f'<label><input type="checkbox" name="scope" value="{escape(s)}" checked> '
        f"{escape(s)}</label>" for s in pending.scopes)
    body = (f"<h1>Authorize {escape(app_name)}</h1>"
            f"<p><b>{escape(app_name)}</b> wants to access your "
            f"<b>{escape(pending.app.toolkit)}</b> account{where} (fake provider).</p>"
            f'<form method="post"><input type="hidden" name="pending" '
            f'value="{escape(pending.id)}"><div class="scopes">{boxes}</div><p>'
            '<button type="submit" name="decision" value="allow">Allow</button>'
            '<button type="submit" name="decision" value="deny">Deny</button></p></form>')
    return html_page(f"Authorize {app_name}", body)


def consent_submit(c: Call) -> HandlerResult:
    from ..domain.provider import ProviderError

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
