"""The provider's data: public records (apps, end users, pending authorizations, tokens) and
the private ones the validator keeps (codes, pendings, grant families)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

# --------------------------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------------------------


@dataclass
class OAuthApp:
    client_id: str
    client_secret: str
    toolkit: str
    redirect_uris: list[str]  # exact-match registered redirect URIs
    allowed_scopes: frozenset[str]  # what the provider can grant for this toolkit
    scope_separator: str = " "  # how scopes are joined in the `scope` parameter (github: ",")
    access_token_lifetime: int | None = 3600  # None = tokens never expire
    issue_refresh_tokens: bool = True
    managed: bool = False  # Composio's built-in app vs a customer's app


_END_USER_KEYS = ("id", "email", "name", "login")


# eq=False: Mapping's equality, so it also equals the plain dict of its four fields.
@dataclass(slots=True, eq=False)  # one or more per connected account
class EndUser(Mapping[str, str]):
    """The fake person who consents; made with faker (seedable) unless a test supplies one.

    Also a read-only mapping of its four fields (``user["email"]``, ``dict(user)``): the
    connected account's ``end_user`` is this same object rather than a dict copy of it
    (~180 bytes per OAuth connection)."""

    id: str
    email: str
    name: str
    login: str

    def __getitem__(self, key: str) -> str:
        if key in _END_USER_KEYS:
            value: str = getattr(self, key)
            return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(_END_USER_KEYS)

    def __len__(self) -> int:
        return len(_END_USER_KEYS)


@dataclass
class PendingAuthorization:
    """A validated /authorize request waiting for the user's decision (the consent page)."""

    id: str  # opaque, used to post the decision back
    app: OAuthApp
    redirect_uri: str
    state: str | None
    scopes: list[str]  # requested scopes, in request order
    code_challenge: str
    code_challenge_method: str
    created_at: float
    expires_at: float
    # The tenant's own provider host (``acme.zendesk.com``) for toolkits whose authorize URL
    # is per-subdomain; None for single-host providers.
    instance: str | None = None


@dataclass
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: float | None
    scopes: list[str]
    token_type: str = "Bearer"
    user: EndUser | None = None


@dataclass(slots=True)  # one or more per connected account
class TokenRecord:
    """One issued access or refresh token."""

    token: str
    kind: Literal["access", "refresh"]
    client_id: str
    toolkit: str
    scopes: list[str]
    user: EndUser
    grant_id: str  # the authorization (code) every token of this family descends from
    issued_at: float
    expires_at: float | None  # None = never expires (refresh tokens, lifetime-less apps)
    revoked_reason: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_reason is not None

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


class ProviderError(Exception):
    """A refused OAuth request, carrying what the HTTP endpoint would answer."""

    def __init__(
        self, error: str, description: str, status: int = 400, redirect_to: str | None = None
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error  # RFC 6749 error code
        self.description = description  # tells the caller what to fix
        self.status = status
        # Set when the RFC sends the error back to the client's redirect_uri (with error,
        # error_description and state appended); None when it must be shown to the user.
        self.redirect_to = redirect_to

    def body(self) -> dict[str, Any]:
        """The RFC 6749 §5.2 JSON error body."""
        return {"error": self.error, "error_description": self.description}


# --------------------------------------------------------------------------------------------
# Private records
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)  # one or more per connected account
class _CodeRecord:
    code: str
    client_id: str
    redirect_uri: str
    redirect_uri_given: bool  # RFC 6749 §4.1.3: then the token request must repeat it
    scopes: list[str]
    user: EndUser
    code_challenge: str
    code_challenge_method: str
    grant_id: str
    expires_at: float
    used: bool = False
    revoked: bool = False


@dataclass
class _Pending:
    pending: PendingAuthorization
    params: dict[str, str]  # the normalized query, replayed through oauthlib on "allow"


# One authorization's token family (every token descending from one code; all of one client),
# oldest first: a bare tuple per grant, not an object holding a list (memory per connection).
_Grant = tuple[TokenRecord, ...]
