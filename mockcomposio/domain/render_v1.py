"""Shapes of the legacy v1 API (camelCase, as ``composio-core`` 0.7.x parses them).

Field names follow the v1 OpenAPI file (``shared/spec/openapi-v1-legacy.json``) and the
pydantic models of ``composio-core`` 0.7.22 (``AppModel``, ``IntegrationModel``,
``ConnectedAccountModel``, ``ConnectionRequestModel``). Where the two disagree the SDK wins,
since it is what parses the answers (e.g. ``expectedInputFields[].displayName``, which the spec
spells ``display_name``: both are sent).
"""

from __future__ import annotations

from typing import Any

from . import render
from .catalogue import AuthSchemeSpec, Toolkit
from .models import ACTIVE, INACTIVE, AuthConfig, ConnectedAccount
from .project import Project
from .v1 import app_id, expected_input_fields

# The redirect URI v1 integrations showed by default (reference L9); like the v3 callbacks it
# names Composio's own backend, so the fake uses its own callback in its place.
V1_CALLBACK = "https://backend.composio.dev/api/v1/auth-apps/add"


# AppAuthScheme.auth_mode of composio-core 0.7.22
V1_AUTH_MODES = frozenset({"OAUTH2", "OAUTH1", "API_KEY", "BASIC", "BEARER_TOKEN",
                           "BASIC_WITH_JWT", "GOOGLE_SERVICE_ACCOUNT", "GOOGLEADS_AUTH",
                           "NO_AUTH", "CALCOM_AUTH"})


def _text(value: Any) -> str | None:
    """The 0.7 SDK types field defaults as ``Optional[str]``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _field(f: dict[str, Any], *, from_customer: bool, required: bool) -> dict[str, Any]:
    default = V1_CALLBACK if f["name"] == "oauth_redirect_uri" else _text(f.get("default"))
    display = f.get("displayName", f["name"])
    return {
        "name": f["name"],
        "display_name": display,
        "displayName": display,
        "description": f.get("description") or display,
        "type": f.get("type", "string"),
        "default": default,
        "required": required,
        "expected_from_customer": from_customer,
        "is_secret": bool(f.get("is_secret", False)),
        "get_current_user_endpoint": None,
    }


def _scheme(t: Toolkit, spec: AuthSchemeSpec) -> dict[str, Any]:
    fields = []
    for stage, from_customer in (("auth_config_creation", False),
                                 ("connected_account_initiation", True)):
        for which in ("required", "optional"):
            fields += [_field(f, from_customer=from_customer, required=which == "required")
                       for f in spec.fields(stage, which)]
    out: dict[str, Any] = {
        "scheme_name": spec.name,
        "auth_mode": spec.mode,
        "fields": fields,
        "proxy": {"base_url": t.raw["base_url"]} if t.raw.get("base_url") else None,
    }
    if spec.is_oauth:
        out.update({"authorization_url": spec.raw.get("authorization_url"),
                    "token_url": spec.raw.get("token_url"),
                    "default_scopes": list(spec.default_scopes)})
    return out


def _categories(t: Toolkit) -> list[str]:
    return [str(c.get("name") or c.get("slug")) for c in t.raw.get("categories", [])]


def app(t: Toolkit) -> dict[str, Any]:
    """``GET /api/v1/apps/{name}`` (and one item of the list)."""
    return {
        "appId": app_id(t),
        "key": t.slug,
        "name": t.slug,
        "displayName": t.name,
        "description": str(t.raw.get("description", "")),
        "logo": t.logo,
        "categories": _categories(t),
        "tags": [],
        "docs": t.raw.get("auth_guide_url") or t.raw.get("app_url"),
        "status": "ACTIVE",
        "enabled": True,
        "no_auth": t.no_auth,
        "meta": {
            "is_custom_app": False,
            "triggersCount": t.raw.get("triggers_count", 0),
            "actionsCount": t.raw.get("tools_count", len(t.tools)),
            "documentation_doc_text": None,
            "configuration_docs_text": None,
        },
        # composio-core 0.7 refuses the whole app list over one scheme it has no name for
        # (BILLCOM_AUTH): such schemes are left out of v1
        "auth_schemes": [_scheme(t, s) for s in t.schemes if s.mode in V1_AUTH_MODES],
        # Non-empty exactly when Composio manages an OAuth app for it: the 0.7 SDK reads this
        # to decide whether an integration can be created without the developer's credentials.
        "testConnectors": [{"id": f"composio-managed-{t.slug}", "name": f"{t.name} (Composio)",
                            "type": s.mode} for s in t.schemes if s.mode in t.managed_schemes],
    }


def integration(project: Project, ac: AuthConfig) -> dict[str, Any]:
    toolkit = project.catalogue.get(ac.toolkit)
    full = render.auth_config(project, ac)  # the v3 shape: masking and counts in one place
    fields = [_field(f, from_customer=True, required=bool(f["required"]))
              for f in expected_input_fields(project, ac)]
    return {
        "id": ac.id,
        "name": ac.name,
        "authScheme": ac.auth_scheme,
        "createdAt": full["created_at"],
        "updatedAt": full["last_updated_at"],
        "enabled": ac.enabled,
        "deleted": ac.deleted,
        "appId": app_id(toolkit) if toolkit else "",
        "appName": ac.toolkit,
        "logo": toolkit.logo if toolkit else "",
        "defaultConnectorId": ac.uuid,
        "useComposioAuth": ac.is_composio_managed,
        "authConfig": full["credentials"],
        "expectedInputFields": fields,
        "_count": {"connections": full["no_of_connections"]},
        "connections": [],
        "member": _member(project),
    }


def _member(project: Project) -> dict[str, Any]:
    return {"id": project.id, "clientId": project.id, "email": "developer@example.com",
            "name": "mockcomposio", "role": "admin"}


def connection(project: Project, a: ConnectedAccount) -> dict[str, Any]:
    toolkit = project.catalogue.get(a.toolkit)
    params = {k: v for k, v in render.account_state_val(project, a).items() if k != "status"}
    if toolkit is not None and toolkit.raw.get("base_url"):
        params.setdefault("base_url", toolkit.raw["base_url"])
    disabled = a.status == INACTIVE
    return {
        "id": a.id,
        "status": a.status,
        "statusReason": a.status_reason,
        "createdAt": project.clock.iso(a.created_at),
        "updatedAt": project.clock.iso(a.updated_at),
        "appUniqueId": a.toolkit,
        "appName": a.toolkit,
        "logo": toolkit.logo if toolkit else "",
        "integrationId": a.auth_config_id,
        "clientUniqueUserId": a.user_id,
        "entityId": a.user_id,
        "connectionParams": params,
        "isDisabled": disabled,
        "enabled": not disabled,
        "deleted": a.deleted,
        "labels": list(a.data.get("labels") or []),
        "member": _member(project),
        "invocationCount": 0,
    }


def connection_request(a: ConnectedAccount, redirect: str | None) -> dict[str, Any]:
    """``POST /api/v1/connectedAccounts``: ``redirectUrl`` only for OAuth (null when ACTIVE)."""
    return {
        "connectionStatus": a.status,
        "connectedAccountId": a.id,
        "redirectUrl": redirect if a.status != ACTIVE else None,
    }


def client_info(project: Project) -> dict[str, Any]:
    created = project.clock.iso(0)
    return {
        "client": {"autoId": 1, "id": project.id, "name": "mockcomposio",
                   "email": "developer@example.com", "createdAt": created,
                   "updatedAt": created, "triggersEnabled": False, "plan": "HOBBY"},
        "apiKey": render.mask(project.api_key),
    }
