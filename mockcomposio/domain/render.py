"""API shapes of stored objects (field names and nesting exactly as the real API sends them)."""

from __future__ import annotations

from typing import Any

from . import auth_configs
from .catalogue import SECRET_FIELD_NAMES
from .models import AuthConfig, ConnectedAccount, Link, val_status
from .project import Project


def mask(value: Any) -> Any:
    """Composio's masking: the first 4 characters then ``...``; short values become REDACTED."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if not isinstance(value, str):  # a list or object under a secret key: nothing of it shows
        return "REDACTED"
    return value[:4] + "..." if len(value) > 4 else "REDACTED"


def _masked(values: dict[str, Any], secret_names: set[str] | frozenset[str]) -> dict[str, Any]:
    return {k: (mask(v) if k in secret_names else v) for k, v in values.items()}


def _secret_names(project: Project, toolkit_slug: str) -> frozenset[str]:
    toolkit = project.catalogue.get(toolkit_slug)
    return toolkit.secret_field_names() if toolkit else frozenset(SECRET_FIELD_NAMES)


def auth_config(project: Project, ac: AuthConfig) -> dict[str, Any]:
    toolkit = project.catalogue.get(ac.toolkit)
    active = project.index.active_count(ac.id)
    out: dict[str, Any] = {
        "id": ac.id,
        "uuid": ac.uuid,
        "name": ac.name,
        "type": ac.type,
        "toolkit": {"slug": ac.toolkit, "logo": toolkit.logo if toolkit else ""},
        "auth_scheme": ac.auth_scheme,
        "is_composio_managed": ac.is_composio_managed,
        "credentials": _masked(ac.credentials, _secret_names(project, ac.toolkit)),
        "status": ac.status,
        "created_by": ac.created_by,
        "created_at": project.clock.iso(ac.created_at),
        "last_updated_at": project.clock.iso(ac.last_updated_at),
        "no_of_connections": active,
        "expected_input_fields": [],
        "restrict_to_following_tools": list(ac.restrict_to_following_tools),
        "tool_access_config": {k: list(v) for k, v in ac.tool_access_config.items()},
        "shared_credentials": _masked(ac.shared_credentials, _secret_names(project, ac.toolkit)),
        "is_enabled_for_tool_router": ac.is_enabled_for_tool_router,
        "scopes": auth_configs.effective_scopes(project, ac),
        "deprecated_params": {
            "default_connector_id": ac.uuid,
            "expected_input_fields": [],
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
    if project.mask_secrets:
        val = _masked(val, _secret_names(project, a.toolkit))
    return val


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
