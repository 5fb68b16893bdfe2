"""Tool Router sessions: create/get/delete, in-session authorization and in-chat auth.

A session is a user id plus a configuration (toolkit allow/deny list, auth config and connected
account overrides, connection-manager settings). It holds no connection state of its own: every
answer about connections is derived from the project's live connected accounts, so a session
never disagrees with ``GET /connected_accounts``.

Rules (shared reference M3, M4, U3, U4, L12):
- authorization precedence for a toolkit: (1) a connected account pinned in the session
  configuration (linking again is refused), (2) the session's ``auth_configs`` override,
  (3) the auth config Tool Router created for the toolkit before, (4) a newly auto-created
  Composio-managed config tagged as Tool Router-created, (5) ``ToolRouterV2_NoManagedAuth``
  when the toolkit has no managed scheme;
- every new connection passes ``auth_configs.require_usable`` (inside
  ``connected_accounts.link``), so a DISABLED config is refused here as everywhere else;
- the connected account a session uses for a toolkit is the pinned one, else the user's most
  recently created ACTIVE account (of the override config, when there is one);
- only ``COMPOSIO_MANAGE_CONNECTIONS`` is executed; other tools answer a clear
  "not supported by mockcomposio" error rather than pretending (after their account selection,
  which is auth);
- every create makes a new ``trs_`` id; ``update`` (PATCH) changes only the fields sent: a null
  block removes the stored override, the ``tools`` / ``auth_configs`` / ``connected_accounts``
  maps are replaced whole, ``manage_connections`` / ``multi_account`` / ``workbench`` /
  ``experimental`` merge field by field; each update bumps ``config_version`` and archives the
  old config; ``expected_config_version`` makes it conditional (409);
- multi-account (guide "Managing multiple connected accounts"): one account per toolkit unless
  ``multi_account.enable`` (then up to ``max_accounts_per_toolkit``, 2-10, default 5, pinned or
  linked); the default account is the most recently connected ACTIVE one; with
  ``require_explicit_selection`` and several ACTIVE accounts a tool call must name one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ComposioError, bad_request, connected_account_not_found
from . import auth_configs, connected_accounts
from .catalogue import Toolkit
from .connected_accounts import CALLBACK_PATH_V31, Origin
from .models import ACTIVE, INACTIVE, AuthConfig, ConnectedAccount
from .project import Project

MANAGE_CONNECTIONS = "COMPOSIO_MANAGE_CONNECTIONS"
SEARCH_TOOLS = "COMPOSIO_SEARCH_TOOLS"
MULTI_EXECUTE = "COMPOSIO_MULTI_EXECUTE_TOOL"
WAIT_FOR_CONNECTIONS = "COMPOSIO_WAIT_FOR_CONNECTIONS"
SESSION_ID_RE = re.compile(r"^trs_[A-Za-z0-9_-]+$")
NO_MANAGED_AUTH_CODE = 4300
# Request keys whose response form differs (or that are request-only); everything else the
# caller sends is echoed in ``config`` as it came (e.g. ``hooks`` of composio 0.30).
_MAPPED_KEYS = frozenset({
    "user_id", "toolkits", "tools", "tags", "auth_configs", "connected_accounts",
    "manage_connections", "workbench", "execute", "search", "preload", "instant",
    "experimental", "multi_account", "proxy_execute", "premium_usage",
})


@dataclass
class Session:
    id: str
    user_id: str
    created_at: float
    enabled_toolkits: list[str] | None  # allowlist; None: every toolkit (minus the denylist)
    disabled_toolkits: list[str]
    auth_configs: dict[str, str]
    connected_accounts: dict[str, list[str]]
    manage_connections: dict[str, Any]
    config: dict[str, Any]
    tool_router_tools: list[str]
    config_version: int = 1
    extra: dict[str, Any] = field(default_factory=dict)
    # The request-form configuration (after merging every PATCH); the fields above derive from it.
    raw: dict[str, Any] = field(default_factory=dict)
    multi_account: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)  # archived configs, oldest first
    updated_at: float = 0.0

    @property
    def manage_connections_enabled(self) -> bool:
        return bool(self.manage_connections.get("enabled", True))

    @property
    def callback_url(self) -> str | None:
        value = self.manage_connections.get("callback_url")
        return str(value) if value else None

    def allows(self, toolkit: str) -> bool:
        if self.enabled_toolkits is not None:
            return toolkit in self.enabled_toolkits
        return toolkit not in self.disabled_toolkits


# -- errors ----------------------------------------------------------------------------------

def _invalid_session_id(session_id: str) -> ComposioError:
    return bad_request(
        f"Invalid session id {session_id[:60]!r}: the session_id format is invalid, please pass "
        "this in trs_ prefix format", slug="ToolRouterV2_InvalidSessionId",
        suggested_fix="Use the session_id returned by POST /api/v3.1/tool_router/session "
        "(trs_ followed by 12 characters).")


def _session_not_found(session_id: str) -> ComposioError:
    return ComposioError(
        404, "ToolRouterV2_SessionNotFound",
        f"Tool router session {session_id} not found", code=4040,
        suggested_fix="The session does not exist in the project of this API key, or it was "
        "deleted; create a new one with POST /api/v3.1/tool_router/session.")


def no_managed_auth(toolkit: str) -> ComposioError:
    return ComposioError(
        400, "ToolRouterV2_NoManagedAuth",
        f"Composio does not manage auth for toolkit {toolkit} and no auth config without "
        "required fields is available. Please create an auth config manually or specify one "
        "in auth_config_override.", code=NO_MANAGED_AUTH_CODE,
        suggested_fix=f"Create a custom auth config for {toolkit} (POST /api/v3.1/auth_configs "
        'with type "use_custom_auth") and pass it in the session\'s auth_configs.')


def _validation(message: str, *, suggested_fix: str = "") -> ComposioError:
    return bad_request(message, slug="ToolRouterV2_BadRequest", suggested_fix=suggested_fix)


# -- create / read / delete ------------------------------------------------------------------

def _toolkit(project: Project, slug: Any, *, where: str) -> Toolkit:
    if not isinstance(slug, str) or not slug.strip():
        raise _validation(f"{where}: toolkit slugs must be non-empty strings.")
    toolkit = project.catalogue.get(slug)
    if toolkit is None:
        hint = project.catalogue.suggest(slug)
        raise _validation(
            f"{where}: unknown toolkit {slug!r}." + (f" Did you mean: {', '.join(hint)}?"
                                                     if hint else ""),
            suggested_fix="Use toolkit slugs from GET /api/v3.1/toolkits.")
    return toolkit


def _slug_list(project: Project, value: Any, where: str) -> list[str]:
    if not isinstance(value, list):
        raise _validation(f"{where} must be a list of toolkit slugs.")
    out: dict[str, None] = {}
    for item in value:
        out[_toolkit(project, item, where=where).slug] = None
    return list(out)


def _rename(value: Any, names: Mapping[str, str]) -> Any:
    """Request form → response form of an {enable, disable, ...} object."""
    if isinstance(value, list):
        return {"enabled": list(value)}
    if not isinstance(value, Mapping):
        return value
    # Only the documented keys are echoed: the real API's validation strips unknown ones, and
    # the response contract refuses them (a strict server answered 500).
    return {names.get(k, k): (_rename(v, names) if k == "tags" else v)
            for k, v in value.items() if k in _ECHOED_KEYS}


_LIST_NAMES = {"enable": "enabled", "disable": "disabled"}
_WORKBENCH_NAMES = {"enable_proxy_execution": "proxy_execution_enabled",
                    "enable_tool_execution": "tool_execution_enabled"}
DEFAULT_MAX_ACCOUNTS = 5  # "max_accounts_per_toolkit ... Defaults to 5" (SDK docstring, guide)
# PATCH merges these blocks field by field (a null field removes only that field); every other
# block is replaced as a whole, and a null block removes the stored override (SDK docstrings of
# session.update(), composio 0.29 / @composio/core 0.21).
_MERGED_BLOCKS = frozenset({"manage_connections", "multi_account", "experimental", "workbench"})
_ECHOED_KEYS = frozenset({"enable", "disable", "tags"})


@dataclass
class _Derived:
    enabled: list[str] | None
    disabled: list[str]
    overrides: dict[str, str]
    pinned: dict[str, list[str]]
    manage: dict[str, Any]
    multi_account: dict[str, Any]
    config: dict[str, Any]
    tools: list[str]
    extra: dict[str, Any]


def not_served_operation(what: str, fix: str) -> ComposioError:
    """A session operation of the SDKs that mockcomposio refuses, by name."""
    return bad_request(
        f"{what} is not served by mockcomposio: it fakes Composio's auth API, and this part of "
        "tool-router sessions has no offline equivalent.", slug="ToolRouterV2_NotSupportedByMock",
        suggested_fix=fix)


def _normalise(body: Mapping[str, Any]) -> dict[str, Any]:
    """Request shorthands the domain also accepts (the HTTP contract does not): a toolkit list,
    a boolean ``manage_connections``, a string ``connected_accounts`` entry."""
    raw: dict[str, Any] = _copy(dict(body))
    if isinstance(raw.get("toolkits"), list):
        raw["toolkits"] = {"enable": raw["toolkits"]}
    mc = raw.get("manage_connections")
    if isinstance(mc, bool):
        raw["manage_connections"] = {"enable": mc}
    if isinstance(raw.get("connected_accounts"), Mapping):
        raw["connected_accounts"] = {k: [v] if isinstance(v, str) else v
                                     for k, v in raw["connected_accounts"].items()}
    return raw


def _derive(project: Project, raw: Mapping[str, Any]) -> _Derived:
    """Check a (merged) request-form configuration against the project and compute what the
    session uses and echoes. Raises before anything is stored."""
    user_id = raw.get("user_id")
    if not isinstance(user_id, str) or not user_id.strip():
        raise _validation("user_id must be a non-empty string.",
                          suggested_fix="Pass the id your app uses for the end user.")
    config: dict[str, Any] = {"user_id": user_id}

    experimental = raw.get("experimental")
    if isinstance(experimental, Mapping) and experimental.get("session_config_id"):
        raise not_served_operation(
            "experimental.session_config_id (saved session configs, sessionConfigs.get)",
            "Pass toolkits / tools / tags inline instead of a saved sc_… config.")

    enabled: list[str] | None = None
    disabled: list[str] = []
    toolkits = raw.get("toolkits")
    if toolkits is not None:
        if not isinstance(toolkits, Mapping):
            raise _validation("toolkits must be {enable: [...]} or {disable: [...]}.")
        if "enable" in toolkits and "disable" in toolkits:
            raise _validation("toolkits.enable and toolkits.disable are mutually exclusive.",
                              suggested_fix="Pass either an allowlist or a denylist.")
        if not {"enable", "disable", "require_approval"} & set(toolkits):
            raise _validation("toolkits needs enable (an allowlist) or disable (a denylist).",
                              suggested_fix='Pass {"enable": ["gmail"]} or '
                              '{"disable": ["gmail"]}, or leave toolkits out for all.')
        echoed = _rename(dict(toolkits), _LIST_NAMES)
        if "enable" in toolkits:
            enabled = _slug_list(project, toolkits["enable"], "toolkits.enable")
            echoed["enabled"] = list(enabled)
        if "disable" in toolkits:
            disabled = _slug_list(project, toolkits["disable"], "toolkits.disable")
            echoed["disabled"] = list(disabled)
        if "require_approval" in toolkits:
            echoed["require_approval"] = _slug_list(project, toolkits["require_approval"],
                                                    "toolkits.require_approval")
        config["toolkits"] = echoed

    overrides: dict[str, str] = {}
    for slug, ac_id in dict(raw.get("auth_configs") or {}).items():
        toolkit = _toolkit(project, slug, where="auth_configs")
        if not isinstance(ac_id, str):
            raise _validation(f"auth_configs.{slug} must be an auth config id (ac_…).")
        ac = auth_configs.get(project, ac_id)
        if ac.toolkit != toolkit.slug:
            raise _validation(
                f"Auth config {ac.id} belongs to toolkit {ac.toolkit}, not {toolkit.slug}.",
                suggested_fix=f"Map {toolkit.slug} to one of its own auth configs.")
        overrides[toolkit.slug] = ac.id

    multi = {k: v for k, v in dict(raw.get("multi_account") or {}).items() if v is not None}
    multi_on = bool(multi.get("enable", False))
    limit = int(multi.get("max_accounts_per_toolkit", DEFAULT_MAX_ACCOUNTS)) if multi_on else 1
    pinned: dict[str, list[str]] = {}
    for slug, ids in dict(raw.get("connected_accounts") or {}).items():
        toolkit = _toolkit(project, slug, where="connected_accounts")
        id_list = [ids] if isinstance(ids, str) else ids
        if not isinstance(id_list, list) or not all(isinstance(i, str) for i in id_list):
            raise _validation(f"connected_accounts.{slug} must be a list of ca_ ids.")
        id_list = list(dict.fromkeys(id_list))
        if len(id_list) > limit:
            raise _validation(
                f"connected_accounts.{slug} pins {len(id_list)} accounts, but this session "
                + (f"allows at most {limit} per toolkit (multi_account.max_accounts_per_toolkit)."
                   if multi_on else "is not in multi-account mode, so at most 1 is allowed."),
                suggested_fix="Pin one account per toolkit, or enable multi_account "
                "{enable: true, max_accounts_per_toolkit: 2-10} to pin several.")
        for account_id in id_list:
            _check_pinned(project, user_id, toolkit.slug, account_id)
        pinned[toolkit.slug] = id_list

    raw_mc = raw.get("manage_connections")
    raw_mc = dict(raw_mc) if isinstance(raw_mc, Mapping) else {}
    manage = {("enabled" if k == "enable" else k): v for k, v in raw_mc.items() if v is not None}
    manage["enabled"] = raw_mc.get("enable") is not False
    connected_accounts.check_callback_url(manage.get("callback_url"),
                                          "manage_connections.callback_url")
    if "wait_for_connections" in manage:
        manage["enable_wait_for_connections"] = manage.pop("wait_for_connections")

    workbench = raw.get("workbench")
    proxy = raw.get("proxy_execute")
    if isinstance(proxy, Mapping) and proxy.get("enable") is False and isinstance(
            workbench, Mapping) and workbench.get("enable_proxy_execution") is True:
        raise _validation(
            "proxy_execute.enable is false but workbench.enable_proxy_execution is true.",
            suggested_fix="proxy_execute {enable: false} turns proxy execution off inside the "
            "workbench too; drop one of the two.")
    preload = raw.get("preload")
    preload_tools: Any = preload.get("tools", []) if isinstance(preload, Mapping) else []
    if preload_tools == "all" and enabled is None and not raw.get("tools") \
            and not raw.get("tags"):
        raise _validation(
            'preload.tools "all" needs a positive allowlist (toolkits.enable, tools or tags).',
            suggested_fix="Restrict the session with toolkits {enable: [...]} first.")

    if overrides:
        config["auth_configs"] = dict(overrides)
    if pinned:
        config["connected_accounts"] = {k: list(v) for k, v in pinned.items()}
    config["manage_connections"] = dict(manage)
    if raw.get("tools") is not None:
        # keys are toolkit slugs (tool slugs themselves are not checked: no tool catalogue)
        config["tools"] = {_toolkit(project, slug, where="tools").slug: _rename(v, _LIST_NAMES)
                           for slug, v in dict(raw["tools"]).items()}
    if raw.get("tags") is not None:
        config["tags"] = _rename(raw["tags"], _LIST_NAMES)
    if isinstance(workbench, Mapping):
        config["workbench"] = {_WORKBENCH_NAMES.get(k, k): v for k, v in workbench.items()
                               if v is not None}
    if multi:
        config["multi_account"] = dict(multi)
    if isinstance(proxy, Mapping):
        config["proxy_execute"] = dict(proxy)
    config["execute"] = dict(raw.get("execute") or {})
    config["search"] = dict(raw.get("search") or {})
    config["preload"] = {"tools": preload_tools}
    instant = raw.get("instant")
    premium = raw.get("premium_usage")
    if instant is None and isinstance(premium, Mapping):
        # @composio/core 0.21 sends the Instant policy as premium_usage
        instant = {("return_instant_charge" if k == "return_premium_charge" else k): v
                   for k, v in premium.items()}
    # A policy echoes both flags ("Defaults to false on create", composio-client models).
    config["instant"] = _render_instant(instant)
    extra = {k: v for k, v in raw.items() if k not in _MAPPED_KEYS}
    config.update(_copy(extra))

    tools = []
    if config["search"].get("enable", True) is not False:
        tools.append(SEARCH_TOOLS)
    if config["execute"].get("enable_multi_execute", True) is not False:
        tools.append(MULTI_EXECUTE)
    if manage["enabled"]:
        tools.append(MANAGE_CONNECTIONS)
        if manage.get("enable_wait_for_connections"):
            tools.append(WAIT_FOR_CONNECTIONS)
    return _Derived(enabled, disabled, overrides, pinned, manage, multi, config, tools, extra)


def _render_instant(instant: Any) -> Any:
    """``false``, or the policy in response form: enable/disable as enabled/disabled, and both
    flags present ("Defaults to false on create", composio-client response models)."""
    if not isinstance(instant, Mapping):
        return False
    out: dict[str, Any] = {"return_instant_charge": False, "return_prices_in_search": False}
    for key, value in instant.items():
        if key == "toolkits":
            out[key] = _rename(value, _LIST_NAMES)
        elif key == "tools" and isinstance(value, Mapping):
            out[key] = {slug: _rename(v, _LIST_NAMES) for slug, v in value.items()}
        else:
            out[key] = _copy(value)
    return out


def create(project: Project, origin: Origin, body: Mapping[str, Any]) -> Session:
    """``POST /tool_router/session``: a new session (and a new ``trs_`` id) on every call."""
    raw = _normalise(body)
    raw.setdefault("manage_connections", {"enable": True})
    d = _derive(project, raw)
    now = project.now()
    session = Session(
        id=project.ids.new("trs"), user_id=raw["user_id"], created_at=now,
        enabled_toolkits=d.enabled, disabled_toolkits=d.disabled, auth_configs=d.overrides,
        connected_accounts=d.pinned, manage_connections=d.manage, config=d.config,
        tool_router_tools=d.tools, extra=d.extra, raw=raw, multi_account=d.multi_account,
        updated_at=now)
    project.sessions[session.id] = session
    return session


def _merge(stored: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = _copy(dict(stored))
    for key, value in patch.items():
        if key == "expected_config_version":
            continue
        if value is None:
            out.pop(key, None)
        elif key in _MERGED_BLOCKS and isinstance(value, Mapping) \
                and isinstance(out.get(key), Mapping):
            block = dict(out[key])
            for sub, sub_value in value.items():
                if sub_value is None:
                    block.pop(sub, None)
                else:
                    block[sub] = _copy(sub_value)
            out[key] = block
        elif key == "instant" and isinstance(value, Mapping) \
                and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **_copy(dict(value))}  # omitted instant fields are kept
        else:
            out[key] = _copy(value)
    if "instant" in patch:
        out.pop("premium_usage", None)
    if "premium_usage" in patch:
        out.pop("instant", None)
    return out


def update(project: Project, session_id: str, body: Mapping[str, Any]) -> Session:
    """``PATCH /tool_router/session/{id}`` (``session.update()``): only the fields sent change;
    the previous config goes to the history and ``config_version`` goes up by one."""
    session = get(project, session_id)
    expected = body.get("expected_config_version")
    if expected is not None and expected != session.config_version:
        raise ComposioError(
            409, "ToolRouterV2_ConfigVersionConflict",
            f"Session {session.id} is at config version {session.config_version}, not "
            f"{expected}: its configuration changed since you read it.", code=4090,
            suggested_fix="Re-fetch the session (composio.sessions.use(session_id)) and retry "
            "the update against its current config_version.")
    raw = _merge(session.raw or _legacy_raw(session), _normalise(
        {k: v for k, v in body.items() if k != "user_id"}))
    d = _derive(project, raw)  # raises before anything changes
    session.history.append({"version": session.config_version, "config": session.config,
                            "created_at": session.updated_at or session.created_at,
                            "archived_at": project.now()})
    session.raw = raw
    session.enabled_toolkits, session.disabled_toolkits = d.enabled, d.disabled
    session.auth_configs, session.connected_accounts = d.overrides, d.pinned
    session.manage_connections, session.multi_account = d.manage, d.multi_account
    session.config, session.tool_router_tools, session.extra = d.config, d.tools, d.extra
    session.config_version += 1
    session.updated_at = project.now()
    return session


def _legacy_raw(session: Session) -> dict[str, Any]:
    """The request form of a session restored from a state file written before ``raw``."""
    raw: dict[str, Any] = {"user_id": session.user_id, **_copy(session.extra)}
    if session.enabled_toolkits is not None:
        raw["toolkits"] = {"enable": list(session.enabled_toolkits)}
    elif session.disabled_toolkits:
        raw["toolkits"] = {"disable": list(session.disabled_toolkits)}
    if session.auth_configs:
        raw["auth_configs"] = dict(session.auth_configs)
    if session.connected_accounts:
        raw["connected_accounts"] = {k: list(v) for k, v in session.connected_accounts.items()}
    raw["manage_connections"] = {("enable" if k == "enabled" else k): v
                                 for k, v in session.manage_connections.items()}
    return raw


def config_history(project: Project, session_id: str) -> list[dict[str, Any]]:
    """``GET …/config_history``: the live config first, then archived versions, newest first."""
    session = get(project, session_id)
    clock = project.clock
    items = [{"version": session.config_version, "is_current": True,
              "created_at": clock.iso(session.updated_at or session.created_at),
              "config": _copy(session.config)}]
    for row in reversed(session.history):
        items.append({"version": row["version"], "is_current": False,
                      "created_at": clock.iso(row["archived_at"]),
                      "config": _copy(row["config"])})
    return items


def _check_pinned(project: Project, user_id: str, toolkit: str, account_id: str) -> None:
    """U3: a pinned account must exist, be enabled, and belong to the same user and toolkit."""
    account = project.accounts.get(account_id)
    if account is None:
        raise connected_account_not_found(account_id)
    if account.user_id != user_id:
        raise _validation(
            f"Connected account {account_id} belongs to user {account.user_id}, not {user_id}.",
            suggested_fix="Pin only accounts of the session's user_id.")
    if account.toolkit != toolkit:
        raise _validation(
            f"Connected account {account_id} is a {account.toolkit} account, not {toolkit}.")
    if account.status == INACTIVE:
        raise _validation(f"Connected account {account_id} is disabled (INACTIVE).",
                          suggested_fix="Enable the account first, or pin another one.")


def get(project: Project, session_id: str) -> Session:
    if not SESSION_ID_RE.match(session_id):
        raise _invalid_session_id(session_id)
    session = project.sessions.get(session_id)
    if not isinstance(session, Session):
        raise _session_not_found(session_id)
    return session


def delete(project: Project, session_id: str) -> Session:
    session = get(project, session_id)
    del project.sessions[session.id]
    return session


def render(session: Session, origin: Origin) -> dict[str, Any]:
    return {
        "session_id": session.id,
        "mcp": {"type": "http", "url": origin.url(f"/tool_router/{session.id}/mcp")},
        "tool_router_tools": list(session.tool_router_tools),
        "config": _copy(session.config),
        "config_version": session.config_version,
    }


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# -- which account / which auth config -------------------------------------------------------

def _multi(session: Session) -> tuple[bool, int, bool]:
    """(multi-account on, accounts allowed per toolkit, explicit selection required)."""
    on = bool(session.multi_account.get("enable", False))
    limit = int(session.multi_account.get("max_accounts_per_toolkit", DEFAULT_MAX_ACCOUNTS))
    return on, (limit if on else 1), on and bool(
        session.multi_account.get("require_explicit_selection", False))


def _candidates(project: Project, session: Session, toolkit: str) -> list[ConnectedAccount]:
    """The accounts the session may use for a toolkit, most recently created first: the pinned
    ones (whatever their status), else the user's ACTIVE ones (of the override config)."""
    if toolkit in session.connected_accounts:
        pinned = [a for a in (project.accounts.get(i)
                              for i in session.connected_accounts[toolkit]) if a is not None]
        return sorted(pinned, key=lambda a: (a.created_at, a.seq), reverse=True)
    override = session.auth_configs.get(toolkit)
    return connected_accounts.list_accounts(
        project, user_ids=[session.user_id], toolkit_slugs=[toolkit], statuses=[ACTIVE],
        auth_config_ids=[override] if override else None)


def _first(accounts: list[ConnectedAccount]) -> ConnectedAccount | None:
    return accounts[0] if accounts else None


def current_account(project: Project, session: Session, toolkit: str) -> ConnectedAccount | None:
    """The session's default account for a toolkit: the most recently connected ACTIVE one among
    the candidates (a pinned account is used whatever its status)."""
    found = _candidates(project, session, toolkit)
    active = [a for a in found if a.status == ACTIVE]
    return _first(active or found)


def select_account(project: Project, session: Session, toolkit: str,
                   account: str | None = None) -> ConnectedAccount | None:
    """The account a tool call uses (guide "Managing multiple connected accounts"): ``account``
    (an id or alias) when given, which must be one the session may use; else the default, unless
    multi-account mode requires explicit selection and several ACTIVE accounts qualify."""
    found = _candidates(project, session, toolkit)
    active = [a for a in found if a.status == ACTIVE]
    listed = ", ".join(f"{a.id}" + (f" ({a.alias})" if a.alias else "") for a in active)
    if account:
        for a in found:
            if account in (a.id, a.alias):
                return a
        raise _validation(
            f"Account {account!r} is not a {toolkit} account this session can use."
            + (f" Available: {listed}." if listed else ""),
            suggested_fix="Pass the id (ca_…) or alias of one of the user's connected accounts "
            "for this toolkit (pinned in the session, if any are pinned).")
    _, _, explicit = _multi(session)
    if explicit and len(active) > 1:
        raise bad_request(
            f"Session {session.id} requires explicit account selection and user "
            f"{session.user_id} has {len(active)} active {toolkit} accounts: {listed}.",
            slug="ToolRouterV2_AccountSelectionRequired",
            suggested_fix="Pass account=<connected account id or alias> with the tool call, "
            "or create the session with multi_account.require_explicit_selection false.")
    return _first(active or found)


def _tool_router_config(project: Project, toolkit: str) -> AuthConfig | None:
    best: AuthConfig | None = None
    for ac in project.auth_configs.values():
        if ac.created_by_tool_router and ac.toolkit == toolkit and not ac.deleted \
                and (best is None or ac.created_at >= best.created_at):
            best = ac
    return best


def resolve_auth_config(project: Project, origin: Origin, session: Session,
                        toolkit: Toolkit) -> AuthConfig:
    """M3 steps 2-5 (step 1, a pinned account, is checked by the callers)."""
    override = session.auth_configs.get(toolkit.slug)
    if override is not None:
        return auth_configs.get(project, override)
    previous = _tool_router_config(project, toolkit.slug)
    if previous is not None:
        return previous
    if not toolkit.managed_schemes:
        raise no_managed_auth(toolkit.slug)
    return auth_configs.create(project, toolkit.slug, None,
                               default_redirect_uri=origin.url(CALLBACK_PATH_V31),
                               created_by_tool_router=True)


def _auth_toolkit(project: Project, slug: str) -> Toolkit:
    toolkit = auth_configs.resolve_toolkit(project, slug)
    if toolkit.no_auth:
        raise bad_request(
            f'Toolkit "{toolkit.slug}" does not require authentication; its tools work without '
            "a connected account.", slug="ToolRouterV2_NoAuthToolkit",
            suggested_fix=f"Use {toolkit.slug} tools directly; there is nothing to authorize.")
    return toolkit


def link(project: Project, origin: Origin, session_id: str, *, toolkit: str,
         callback_url: str | None = None, alias: str | None = None,
         ) -> tuple[ConnectedAccount, Any, str]:
    """``POST /tool_router/session/{id}/link`` (``session.authorize``)."""
    session = get(project, session_id)
    tk = _auth_toolkit(project, toolkit)
    return _link(project, origin, session, tk, callback_url=callback_url, alias=alias)


def _link(project: Project, origin: Origin, session: Session, toolkit: Toolkit, *,
          callback_url: str | None, alias: str | None = None,
          ) -> tuple[ConnectedAccount, Any, str]:
    callback_url = connected_accounts.check_callback_url(callback_url or session.callback_url)
    if toolkit.slug in session.connected_accounts:
        raise bad_request(
            f"Cannot create a link for toolkit {toolkit.slug}: a connected account is already "
            "defined for this toolkit in the session configuration.",
            slug="ToolRouterV2_ConnectedAccountAlreadyDefined",
            suggested_fix="Create a session without connected_accounts for this toolkit to "
            "connect a new account, or use the pinned one.")
    on, limit, _ = _multi(session)
    if on:
        active = _candidates(project, session, toolkit.slug)
        if len(active) >= limit:
            raise bad_request(
                f"User {session.user_id} already has {len(active)} active {toolkit.slug} "
                f"accounts, the most this session allows (multi_account.max_accounts_per_toolkit"
                f" = {limit}).", slug="ToolRouterV2_MaxAccountsReached",
                suggested_fix="Disconnect one of the accounts first, or raise "
                "max_accounts_per_toolkit (2-10) with session.update().")
    ac = resolve_auth_config(project, origin, session, toolkit)
    return connected_accounts.link(
        project, origin, auth_config_id=ac.id, user_id=session.user_id,
        callback_url=callback_url, alias=alias, via="session")


# -- toolkits listing ------------------------------------------------------------------------

def toolkits(project: Project, session_id: str, *, slugs: list[str] | None = None,
             is_connected: bool | None = None, search: str | None = None,
             ) -> tuple[Session, list[tuple[Toolkit, ConnectedAccount | None]]]:
    session = get(project, session_id)
    # "session.toolkits() returns toolkits enabled for your session, sorted by popularity"
    # (fetching-tools-and-toolkits guide): the catalogue's usage order.
    if slugs:
        wanted = {t.slug for t in (project.catalogue.get(s) for s in slugs) if t is not None}
        chosen = [t for t in project.catalogue.by_usage() if t.slug in wanted]
    elif session.enabled_toolkits is not None:
        wanted = set(session.enabled_toolkits)
        chosen = [t for t in project.catalogue.by_usage() if t.slug in wanted]
    else:
        chosen = [t for t in project.catalogue.by_usage() if session.allows(t.slug)]
    needle = (search or "").strip().lower()
    out: list[tuple[Toolkit, ConnectedAccount | None]] = []
    seen: set[str] = set()
    for t in chosen:
        if t.slug in seen:
            continue
        seen.add(t.slug)
        if needle and needle not in t.slug and needle not in t.name.lower() \
                and needle not in str(t.raw.get("description", "")).lower():
            continue
        account = None if t.no_auth else current_account(project, session, t.slug)
        if is_connected and (account is None or account.status != ACTIVE):
            continue
        out.append((t, account))
    return session, out


def render_toolkit(project: Project, session: Session, toolkit: Toolkit,
                   account: ConnectedAccount | None) -> dict[str, Any]:
    connected: dict[str, Any] | None = None
    if account is not None:
        ac = project.auth_configs.get(account.auth_config_id)
        connected = {
            "id": account.id,
            "status": account.status,
            "user_id": account.user_id,
            "created_at": project.clock.iso(account.created_at),
            "auth_config": {"id": account.auth_config_id, "auth_scheme": account.auth_scheme,
                            "is_composio_managed": bool(ac and ac.is_composio_managed)},
        }
    meta: dict[str, Any] = {"description": str(toolkit.raw.get("description", "")),
                            "logo": toolkit.logo}
    if toolkit.no_auth:
        meta["isNoAuth"] = True
    return {
        "slug": toolkit.slug,
        "name": toolkit.name,
        "enabled": session.allows(toolkit.slug),
        "is_no_auth": toolkit.no_auth,
        "composio_managed_auth_schemes": list(toolkit.managed_schemes),
        "meta": meta,
        "connected_account": connected,
    }


# -- tools listing ---------------------------------------------------------------------------

_MANAGE_CONNECTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "toolkits": {"type": "array", "items": {"type": "string"},
                     "description": "Toolkit slugs to check or connect, e.g. [\"github\"]."},
        "reinitiate_all": {"type": "boolean", "default": False,
                           "description": "Start a new connection even for toolkits that "
                           "already have an active one."},
        "session_id": {"type": "string", "description": "The tool router session id."},
    },
    "required": ["toolkits"],
}
_META_TOOLS: dict[str, tuple[str, str, dict[str, Any]]] = {
    MANAGE_CONNECTIONS: (
        "Manage connections",
        "Check the user's connections to toolkits and create Connect Links for the ones that "
        "are not connected yet. Returns per-toolkit status and, for new links, a redirect_url "
        "to show the user.", _MANAGE_CONNECTIONS_SCHEMA),
    SEARCH_TOOLS: (
        "Search tools", "Search tools by use case (not executed by mockcomposio).",
        {"type": "object", "properties": {"queries": {"type": "array",
                                                      "items": {"type": "object"}}},
         "required": ["queries"]}),
    MULTI_EXECUTE: (
        "Multi execute tool", "Execute app tools (not executed by mockcomposio).",
        {"type": "object", "properties": {"tools": {"type": "array",
                                                    "items": {"type": "object"}}},
         "required": ["tools"]}),
    WAIT_FOR_CONNECTIONS: (
        "Wait for connections", "Wait until connections become active (not executed by "
        "mockcomposio).", {"type": "object", "properties": {
            "toolkits": {"type": "array", "items": {"type": "string"}}}}),
}


def tools(project: Project, session_id: str) -> list[dict[str, Any]]:
    session = get(project, session_id)
    composio = project.catalogue.get("composio")
    logo = composio.logo if composio else "https://logos.composio.dev/api/composio"
    out = []
    for slug in session.tool_router_tools:
        name, description, schema = _META_TOOLS[slug]
        out.append({
            "slug": slug, "name": name, "description": description,
            "input_parameters": _copy(schema), "output_parameters": {"type": "object"},
            "tags": [], "scopes": [], "no_auth": True, "is_deprecated": False,
            "version": "00000000_00", "available_versions": ["00000000_00"],
            "toolkit": {"slug": "composio", "name": "Composio", "logo": logo},
            "deprecated": {"available_versions": ["00000000_00"], "displayName": name,
                           "is_deprecated": False, "toolkit": {"logo": logo},
                           "version": "00000000_00"},
        })
    return out


# -- execute ---------------------------------------------------------------------------------

def not_supported(slug: str) -> ComposioError:
    return bad_request(
        f"Tool {slug} is not supported by mockcomposio: it fakes Composio's auth API and "
        f"executes only {MANAGE_CONNECTIONS} in tool router sessions.",
        slug="ToolRouterV2_NotSupportedByMock",
        suggested_fix="Stub tool execution in your test, or drive connections with "
        f"session.authorize() / {MANAGE_CONNECTIONS}.")


def _tool_toolkit(project: Project, slug: str) -> Toolkit | None:
    """The toolkit of an app tool slug (``GMAIL_SEND_EMAIL`` → gmail): the longest catalogue
    slug that prefixes it."""
    lowered = slug.lower()
    best: Toolkit | None = None
    for toolkit in project.catalogue:
        if lowered.startswith(toolkit.slug + "_") and (best is None
                                                       or len(toolkit.slug) > len(best.slug)):
            best = toolkit
    return best


def execute(project: Project, origin: Origin, session_id: str, slug: str,
            arguments: Mapping[str, Any] | None, *, account: str | None = None,
            ) -> dict[str, Any]:
    """``POST …/execute`` and ``…/execute_meta``: the execute response body. App tools are not
    executed, but their account selection is checked first (the auth part of a tool call)."""
    session = get(project, session_id)
    toolkit = None if slug.startswith("COMPOSIO_") else _tool_toolkit(project, slug)
    if toolkit is not None and not toolkit.no_auth and session.allows(toolkit.slug):
        # Multi-account selection errors come first (they are about auth); then the refusal.
        chosen = select_account(project, session, toolkit.slug, account)
        if chosen is not None:
            raise not_supported(f"{slug} (account {chosen.id} selected)")
    if slug != MANAGE_CONNECTIONS or not session.manage_connections_enabled:
        if slug == MANAGE_CONNECTIONS:
            raise bad_request(
                f"{MANAGE_CONNECTIONS} is not enabled in session {session.id}.",
                slug="ToolRouterV2_ToolNotEnabled",
                suggested_fix="Create the session with manage_connections={enable: true} "
                "(the default).")
        raise not_supported(slug)
    log_id = project.ids.new("log")
    try:
        data = manage_connections(project, origin, session, arguments or {})
    except ComposioError as exc:
        return {"data": {}, "error": exc.message, "successful": False, "log_id": log_id,
                "result_type": "failed"}
    return {"data": data, "error": None, "successful": True, "log_id": log_id,
            "result_type": "completed"}


def manage_connections(project: Project, origin: Origin, session: Session,
                       arguments: Mapping[str, Any]) -> dict[str, Any]:
    """U4: per-toolkit status; a Connect Link for every toolkit that is not connected."""
    requested = arguments.get("toolkits")
    if isinstance(requested, str):
        requested = [requested]
    if not isinstance(requested, list) or not requested \
            or not all(isinstance(t, str) and t.strip() for t in requested):
        raise _validation("arguments.toolkits must be a non-empty list of toolkit slugs.")
    action = arguments.get("action")
    if action not in (None, "add", "connect"):
        raise _validation(f"action {action!r} of {MANAGE_CONNECTIONS} is not supported by "
                          "mockcomposio (only connecting).")
    reinitiate = bool(arguments.get("reinitiate_all", False))
    results: dict[str, dict[str, Any]] = {}
    for raw in requested:
        key = raw.strip().lower()
        results[key] = _manage_one(project, origin, session, key, reinitiate)
    counts = {s: sum(1 for r in results.values() if r["status"] == s)
              for s in ("active", "initiated", "failed")}
    return {
        "results": results,
        "summary": {"total_toolkits": len(results), "active_connections": counts["active"],
                    "initiated_connections": counts["initiated"],
                    "failed_connections": counts["failed"]},
        "session": {"id": session.id, "instructions":
                    "Share each redirect_url with the user and wait until they confirm they "
                    "have finished connecting before using that toolkit."},
    }


def _manage_one(project: Project, origin: Origin, session: Session, slug: str,
                reinitiate: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"toolkit": slug}
    toolkit = project.catalogue.get(slug)
    if toolkit is None:
        return _failed(out, f"Toolkit '{slug}' not found.")
    if not session.allows(toolkit.slug):
        return _failed(out, f"Toolkit {toolkit.slug} is not enabled in this session.")
    if toolkit.no_auth:
        out.update(status="active", has_active_connection=False,
                   instruction=f"{toolkit.name} needs no authentication.")
        return out
    account = current_account(project, session, toolkit.slug)
    active = account is not None and account.status == ACTIVE
    out["has_active_connection"] = active
    if active and not reinitiate:
        assert account is not None
        out.update(status="active", connected_account_id=account.id,
                   auth_config_id=account.auth_config_id, account_type="PRIVATE")
        if account.end_user:
            out["current_user_info"] = dict(account.end_user)
        return out
    try:
        new, _, redirect = _link(project, origin, session, toolkit, callback_url=None)
    except ComposioError as exc:
        return _failed(out, exc.message)
    out.update(status="initiated", redirect_url=redirect, connected_account_id=new.id,
               auth_config_id=new.auth_config_id, was_reinitiated=active,
               instruction=f"Ask the user to open {redirect} to connect {toolkit.name}.")
    return out


def _failed(out: dict[str, Any], message: str) -> dict[str, Any]:
    out.update(status="failed", has_active_connection=out.get("has_active_connection", False),
               error_message=message)
    return out
