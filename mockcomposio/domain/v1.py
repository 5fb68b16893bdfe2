"""The legacy v1 API (``composio-core`` 0.7.x) mapped onto the same engine.

Nomenclature (Composio's migration guide): app = toolkit, integration = auth config,
connection = connected account, entity = user id. Every rule (disabled configs refuse new
connections, required fields, managed vs custom apps, scopes, the OAuth round trip) comes from
``auth_configs`` / ``connected_accounts``; this module only translates v1 inputs into their
arguments. Shapes live in ``render_v1``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from ..errors import ComposioError, bad_request
from . import auth_configs, connected_accounts
from .catalogue import Toolkit
from .connected_accounts import Origin
from .models import ACTIVE, INACTIVE, AuthConfig, ConnectedAccount
from .project import Project

T = TypeVar("T")

# v1 app ids were UUIDs; a name-based UUID per toolkit keeps them stable across runs and
# tenants, so a test can hard-code one if it wants to.
_APP_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://mockcomposio.invalid/v1/apps")


def app_id(toolkit: Toolkit) -> str:
    return str(uuid.uuid5(_APP_NAMESPACE, toolkit.slug))


def app_not_found(key: str, suggestions: list[str]) -> ComposioError:
    hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
    return ComposioError(
        404, "App_NotFound", f"App '{key}' not found.{hint}", code=402,
        suggested_fix="Use an app key from GET /api/v1/apps (e.g. 'github'), or its appId.")


def find_app(project: Project, key: str) -> Toolkit:
    """An app by key (any case, as ``App.GITHUB`` sends ``GITHUB``) or by its v1 ``appId``."""
    toolkit = project.catalogue.get(key)
    if toolkit is not None:
        return toolkit
    wanted = key.strip().lower()
    candidates: list[Toolkit] = list(project.catalogue)
    for candidate in candidates:
        if app_id(candidate) == wanted:
            return candidate
    raise app_not_found(key, project.catalogue.suggest(key))


# -- integrations (auth configs) -------------------------------------------------------------

def _default_scheme(toolkit: Toolkit) -> str:
    for spec in toolkit.schemes:
        if spec.mode != "NO_AUTH":
            return spec.mode
    return toolkit.schemes[0].mode if toolkit.schemes else "NO_AUTH"


def create_integration(project: Project, body: Mapping[str, Any], *,
                       default_redirect_uri: str) -> AuthConfig:
    """``POST /api/v1/integrations`` → ``auth_configs.create``.

    ``useComposioAuth`` selects Composio's managed OAuth app; it only concerns OAuth schemes
    (the 0.7 SDK's ``create_integration`` sends ``True`` by default even for API keys), so a
    non-OAuth scheme is always a custom config holding the given ``authConfig`` values.
    ``forceNewIntegration`` is accepted; every call creates a new integration."""
    key = body.get("appId") or body.get("appName")
    if not key:
        raise bad_request(
            "Either appId or appName is required to create an integration.",
            slug="Integration_ValidationError", code=301,
            errors=["appId or appName is required"],
            suggested_fix="Pass appId from GET /api/v1/apps/{app} (or appName, e.g. 'github').")
    toolkit = find_app(project, str(key))
    use_managed = bool(body.get("useComposioAuth", False))
    scheme = body.get("authScheme") or (
        toolkit.managed_schemes[0] if use_managed and toolkit.managed_schemes
        else _default_scheme(toolkit))
    spec = toolkit.scheme(str(scheme))
    use_managed = use_managed and (spec is None or spec.is_oauth)  # unknown: the domain refuses
    options: dict[str, Any] = {
        "type": auth_configs.MANAGED if use_managed else auth_configs.CUSTOM,
        "authScheme": scheme,
        "credentials": dict(body.get("authConfig") or {}),
        "name": body.get("name"),
    }
    return auth_configs.create(project, toolkit.slug, options,
                               default_redirect_uri=default_redirect_uri)


def list_integrations(project: Project, *, app_key: str | None,
                      show_disabled: bool) -> list[AuthConfig]:
    slugs = [find_app(project, app_key).slug] if app_key else None
    configs = auth_configs.list_configs(project, toolkit_slugs=slugs, show_disabled=show_disabled)
    # oldest first, as the 0.7 SDK's get_integrations() sorts them anyway
    return sorted(configs, key=lambda ac: ac.created_at)


def update_integration(project: Project, integration_id: str,
                       body: Mapping[str, Any]) -> AuthConfig:
    """``PATCH /api/v1/integrations/{id}``: ``authConfig`` merges into the credentials (the
    same true-PATCH rules as v3), ``enabled`` toggles ENABLED/DISABLED. The credentials are
    validated first, so a refused patch changes nothing."""
    ac = auth_configs.get(project, integration_id)
    if body.get("authConfig") is not None:
        ac = auth_configs.update(project, ac.id, {"type": "custom",
                                                  "credentials": dict(body["authConfig"])})
    if body.get("enabled") is not None:
        ac = auth_configs.set_status(project, ac.id, "ENABLED" if body["enabled"] else "DISABLED")
    return ac


def expected_input_fields(project: Project, ac: AuthConfig) -> list[dict[str, Any]]:
    """What a user must still provide to connect: the scheme's initiation fields, minus those
    the integration already holds (e.g. a bearer token given at integration creation)."""
    toolkit = project.catalogue.get(ac.toolkit)
    spec = toolkit.scheme(ac.auth_scheme) if toolkit else None
    if spec is None:
        return []
    out = []
    for which in ("required", "optional"):
        for f in spec.fields("connected_account_initiation", which):
            if ac.credentials.get(f["name"]) in (None, ""):
                out.append({**f, "required": which == "required"})
    return out


# -- connections (connected accounts) --------------------------------------------------------

def initiate(project: Project, origin: Origin, body: Mapping[str, Any],
             ) -> tuple[ConnectedAccount, str | None]:
    """``POST /api/v1/connectedAccounts`` → ``connected_accounts.initiate`` with ``via="v1"``
    (Composio-managed OAuth stays allowed here, and the callback answers in camelCase)."""
    user_id = body.get("userUuid") or body.get("entityId") or "default"
    account, redirect = connected_accounts.initiate(
        project, origin, auth_config_id=str(body["integrationId"]), user_id=user_id,
        callback_url=body.get("redirectUri") or None, state={"val": dict(body.get("data") or {})},
        via="v1")
    if body.get("labels"):
        # a new dict: an account without data holds the shared, read-only models.EMPTY
        account.data = {**account.data, "labels": list(body["labels"])}
    return account, redirect


def list_connections(project: Project, *, user_ids: list[str] | None,
                     app_names: list[str] | None, integration_ids: list[str] | None,
                     statuses: list[str] | None, active_only: bool, show_disabled: bool,
                     labels: list[str] | None) -> list[ConnectedAccount]:
    wanted = [ACTIVE] if active_only else statuses
    accounts = connected_accounts.list_accounts(
        project, user_ids=user_ids, auth_config_ids=integration_ids, statuses=wanted,
        toolkit_slugs=[find_app(project, a).slug for a in app_names] if app_names else None)
    if not show_disabled and not (statuses and INACTIVE in statuses):
        accounts = [a for a in accounts if a.status != INACTIVE]
    if labels:
        accounts = [a for a in accounts if set(labels) & set(a.data.get("labels") or [])]
    return accounts


def page(items: Sequence[T], *, page_number: int | None, page_size: int | None,
         default_size: int = 20) -> tuple[list[T], int, int]:
    """v1 pagination: 1-based ``page`` and ``pageSize`` (the 0.7 SDK asks for 99999999 per
    page). Returns the window, the page number and the page count."""
    number = 1 if page_number is None else page_number
    size = default_size if page_size is None else page_size
    if number < 1 or size < 1:
        raise bad_request(f"page and pageSize must be at least 1, got page={number}, "
                          f"pageSize={size}.", slug="Request_InvalidQuery",
                          errors=["page: minimum 1", "pageSize: minimum 1"])
    total_pages = max(1, math.ceil(len(items) / size))
    start = (number - 1) * size
    return list(items[start:start + size]), number, total_pages
