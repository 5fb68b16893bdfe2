"""Stored objects of one project. Plain dataclasses: rendering lives in ``render.py``. The
numerous ones (an account, its link, timeline and tokens: 100k accounts is a tested size) have
``__slots__``: no per-instance ``__dict__``."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Distinct scope lists shared, at most this many (a hostile caller inventing scope lists cannot
# grow the table; past the cap a list is simply not shared).
MAX_SHARED_SCOPE_LISTS = 4096
_shared_scope_lists: dict[tuple[str, ...], list[str]] = {}


def shared_scopes(scopes: Iterable[str]) -> list[str]:
    """One list object per distinct list of scopes, held by every link, account, token state and
    provider record with those scopes (100k OAuth accounts otherwise keep three copies each, ~36
    MB). Such a list is never changed in place: code that needs another list makes a new one."""
    key = tuple(scopes)
    found = _shared_scope_lists.get(key)
    if found is None:
        found = [sys.intern(s) for s in key]
        if len(_shared_scope_lists) < MAX_SHARED_SCOPE_LISTS:
            _shared_scope_lists[key] = found
    return found


class _EmptyMapping(dict[str, Any]):
    """The one empty dict every account without extra ``data`` or ``connection_fields`` holds
    (two empty dicts per account are ~13 MB at 100k accounts). It refuses changes, so code
    that stores into such a field must assign a new dict (``{**old, key: value}``) instead of
    changing it in place: a write in place would otherwise reach every account."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("models.EMPTY is shared by many accounts: assign a new dict instead "
                        "of changing it in place")

    __setitem__ = __delitem__ = __ior__ = _refuse
    update = setdefault = pop = popitem = clear = _refuse


EMPTY: dict[str, Any] = _EmptyMapping()


def _empty() -> dict[str, Any]:
    return EMPTY


# Connected-account statuses, as the v3.1 API names them.
INITIALIZING = "INITIALIZING"
INITIATED = "INITIATED"
ACTIVE = "ACTIVE"
FAILED = "FAILED"
EXPIRED = "EXPIRED"
INACTIVE = "INACTIVE"
REVOKED = "REVOKED"
ACCOUNT_STATUSES = (INITIALIZING, INITIATED, ACTIVE, FAILED, EXPIRED, INACTIVE, REVOKED)
# Schemes whose ``state.val.status`` has no FAILED or EXPIRED (the spec's per-scheme state
# union, reference sdk-python-wire-contract §5): such an account still expires (INITIATED for
# 10 minutes -> EXPIRED, reference S6), but only its top-level ``status`` says so; its ``val``
# keeps the last status the scheme allows.
SCHEMES_WITHOUT_TERMINAL_VAL = frozenset({"API_KEY", "BASIC", "BEARER_TOKEN",
                                          "GOOGLE_SERVICE_ACCOUNT", "SERVICE_ACCOUNT"})
TERMINAL_STATUSES = frozenset({FAILED, EXPIRED})


def terminal_val(a: ConnectedAccount, val: dict[str, Any]) -> None:
    """Store the FAILED/EXPIRED ``val`` (error, expired_at) where the scheme has one."""
    if a.auth_scheme not in SCHEMES_WITHOUT_TERMINAL_VAL:
        a.val = val


def val_status(auth_scheme: str, status: str, previous: Any) -> str:
    """The ``state.val.status`` an account of ``auth_scheme`` shows for ``status``."""
    if status in TERMINAL_STATUSES and auth_scheme in SCHEMES_WITHOUT_TERMINAL_VAL:
        return previous if previous in (INITIALIZING, INITIATED, ACTIVE, INACTIVE) else INITIATED
    return status
PENDING_STATUSES = frozenset({INITIALIZING, INITIATED})

# status_reason wording, as the v3.1 spec lists them.
REASON_INITIATION_TIMEOUT = "Connection initiation did not complete within 10 minutes"
REASON_REFRESH_PERMANENT = "Permanent auth error during token refresh"
REASON_MAX_AUTH_FAILURES = "Max auth failures reached"
REASON_CALLBACK_FAILED = "OAuth callback failed during token exchange"
# The provider answered the authorization itself with an error (no exchange took place).
REASON_CONSENT_DENIED = "User denied consent at the provider"
REASON_AUTHORIZATION_FAILED = "OAuth authorization failed at the provider"
REASON_USER_UPDATE = "Connection status updated by user"
REASON_AUTH_CONFIG_DISABLED = "Auth config is disabled"
REASON_REVOKED_BY_USER = "Revoked via user-initiated revoke endpoint"
REASON_REVOKED_ON_DELETE = "Revoked as part of connection delete"

ENABLED = "ENABLED"
DISABLED = "DISABLED"

LINK_LIFETIME_SECONDS = 600


@dataclass
class AuthConfig:
    """A stored auth config: ``toolkit``, ``auth_scheme``, ``is_composio_managed``,
    ``status`` (``ENABLED`` / ``DISABLED``), ``scope_override`` (None: the toolkit's default
    scopes)."""

    id: str
    uuid: str
    name: str
    toolkit: str
    auth_scheme: str
    is_composio_managed: bool
    credentials: dict[str, Any]
    # None means "use the toolkit's default scopes"; a list (possibly empty) is an override.
    scope_override: list[str] | None
    user_scopes: list[str]
    tool_access_config: dict[str, list[str]]
    is_enabled_for_tool_router: bool
    created_at: float
    last_updated_at: float
    status: str = ENABLED
    deleted: bool = False
    created_by: str = "api"
    created_by_tool_router: bool = False
    proxy_config: dict[str, Any] | None = None
    shared_credentials: dict[str, Any] = field(default_factory=dict)
    restrict_to_following_tools: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return "default" if self.is_composio_managed else "custom"

    @property
    def enabled(self) -> bool:
        return self.status == ENABLED


@dataclass(slots=True)
class TimelineEvent:
    """One thing that happened to a connected account: ``at`` (the tenant's virtual time,
    epoch seconds), ``event`` (e.g. ``"tokens stored, ACTIVE"``, ``"access token
    refreshed"``) and ``detail``."""

    at: float
    event: str
    detail: str = ""


@dataclass(slots=True)
class TokenState:
    """An OAuth account's tokens as Composio stores them: ``access_token``,
    ``refresh_token`` (None when the provider issues none), ``expires_at`` (epoch seconds on
    the tenant's clock; None: never expires), the granted ``scopes``."""

    access_token: str
    refresh_token: str | None
    expires_at: float | None
    scopes: list[str]
    token_type: str = "Bearer"
    refresh_failures: int = 0
    client_id: str | None = None  # the provider app that issued the tokens (for refreshes)


@dataclass(slots=True)
class ConnectedAccount:
    """A stored connected account. Tests read ``status``, ``status_reason``,
    ``requested_scopes``, ``granted_scopes`` (None until consent completes), ``token`` (a
    :class:`TokenState`, OAuth only) and ``timeline`` (:class:`TimelineEvent` list, oldest
    first)."""

    id: str
    uuid: str
    seq: int  # insertion order: breaks created_at ties so ordering is total and stable
    user_id: str
    auth_config_id: str
    toolkit: str
    auth_scheme: str
    status: str
    created_at: float
    updated_at: float
    val: dict[str, Any] = field(default_factory=dict)
    status_reason: str | None = None
    alias: str | None = None
    word_id: str | None = None
    callback_url: str | None = None
    requested_scopes: list[str] = field(default_factory=list)
    granted_scopes: list[str] | None = None
    token: TokenState | None = None
    # The provider's user who consented (its EndUser: a read-only mapping id/email/name/login,
    # shared with the provider's records, not copied); a plain dict after a snapshot restore.
    end_user: Mapping[str, str] | None = None
    link_token: str | None = None
    via: str = "link"  # link | initiate | session | v1: decides the callback's query style
    deleted: bool = False
    timeline: list[TimelineEvent] = field(default_factory=list)
    # Both usually empty: then the shared, read-only ``EMPTY`` (assign a new dict to change).
    data: dict[str, Any] = field(default_factory=_empty)
    # Fields the toolkit needs before the OAuth redirect (Zendesk ``subdomain``, Shopify
    # ``shop``): given on initiate/link or entered on the Connect Link page; shown in ``val``.
    connection_fields: dict[str, str] = field(default_factory=_empty)


@dataclass(slots=True)
class Link:
    """A Connect Link: the hosted page a user opens to connect one account."""

    token: str
    connected_account_id: str
    auth_config_id: str
    project_id: str
    created_at: float
    expires_at: float
    callback_url: str | None
    scopes: list[str]
    # OAuth round trip with the (fake) provider, filled in when the user leaves the page.
    oauth_state: str | None = None
    code_verifier: str | None = None
    redirect_uri: str | None = None
    client_id: str | None = None
    done: bool = False
    # Page language chosen when the link was opened (``?locale=``), kept for the next steps.
    locale: str | None = None


# Callback identity verification: how long a deferred callback's session_uri can be redeemed.
AUTH_SESSION_LIFETIME_SECONDS = 600


@dataclass
class AuthSession:
    """A deferred OAuth callback waiting for ``POST /connected_accounts/complete_auth``: the
    provider's code is kept until the app has verified who the user is."""

    session_uri: str
    connected_account_id: str
    link_token: str
    user_id: str
    code: str
    created_at: float
    expires_at: float
    used: bool = False
