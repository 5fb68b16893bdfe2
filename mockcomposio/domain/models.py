"""Stored objects of one project. Plain dataclasses: rendering lives in ``render.py``. The
numerous ones (an account, its link, timeline and tokens: 100k accounts is a tested size) have
``__slots__``: no per-instance ``__dict__``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Connected-account statuses, as the v3.1 API names them.
INITIALIZING = "INITIALIZING"
INITIATED = "INITIATED"
ACTIVE = "ACTIVE"
FAILED = "FAILED"
EXPIRED = "EXPIRED"
INACTIVE = "INACTIVE"
REVOKED = "REVOKED"
ACCOUNT_STATUSES = (INITIALIZING, INITIATED, ACTIVE, FAILED, EXPIRED, INACTIVE, REVOKED)
PENDING_STATUSES = frozenset({INITIALIZING, INITIATED})

# status_reason wording, as the v3.1 spec lists them.
REASON_INITIATION_TIMEOUT = "Connection initiation did not complete within 10 minutes"
REASON_REFRESH_PERMANENT = "Permanent auth error during token refresh"
REASON_MAX_AUTH_FAILURES = "Max auth failures reached"
REASON_CALLBACK_FAILED = "OAuth callback failed during token exchange"
REASON_USER_UPDATE = "Connection status updated by user"
REASON_AUTH_CONFIG_DISABLED = "Auth config is disabled"
REASON_REVOKED_BY_USER = "Revoked via user-initiated revoke endpoint"
REASON_REVOKED_ON_DELETE = "Revoked as part of connection delete"

ENABLED = "ENABLED"
DISABLED = "DISABLED"

LINK_LIFETIME_SECONDS = 600


@dataclass
class AuthConfig:
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
    at: float
    event: str
    detail: str = ""


@dataclass(slots=True)
class TokenState:
    access_token: str
    refresh_token: str | None
    expires_at: float | None
    scopes: list[str]
    token_type: str = "Bearer"
    refresh_failures: int = 0
    client_id: str | None = None  # the provider app that issued the tokens (for refreshes)


@dataclass(slots=True)
class ConnectedAccount:
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
    end_user: dict[str, str] | None = None
    link_token: str | None = None
    via: str = "link"  # link | initiate | session | v1: decides the callback's query style
    deleted: bool = False
    timeline: list[TimelineEvent] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


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
