"""Auth configs: create, read, list, update (true PATCH merge), enable/disable, soft delete.

The rules here follow the real API (see shared reference A1-A12, M1-M6):
- managed auth needs a toolkit with a Composio-managed scheme (twitter has none);
- custom auth needs ``authScheme`` and the scheme's required creation fields;
- NO_AUTH toolkits take no auth config;
- scopes (comma string or list) override the toolkit defaults for *new* connections only;
- a DISABLED config refuses new connections (:func:`require_usable`), old ones keep working.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ComposioError, auth_config_not_found, bad_request, toolkit_not_found
from .catalogue import AuthSchemeSpec, Toolkit
from .models import DISABLED, ENABLED, AuthConfig, shared_scopes
from .project import Project
from .redact import is_secret_key

MANAGED = "use_composio_managed_auth"
CUSTOM = "use_custom_auth"


def parse_scopes(value: Any, *, field: str = "scopes") -> list[str]:
    """Scopes arrive as a comma (or space) separated string or a list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.replace(" ", ",").split(",")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        parts = value
    else:
        raise bad_request(f"{field} must be a comma-separated string or a list of strings.",
                          slug="Auth_Config_ValidationError", code=301)
    seen: dict[str, None] = {}
    for p in parts:
        p = p.strip()
        if p:
            seen[p] = None
    return list(seen)


def resolve_toolkit(project: Project, slug: str) -> Toolkit:
    toolkit = project.catalogue.get(slug)
    if toolkit is None:
        raise toolkit_not_found(slug, project.catalogue.suggest(slug))
    return toolkit


def get(project: Project, auth_config_id: str) -> AuthConfig:
    ac = project.auth_configs.get(auth_config_id)
    if ac is None or ac.deleted:
        raise auth_config_not_found(auth_config_id)
    return ac


def require_usable(project: Project, auth_config_id: str) -> AuthConfig:
    """The one gate for every *new* connection (initiate, link, refresh, session authorize)."""
    ac = get(project, auth_config_id)
    if ac.status == DISABLED:
        raise ComposioError(
            400,
            "Auth_Config_Disabled",
            f"Auth config {ac.id} is disabled and cannot be used for new connections.",
            code=300,
            suggested_fix=f"Enable it with PATCH /api/v3.1/auth_configs/{ac.id}/ENABLED "
            "(composio.auth_configs.enable), or use another auth config. Existing connections "
            "of a disabled auth config keep working.",
        )
    return ac


def effective_scopes(project: Project, ac: AuthConfig) -> list[str]:
    """What the provider is asked for: the override if one is set, else the toolkit default."""
    if ac.scope_override is not None:
        return shared_scopes(ac.scope_override)
    toolkit = project.catalogue.get(ac.toolkit)
    spec = toolkit.scheme(ac.auth_scheme) if toolkit else None
    return shared_scopes(spec.default_scopes) if spec else []


def _missing_fields(spec: AuthSchemeSpec, stage: str,
                    values: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [f for f in spec.fields(stage, "required")
            if values.get(f["name"]) in (None, "", [])]


def missing_field_error(toolkit: Toolkit, spec: AuthSchemeSpec, missing: list[dict[str, Any]],
                        *, stage: str) -> ComposioError:
    names = [f'"{f.get("displayName", f["name"])}" ({f["name"]})' for f in missing]
    where = "credentials" if stage == "auth_config_creation" else "the connection's state.val"
    return ComposioError(
        400,
        "Auth_Config_MissingRequiredFields" if stage == "auth_config_creation"
        else "ConnectedAccount_MissingRequiredFields",
        f"Missing required field{'s' if len(names) > 1 else ''} {', '.join(names)} for auth "
        f'scheme "{spec.mode}" in toolkit "{toolkit.slug}".',
        code=301 if stage == "auth_config_creation" else 600,
        suggested_fix=f"Pass {', '.join(f['name'] for f in missing)} in {where}; "
        f"GET /api/v3.1/toolkits/{toolkit.slug} lists the fields per scheme.",
        errors=[f"{f['name']} is required" for f in missing],
    )


def check_secret_values(toolkit: Toolkit | None, values: Any, where: str) -> None:
    """Secret fields (client_secret, api_key, tokens, the toolkit's is_secret fields) are
    strings: a list or object there would be stored and shown unmasked. The message names the
    field, never the value."""
    if not isinstance(values, Mapping):
        return
    names = toolkit.secret_field_names() if toolkit is not None else frozenset()
    for key, value in values.items():
        if (key in names or is_secret_key(str(key))) and value is not None \
                and not isinstance(value, str):
            raise bad_request(
                f"{where}.{key} must be a string (it is a secret field); got "
                f"{_kind(value)}.", slug="Validation_Error", code=301,
                errors=[f"{where}.{key}: expected a string"],
                suggested_fix=f"Send {key} as a plain string.")


def _kind(value: Any) -> str:
    return ("a list" if isinstance(value, list) else "an object" if isinstance(value, Mapping)
            else "a boolean" if isinstance(value, bool) else "a number"
            if isinstance(value, int | float) else type(value).__name__)


def create(project: Project, toolkit_slug: str, options: Mapping[str, Any] | None,
           *, default_redirect_uri: str, created_by_tool_router: bool = False) -> AuthConfig:
    toolkit = resolve_toolkit(project, toolkit_slug)
    options = dict(options or {"type": MANAGED})
    kind = options.get("type", MANAGED)
    if toolkit.no_auth:
        raise ComposioError(
            400, "Auth_Config_NoAuthApp",
            f'Cannot create an auth config for toolkit "{toolkit.slug}" because it does not '
            "require authentication.", code=300,
            suggested_fix=f"Use {toolkit.slug} tools without an auth config or connected account.")
    credentials = dict(options.get("credentials") or {})
    check_secret_values(toolkit, credentials, "credentials")
    check_secret_values(toolkit, options.get("shared_credentials"), "shared_credentials")
    requested_scheme = options.get("authScheme") or options.get("auth_scheme")

    if kind == MANAGED:
        if not toolkit.managed_schemes:
            schemes = ", ".join(s.mode for s in toolkit.schemes)
            raise ComposioError(
                400, "Auth_Config_NoManagedAuth",
                f'Composio does not provide managed auth for toolkit "{toolkit.slug}".',
                code=300,
                suggested_fix='Create the auth config with type "use_custom_auth", an '
                f"authScheme ({schemes}) and your own credentials.")
        mode = requested_scheme or toolkit.managed_schemes[0]
        if mode not in toolkit.managed_schemes:
            raise bad_request(
                f'Toolkit "{toolkit.slug}" has no Composio-managed {mode} auth; managed schemes: '
                f"{', '.join(toolkit.managed_schemes)}.", slug="Auth_Config_InvalidAuthScheme",
                code=300, suggested_fix='Drop authScheme, or use type "use_custom_auth".')
        spec = toolkit.scheme(mode)
        is_managed = True
    elif kind == CUSTOM:
        if not requested_scheme:
            raise bad_request(
                'authScheme is required when type is "use_custom_auth".',
                slug="Auth_Config_ValidationError", code=301,
                suggested_fix="Pass authScheme (auth_scheme in the Python SDK), one of: "
                + ", ".join(s.mode for s in toolkit.schemes) + ".",
                errors=["auth_config.authScheme is required"])
        spec = toolkit.scheme(requested_scheme)
        if spec is None:
            raise bad_request(
                f'Toolkit "{toolkit.slug}" does not support auth scheme "{requested_scheme}".',
                slug="Auth_Config_InvalidAuthScheme", code=300,
                suggested_fix="Use one of: " + ", ".join(s.mode for s in toolkit.schemes) + ".")
        missing = _missing_fields(spec, "auth_config_creation", credentials)
        if missing:
            raise missing_field_error(toolkit, spec, missing, stage="auth_config_creation")
        is_managed = False
    else:
        raise bad_request(
            f'Unknown auth config type "{kind}".', slug="Auth_Config_ValidationError", code=301,
            suggested_fix=f'Use "{MANAGED}" or "{CUSTOM}".')
    assert spec is not None

    scope_override = (parse_scopes(credentials["scopes"], field="credentials.scopes")
                      if "scopes" in credentials else None)
    if spec.is_oauth and not is_managed and not credentials.get("oauth_redirect_uri"):
        credentials["oauth_redirect_uri"] = default_redirect_uri
    tool_access = _tool_access(options.get("tool_access_config"))
    now = project.now()
    ac = AuthConfig(
        id=project.ids.new("ac"),
        uuid=project.ids.uuid(),
        name=str(options.get("name")
                 or f"{toolkit.name} {'Managed ' if is_managed else ''}{spec.mode}"),
        toolkit=toolkit.slug,
        auth_scheme=spec.mode,
        is_composio_managed=is_managed,
        credentials=credentials,
        scope_override=scope_override,
        user_scopes=parse_scopes(credentials.get("user_scopes"), field="credentials.user_scopes"),
        tool_access_config=tool_access,
        is_enabled_for_tool_router=bool(options.get("is_enabled_for_tool_router", is_managed)),
        created_at=now,
        last_updated_at=now,
        created_by_tool_router=created_by_tool_router,
        proxy_config=options.get("proxy_config"),
        shared_credentials=dict(options.get("shared_credentials") or {}),
        restrict_to_following_tools=list(options.get("restrict_to_following_tools") or []),
    )
    project.auth_configs[ac.id] = ac
    return ac


def _tool_access(value: Any) -> dict[str, list[str]]:
    value = value or {}
    return {
        "tools_for_connected_account_creation":
            list(value.get("tools_for_connected_account_creation") or []),
        "tools_available_for_execution": list(value.get("tools_available_for_execution") or []),
    }


def update(project: Project, auth_config_id: str, patch: Mapping[str, Any]) -> AuthConfig:
    """True PATCH: omitted fields stay, ``credentials`` merge key by key (CL 2026-01-14)."""
    ac = get(project, auth_config_id)
    kind = patch.get("type")
    if kind not in ("custom", "default"):
        raise bad_request(
            f'type must be "custom" or "default", got {kind!r}.',
            slug="Auth_Config_ValidationError", code=301,
            suggested_fix='Send type "custom" to change credentials or proxy_config, '
            '"default" to change scopes.', errors=["type is required"])
    # Validate everything before touching the stored object: bad input never half-applies.
    new_credentials = dict(ac.credentials)
    scope_override = ac.scope_override
    user_scopes = ac.user_scopes
    toolkit = project.catalogue.get(ac.toolkit)
    check_secret_values(toolkit, patch.get("credentials"), "credentials")
    check_secret_values(toolkit, patch.get("shared_credentials"), "shared_credentials")
    if "credentials" in patch and patch["credentials"] is not None:
        new_credentials.update(patch["credentials"])
        if "scopes" in patch["credentials"]:
            scope_override = parse_scopes(patch["credentials"]["scopes"],
                                          field="credentials.scopes")
        if "user_scopes" in patch["credentials"]:
            user_scopes = parse_scopes(patch["credentials"]["user_scopes"],
                                       field="credentials.user_scopes")
    if "scopes" in patch:
        scope_override = parse_scopes(patch["scopes"])
        new_credentials["scopes"] = patch["scopes"]
    if "user_scopes" in patch:
        user_scopes = parse_scopes(patch["user_scopes"], field="user_scopes")
    if not ac.is_composio_managed:
        toolkit = resolve_toolkit(project, ac.toolkit)
        spec = toolkit.scheme(ac.auth_scheme)
        if spec is not None:
            missing = _missing_fields(spec, "auth_config_creation", new_credentials)
            if missing:
                raise missing_field_error(toolkit, spec, missing, stage="auth_config_creation")
    tool_access = dict(ac.tool_access_config)
    if patch.get("tool_access_config") is not None:
        for key, tools in patch["tool_access_config"].items():
            tool_access[key] = list(tools or [])

    ac.credentials = new_credentials
    ac.scope_override = scope_override
    ac.user_scopes = user_scopes
    ac.tool_access_config = tool_access
    if "is_enabled_for_tool_router" in patch:
        ac.is_enabled_for_tool_router = bool(patch["is_enabled_for_tool_router"])
    if patch.get("name"):
        ac.name = str(patch["name"])
    if "proxy_config" in patch:
        ac.proxy_config = patch["proxy_config"]
    if "restrict_to_following_tools" in patch:
        ac.restrict_to_following_tools = list(patch["restrict_to_following_tools"] or [])
    if "shared_credentials" in patch:
        ac.shared_credentials = dict(patch["shared_credentials"] or {})
    ac.last_updated_at = project.now()
    return ac


def set_status(project: Project, auth_config_id: str, status: str) -> AuthConfig:
    normalized = status.upper()
    if normalized not in (ENABLED, DISABLED):
        raise bad_request(
            f"Invalid auth config status {status!r}.", slug="Auth_Config_ValidationError",
            code=301, suggested_fix="Use PATCH /auth_configs/{id}/ENABLED or .../DISABLED.")
    ac = get(project, auth_config_id)
    ac.status = normalized
    ac.last_updated_at = project.now()
    return ac


def delete(project: Project, auth_config_id: str) -> AuthConfig:
    """Soft delete: the config answers 404 from now on; its connected accounts are left as they
    are (the real API does not document more; ``revoke_on_delete`` is handled by the caller)."""
    ac = get(project, auth_config_id)
    ac.deleted = True
    ac.last_updated_at = project.now()
    return ac


def list_configs(project: Project, *, toolkit_slugs: list[str] | None = None,
                 is_composio_managed: bool | None = None, show_disabled: bool = False,
                 search: str | None = None) -> list[AuthConfig]:
    wanted = {s.lower() for s in toolkit_slugs} if toolkit_slugs else None
    needle = search.lower() if search else None
    out = []
    for ac in project.auth_configs.values():
        if ac.deleted or (ac.status == DISABLED and not show_disabled):
            continue
        if wanted is not None and ac.toolkit not in wanted:
            continue
        if is_composio_managed is not None and ac.is_composio_managed != is_composio_managed:
            continue
        if needle and needle not in ac.name.lower() and needle not in ac.toolkit:
            continue
        out.append(ac)
    out.sort(key=lambda a: a.created_at, reverse=True)
    return out
