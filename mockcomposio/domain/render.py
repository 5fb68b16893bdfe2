"""API shapes of stored objects (field names and nesting exactly as the real API sends them)."""

from __future__ import annotations

from typing import Any

from . import auth_configs
from .catalogue import SECRET_FIELD_NAMES, field_out
from .credentials import mask, redact_auth_config_credentials, redact_connection_val
from .models import AuthConfig, ConnectedAccount, Link, val_status
from .project import Project

__all__ = ["mask"]  # re-exported: the inspector and the v1 renderer mask with it


def _masked(values: dict[str, Any], secret_names: set[str] | frozenset[str]) -> dict[str, Any]:
    return {k: (mask(v) if k in secret_names else v) for k, v in values.items()}


def _secret_names(project: Project, toolkit_slug: str) -> frozenset[str]:
    toolkit = project.catalogue.get(toolkit_slug)
    return toolkit.secret_field_names() if toolkit else frozenset(SECRET_FIELD_NAMES)


def expected_input_fields(project: Project, ac: AuthConfig) -> list[dict[str, Any]]:
    """The fields a connection on this config asks the user for: the toolkit scheme's
    connected-account initiation fields (Zendesk's subdomain, an API key, ...)."""
    toolkit = project.catalogue.get(ac.toolkit)
    spec = toolkit.scheme(ac.auth_scheme) if toolkit else None
    if spec is None:
        return []
    return [field_out(f) for which in ("required", "optional")
            for f in spec.fields("connected_account_initiation", which)]


def auth_config(project: Project, ac: AuthConfig) -> dict[str, Any]:
    toolkit = project.catalogue.get(ac.toolkit)
    active = project.index.active_count(ac.id)
    expected = expected_input_fields(project, ac)
    managed = ac.is_composio_managed
    out: dict[str, Any] = {
        "id": ac.id,
        "uuid": ac.uuid,
        "name": ac.name,
        "type": ac.type,
        "toolkit": {"slug": ac.toolkit, "logo": toolkit.logo if toolkit else ""},
        "auth_scheme": ac.auth_scheme,
        "is_composio_managed": ac.is_composio_managed,
        # April 2026: redacted (managed) or masked (custom) whatever the project flag says.
        "credentials": redact_auth_config_credentials(ac.credentials, managed=managed),
        "status": ac.status,
        "created_by": ac.created_by,
        "created_at": project.clock.iso(ac.created_at),
        "last_updated_at": project.clock.iso(ac.last_updated_at),
        "no_of_connections": active,
        "expected_input_fields": expected,
        "restrict_to_following_tools": list(ac.restrict_to_following_tools),
        "tool_access_config": {k: list(v) for k, v in ac.tool_access_config.items()},
        "shared_credentials": redact_auth_config_credentials(ac.shared_credentials,
                                                             managed=managed),
        "is_enabled_for_tool_router": ac.is_enabled_for_tool_router,
        "scopes": list(auth_configs.effective_scopes(project, ac)),
        "deprecated_params": {
            "default_connector_id": ac.uuid,
            "expected_input_fields": [dict(f) for f in expected],
            "member_uuid": None,
            "toolkit_id": f"tk-{ac.toolkit}",
        },
    }
    if ac.proxy_config:
        out["proxy_config"] = _masked(dict(ac.proxy_config), {"proxy_auth_key"})
    return out


def auth_config_created(ac: AuthConfig) -> dict[str, Any]:
    return {
        "toolkit": {"slug": ac.toolkit},
        "auth_config": {
            "id": ac.id,
            "auth_scheme": ac.auth_scheme,
            "is_composio_managed": ac.is_composio_managed,
            "restrict_to_following_tools": list(ac.restrict_to_following_tools),
        },
    }


def account_state_val(project: Project, a: ConnectedAccount) -> dict[str, Any]:
    val = dict(a.val)
    val["status"] = val_status(a.auth_scheme, a.status, val.get("status"))
    ac = project.auth_configs.get(a.auth_config_id)
    return redact_connection_val(val, managed=bool(ac and ac.is_composio_managed),
                                 mask_flag=project.mask_secrets,
                                 secret_names=_secret_names(project, a.toolkit))


def connected_account(project: Project, a: ConnectedAccount, *, with_params: bool = True,
                      ) -> dict[str, Any]:
    ac = project.auth_configs.get(a.auth_config_id)
    val = account_state_val(project, a)
    out: dict[str, Any] = {
        "id": a.id,
        "user_id": a.user_id,
        "status": a.status,
        "status_reason": a.status_reason,
        "toolkit": {"slug": a.toolkit},
        "auth_config": {
            "id": a.auth_config_id,
            "auth_scheme": a.auth_scheme,
            "is_composio_managed": bool(ac and ac.is_composio_managed),
            "is_disabled": bool(ac and not ac.enabled),
        },
        "state": {"authScheme": a.auth_scheme, "val": val},
        "data": dict(val),
        "is_disabled": a.status == "INACTIVE",
        "created_at": project.clock.iso(a.created_at),
        "updated_at": project.clock.iso(a.updated_at),
        "alias": a.alias,
        "word_id": a.word_id,
        "requested_scopes": list(a.requested_scopes),
        "requested_user_scopes": [],
        "granted_scopes": list(a.granted_scopes) if a.granted_scopes is not None else None,
        "test_request_endpoint": "",
        "deprecated": {"labels": [], "uuid": a.uuid},
        "authScheme": a.auth_scheme,
    }
    if with_params:
        out["params"] = dict(val)
    return out


def connection_created(project: Project, a: ConnectedAccount, redirect: str | None,
                       ) -> dict[str, Any]:
    val = account_state_val(project, a)
    if redirect:
        val["redirectUrl"] = redirect
    return {
        "id": a.id,
        "status": a.status,
        "connectionData": {"authScheme": a.auth_scheme, "val": val},
        "redirect_url": redirect,
        "redirect_uri": redirect,
        "deprecated": {"uuid": a.uuid, "authConfigUuid": _ac_uuid(project, a)},
    }


def _ac_uuid(project: Project, a: ConnectedAccount) -> str:
    ac = project.auth_configs.get(a.auth_config_id)
    return ac.uuid if ac else ""


def link_created(project: Project, a: ConnectedAccount, link: Link, redirect: str,
                 ) -> dict[str, Any]:
    return {
        "link_token": link.token,
        "redirect_url": redirect,
        "expires_at": project.clock.iso(link.expires_at),
        "connected_account_id": a.id,
    }
