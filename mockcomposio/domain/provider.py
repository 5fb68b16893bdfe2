"""The fake OAuth 2.0 provider behind Composio toolkits (github, google, slack, notion, ...).

A pure domain module: no HTTP. The aiohttp handlers pass the raw query / form / headers to
:class:`OAuthProvider` and the engine calls the same methods in-process (``exchange_code``,
``refresh``), so both paths run exactly the same code.

The RFC 6749 / RFC 7636 / RFC 7009 checks are oauthlib's (AuthorizationEndpoint, TokenEndpoint,
RevocationEndpoint with AuthorizationCodeGrant + RefreshTokenGrant + BearerToken); this module
only supplies an in-memory ``RequestValidator``, the fake's policy (S256 PKCE mandatory, rotating
refresh tokens, provider-looking token values) and error texts that tell the caller what to fix.

Policy decisions:

* **PKCE**: ``code_challenge`` with ``code_challenge_method=S256`` is required on every
  authorization request; ``plain`` (or an omitted method, which RFC 7636 defaults to plain) is
  refused with ``invalid_request``.
* **Refresh-token rotation**: every refresh issues a new refresh token and revokes the one
  presented (RFC 6749 §6 allows it, OAuth 2.1 recommends it). Access tokens minted earlier stay
  valid until they expire. Presenting a rotated token again is ``invalid_grant``; we do *not*
  revoke the whole grant on such reuse, so a test that retries a refresh gets a clear error
  rather than a cascade.
* **Empty grant**: ``decide(allow=True, granted_scopes=[])`` for a request that asked for scopes
  is treated as a denial (``access_denied``): a user who unticks every box has not authorized
  the app, and a code for nothing would only fail later. A request with no scope at all may be
  allowed with an empty grant.
* **Grant families**: every token descends from one authorization (one code). Reusing that
  code (RFC 6749 §4.1.2), revoking one of its refresh tokens (RFC 7009 §2.1) or
  :meth:`OAuthProvider.revoke_user_grants` revokes every access and refresh token of the family.
* **Transport security**: see the comment on ``_ISSUER``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote_plus

if TYPE_CHECKING:
    from faker import Faker

    from mockcomposio.clock import VirtualClock
    from mockcomposio.ids import IdFactory

__all__ = [
    "RFC_ERROR_CODES",
    "EndUser",
    "OAuthApp",
    "OAuthProvider",
    "PendingAuthorization",
    "ProviderError",
    "TokenRecord",
    "TokenSet",
]

# oauthlib refuses plain-HTTP URIs unless OAUTHLIB_INSECURE_TRANSPORT is set, but (checked in
# oauthlib 4.0.1) only on the *client* side: rfc6749/parameters.py and clients/*. The server
# endpoints never look at the scheme of the request URI; their one is_secure_transport() call is
# in grant_types/base.py:_create_cors_headers, on an Origin header, which we never forward (only
# Authorization is passed through). So nothing here needs the environment variable and we leave
# os.environ alone. The real transport belongs to the HTTP layer, so oauthlib is always handed
# these fixed https URIs without a query; if a later oauthlib did check the endpoint scheme it
# would still pass. Client redirect URIs (http://localhost/... included) are only checked with
# is_absolute_uri plus our exact match, never for https.
_ISSUER = "https://oauth.mockcomposio.invalid"
_AUTHORIZE_URI = f"{_ISSUER}/authorize"
_TOKEN_URI = f"{_ISSUER}/token"
_REVOKE_URI = f"{_ISSUER}/revoke"

# The only parameters handed to oauthlib. RFC 6749 §3.1 says unknown parameters MUST be ignored;
# whitelisting also keeps junk keys such as "user" or "client" from shadowing the attributes
# oauthlib's Request stores in the same namespace.
_AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
_TOKEN_PARAMS = (
    "grant_type",
    "code",
    "redirect_uri",
    "client_id",
    "client_secret",
    "code_verifier",
    "refresh_token",
    "scope",
)
_REVOKE_PARAMS = ("token", "token_type_hint", "client_id", "client_secret")

RFC_ERROR_CODES = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "access_denied",
        "redirect_uri_mismatch",
        "unsupported_response_type",
        "unsupported_token_type",
        "invalid_token",
        "server_error",
        "temporarily_unavailable",
    }
)

# oauthlib leaves some descriptions empty; these are the fallbacks, by error code.
_DEFAULT_DESCRIPTIONS = {
    "invalid_request": "The request is missing a required parameter or is malformed.",
    "invalid_client": "Client authentication failed.",
    "invalid_grant": "The authorization code or refresh token is invalid.",
    "unauthorized_client": "This client may not use this grant type.",
    "unsupported_grant_type": "grant_type must be 'authorization_code' or 'refresh_token'.",
    "invalid_scope": "The requested scope is invalid or exceeds what was granted.",
    "unsupported_response_type": "response_type must be 'code'.",
    "unsupported_token_type": "token_type_hint must be 'access_token' or 'refresh_token'.",
}

_PKCE_CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}")  # BASE64URL(SHA-256) without padding
_PKCE_VERIFIER_RE = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 §4.1
_ERROR_CODE_RE = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 §4.1.2.1

# (prefix, random length) of access tokens, to look like the real provider's where cheap.
_ACCESS_TOKEN_SHAPES = {
    "github": ("gho_", 36),
    "slack": ("xoxp-", 48),
    "google": ("ya29.", 96),
}
_GOOGLE_TOOLKITS = frozenset({"gmail", "youtube"})  # plus every "google*" toolkit


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


@dataclass
class EndUser:
    """The fake person who consents; made with faker (seedable) unless a test supplies one."""

    id: str
    email: str
    name: str
    login: str


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


@dataclass
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: float | None
    scopes: list[str]
    token_type: str = "Bearer"
    user: EndUser | None = None


@dataclass
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


@dataclass
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


@dataclass
class _Grant:
    client_id: str
    tokens: list[TokenRecord] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# oauthlib glue. oauthlib is imported lazily (~30 ms) so importing this module stays cheap:
# the classes below are mixed into oauthlib's base classes on first use (_oauthlib_classes).
# --------------------------------------------------------------------------------------------


def _s256_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=")
    # Bytes comparison: compare_digest refuses non-ASCII str, and both values come from clients.
    return hmac.compare_digest(expected, challenge.encode())


class _S256OnlyCodeGrant:
    """Mixed into AuthorizationCodeGrant: S256 is the only PKCE method, with a useful error."""

    _code_challenge_methods = {"S256": _s256_matches}  # oauthlib's table also has "plain"

    def validate_code_challenge(self, challenge: str, challenge_method: str, verifier: str) -> bool:
        from oauthlib.oauth2.rfc6749 import errors

        if not _s256_matches(verifier, challenge):
            raise errors.InvalidGrantError(
                description="code_verifier does not match the code_challenge sent to "
                "/authorize (expected BASE64URL(SHA256(code_verifier)))."
            )
        return True


class _Validator:
    """The in-memory RequestValidator; all state lives on the OAuthProvider."""

    def __init__(self, provider: OAuthProvider) -> None:
        from oauthlib.oauth2.rfc6749 import errors

        self.p = provider
        self.oe: Any = errors

    # ---- clients -----------------------------------------------------------------------------

    def client_authentication_required(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        return True  # every app is a confidential (web-server) client

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        oe = self.oe
        try:
            basic = _parse_basic(request.headers.get("Authorization"))
        except ValueError:
            raise oe.InvalidClientError(
                description="Malformed HTTP Basic Authorization header: expected "
                "base64(urlencode(client_id) ':' urlencode(client_secret))."
            ) from None
        form_id, form_secret = request.client_id, request.client_secret
        if basic is not None:
            client_id, secret = basic
            # RFC 6749 §2.3: one method per request; tolerate a repeated client_id if it agrees.
            if (form_id and form_id != client_id) or (form_secret and form_secret != secret):
                raise oe.InvalidClientError(
                    description="HTTP Basic credentials and form client_id/client_secret "
                    "disagree; send the client credentials one way only."
                )
        elif form_id and form_secret:
            client_id, secret = form_id, form_secret
        else:
            raise oe.InvalidClientError(
                description="Client authentication required: send client_id and client_secret "
                "in the form body (client_secret_post) or an HTTP Basic Authorization header."
            )
        app = self.p.get_app(client_id)
        if app is None:
            raise oe.InvalidClientError(description=f"Unknown client_id {client_id!r}.")
        if not hmac.compare_digest(secret.encode(), app.client_secret.encode()):
            raise oe.InvalidClientError(
                description=f"client_secret is wrong for client_id {client_id!r}."
            )
        request.client = app
        request.client_id = app.client_id  # oauthlib compares these two later
        return True

    def authenticate_client_id(self, client_id: str, request: Any, *args: Any, **kw: Any) -> bool:
        return False  # no public clients: a secret is always required

    def validate_client_id(self, client_id: str, request: Any, *args: Any, **kw: Any) -> bool:
        app = self.p.get_app(client_id)
        request.client = app
        return app is not None

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: OAuthApp, request: Any, *a: Any, **k: Any
    ) -> bool:
        if grant_type == "refresh_token" and not client.issue_refresh_tokens:
            raise self.oe.UnauthorizedClientError(
                description=f"Client {client_id!r} is not issued refresh tokens "
                "(issue_refresh_tokens=False); re-authorize instead.",
                request=request,
            )
        return grant_type in ("authorization_code", "refresh_token")

    def is_origin_allowed(
        self, client_id: str, origin: str, request: Any, *a: Any, **k: Any
    ) -> bool:
        return False  # no CORS; Origin is never forwarded anyway

    # ---- authorization request ---------------------------------------------------------------

    def validate_response_type(
        self, client_id: str, response_type: str, client: OAuthApp, request: Any, *a: Any, **k: Any
    ) -> bool:
        if response_type != "code":
            # oauthlib only checks that "code" is a substring; be exact.
            raise self.oe.UnsupportedResponseTypeError(
                description=f"response_type must be 'code', got {response_type!r}.",
                request=request,
            )
        return True

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: Any, *a: Any, **k: Any
    ) -> bool:
        app = self.p.get_app(client_id)
        return app is not None and redirect_uri in app.redirect_uris  # exact match

    def get_default_redirect_uri(
        self, client_id: str, request: Any, *a: Any, **k: Any
    ) -> str | None:
        app = self.p.get_app(client_id)
        # Omitting redirect_uri is only unambiguous with exactly one registered.
        if app is not None and len(app.redirect_uris) == 1:
            return app.redirect_uris[0]
        return None

    def get_default_scopes(self, client_id: str, request: Any, *a: Any, **k: Any) -> list[str]:
        return []  # no scope requested = the provider's basic access, nothing extra

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: OAuthApp, request: Any, *a: Any, **k: Any
    ) -> bool:
        unknown = [s for s in scopes if s not in client.allowed_scopes]
        if unknown:
            raise self.oe.InvalidScopeError(
                description=f"Scope(s) {unknown} are not available for toolkit "
                f"{client.toolkit!r}; allowed: {sorted(client.allowed_scopes)}.",
                request=request,
            )
        return True

    def is_pkce_required(self, client_id: str, request: Any) -> bool:
        return True

    def save_authorization_code(
        self, client_id: str, code: dict[str, str], request: Any, *a: Any, **k: Any
    ) -> None:
        p = self.p
        p._codes[code["code"]] = _CodeRecord(
            code=code["code"],
            client_id=client_id,
            redirect_uri=request.redirect_uri,
            redirect_uri_given=not request.using_default_redirect_uri,
            scopes=list(request.scopes or []),
            user=request.user,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
            grant_id=p._ids.new("grant"),
            expires_at=p._clock.now() + p._code_lifetime,
        )

    # ---- authorization_code grant ------------------------------------------------------------

    def validate_code(
        self, client_id: str, code: str, client: OAuthApp, request: Any, *a: Any, **k: Any
    ) -> bool:
        oe, p = self.oe, self.p
        record = p._codes.get(code)
        if record is None:
            raise oe.InvalidGrantError(description="Unknown authorization code.")
        if record.used:
            # RFC 6749 §4.1.2: deny, and revoke what the first exchange issued.
            p._revoke_grant(record.grant_id, "authorization code reused")
            raise oe.InvalidGrantError(
                description="Authorization code was already used; the tokens issued from it "
                "have been revoked. Codes are single-use: start a new authorization."
            )
        if record.revoked:
            raise oe.InvalidGrantError(description="The user revoked this authorization.")
        if record.client_id != client.client_id:
            raise oe.InvalidGrantError(
                description="Authorization code was issued to another client."
            )
        if p._clock.now() >= record.expires_at:
            raise oe.InvalidGrantError(
                description=f"Authorization code expired (codes are valid for "
                f"{p._code_lifetime:g}s); start a new authorization."
            )
        verifier = request.code_verifier
        if verifier is not None and not _PKCE_VERIFIER_RE.fullmatch(verifier):
            raise oe.InvalidRequestError(
                description="code_verifier must be 43-128 characters of [A-Z a-z 0-9 - . _ ~] "
                "(RFC 7636 §4.1)."
            )
        request.user = record.user
        request.scopes = list(record.scopes)
        request.code_record = record
        return True

    def get_code_challenge(self, code: str, request: Any) -> str | None:
        record = self.p._codes.get(code)
        return record.code_challenge if record else None

    def get_code_challenge_method(self, code: str, request: Any) -> str | None:
        record = self.p._codes.get(code)
        return record.code_challenge_method if record else None

    def confirm_redirect_uri(
        self,
        client_id: str,
        code: str,
        redirect_uri: str | None,
        client: OAuthApp,
        request: Any,
        *a: Any,
        **k: Any,
    ) -> bool:
        oe = self.oe
        record = self.p._codes[code]  # validate_code ran first
        if record.redirect_uri_given and request.using_default_redirect_uri:
            raise oe.InvalidRequestError(
                description="redirect_uri is required: the authorization request included one "
                "(RFC 6749 §4.1.3)."
            )
        if redirect_uri != record.redirect_uri:
            raise oe.InvalidGrantError(
                description=f"redirect_uri {redirect_uri!r} does not match the one used in the "
                f"authorization request ({record.redirect_uri!r})."
            )
        return True

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Any, *a: Any, **k: Any
    ) -> None:
        self.p._codes[code].used = True

    # ---- refresh_token grant -----------------------------------------------------------------

    def validate_refresh_token(
        self, refresh_token: str, client: OAuthApp, request: Any, *a: Any, **k: Any
    ) -> bool:
        oe = self.oe
        record = self.p._refresh.get(refresh_token)
        if record is None:
            raise oe.InvalidGrantError(description="Unknown refresh token.")
        if record.revoked_reason is not None:
            raise oe.InvalidGrantError(
                description=f"Refresh token is no longer valid ({record.revoked_reason}); use "
                "the newest refresh token or re-authorize."
            )
        if record.client_id != client.client_id:
            raise oe.InvalidGrantError(description="Refresh token was issued to another client.")
        request.user = record.user
        request.refresh_record = record
        return True

    def get_original_scopes(self, refresh_token: str, request: Any, *a: Any, **k: Any) -> list[str]:
        return list(self.p._refresh[refresh_token].scopes)

    def is_within_original_scope(
        self, request_scopes: list[str], refresh_token: str, request: Any, *a: Any, **k: Any
    ) -> bool:
        # oauthlib only asks when some requested scope is outside the original grant.
        original = self.p._refresh[refresh_token].scopes
        raise self.oe.InvalidScopeError(
            description=f"Scope(s) {[s for s in request_scopes if s not in original]} were not "
            f"granted; a refresh may only narrow the original grant {original}.",
            request=request,
        )

    def rotate_refresh_token(self, request: Any) -> bool:
        return True  # see the module docstring: always rotate

    # ---- tokens ------------------------------------------------------------------------------

    def save_bearer_token(self, token: dict[str, Any], request: Any, *a: Any, **k: Any) -> None:
        p = self.p
        app: OAuthApp = request.client
        now = p._clock.now()
        previous: TokenRecord | None = None
        if request.grant_type == "refresh_token":
            previous = request.refresh_record
            grant_id, refresh_scopes = previous.grant_id, previous.scopes
        else:
            grant_id, refresh_scopes = request.code_record.grant_id, list(request.scopes)
        lifetime = app.access_token_lifetime
        p._store(
            TokenRecord(
                token=token["access_token"],
                kind="access",
                client_id=app.client_id,
                toolkit=app.toolkit,
                scopes=list(request.scopes or []),
                user=request.user,
                grant_id=grant_id,
                issued_at=now,
                expires_at=None if lifetime is None else now + lifetime,
            )
        )
        new_refresh = token.get("refresh_token")
        if new_refresh is not None:
            # RFC 6749 §6: the new refresh token keeps the *original* scope, even when this
            # access token was narrowed.
            p._store(
                TokenRecord(
                    token=new_refresh,
                    kind="refresh",
                    client_id=app.client_id,
                    toolkit=app.toolkit,
                    scopes=list(refresh_scopes),
                    user=request.user,
                    grant_id=grant_id,
                    issued_at=now,
                    expires_at=None,
                )
            )
        if previous is not None and previous.token != new_refresh:
            previous.revoked_reason = "rotated: it was already used to refresh"

    # ---- revocation (RFC 7009) ---------------------------------------------------------------

    def revoke_token(
        self, token: str, token_type_hint: str | None, request: Any, *a: Any, **k: Any
    ) -> None:
        p = self.p
        # The hint only picks the lookup order (RFC 7009 §2.1: search the other store too).
        first, second = (
            (p._refresh, p._access)
            if token_type_hint == "refresh_token"
            else (
                p._access,
                p._refresh,
            )
        )
        record = first.get(token) or second.get(token)
        # A token of another client is ignored silently (200, like an unknown one) so the
        # endpoint does not reveal which tokens exist.
        if record is None or record.client_id != request.client.client_id:
            return
        if record.kind == "refresh":
            # RFC 7009 §2.1: also invalidate the access tokens of the same grant.
            p._revoke_grant(record.grant_id, "revoked by the client")
        elif record.revoked_reason is None:
            record.revoked_reason = "revoked by the client"


@functools.cache
def _oauthlib_classes() -> tuple[type, type]:
    """(validator class, code grant class): our mixins over oauthlib's bases, built once."""
    from oauthlib.oauth2.rfc6749.grant_types.authorization_code import AuthorizationCodeGrant
    from oauthlib.oauth2.rfc6749.request_validator import RequestValidator

    # RequestValidator stays a base so any hook we do not override keeps oauthlib's default.
    validator = type("MockRequestValidator", (_Validator, RequestValidator), {})
    grant = type("S256AuthorizationCodeGrant", (_S256OnlyCodeGrant, AuthorizationCodeGrant), {})
    return validator, grant


# --------------------------------------------------------------------------------------------
# The provider
# --------------------------------------------------------------------------------------------


class OAuthProvider:
    """One tenant's fake OAuth provider, serving every toolkit's apps. State is in memory."""

    def __init__(
        self,
        clock: VirtualClock,
        ids: IdFactory,
        *,
        faker_seed: int | None = None,
        code_lifetime: int = 600,
        authorization_lifetime: int = 600,
    ) -> None:
        self._clock = clock
        self._ids = ids
        self._faker_seed = faker_seed
        self._faker: Faker | None = None
        self._code_lifetime = code_lifetime
        self._authorization_lifetime = authorization_lifetime
        # Everything keyed by the value a request presents, for O(1) lookups.
        self._apps: dict[str, OAuthApp] = {}
        self._pending: dict[str, _Pending] = {}
        self._codes: dict[str, _CodeRecord] = {}
        self._access: dict[str, TokenRecord] = {}
        self._refresh: dict[str, TokenRecord] = {}
        self._grants: dict[str, _Grant] = {}
        self._user_logins: set[str] = set()
        self._build_endpoints()

    def _build_endpoints(self) -> None:
        from oauthlib.oauth2.rfc6749 import errors
        from oauthlib.oauth2.rfc6749.endpoints.authorization import AuthorizationEndpoint
        from oauthlib.oauth2.rfc6749.endpoints.revocation import RevocationEndpoint
        from oauthlib.oauth2.rfc6749.endpoints.token import TokenEndpoint
        from oauthlib.oauth2.rfc6749.grant_types.refresh_token import RefreshTokenGrant
        from oauthlib.oauth2.rfc6749.tokens import BearerToken

        validator_cls, code_grant_cls = _oauthlib_classes()
        self._oe: Any = errors
        self._validator = validator_cls(self)
        bearer = BearerToken(
            self._validator,
            token_generator=lambda request: self._new_access_token(request.client.toolkit),
            refresh_token_generator=lambda request: self._ids.secret("rt_", 48),
            # 0 stands in for "never expires"; _shape_token then drops expires_in.
            expires_in=lambda request: request.client.access_token_lifetime or 0,
        )
        code_grant = code_grant_cls(self._validator, post_auth=[self._check_code_challenge])
        code_grant.register_code_modifier(self._assign_code)
        code_grant.register_token_modifier(self._shape_token)
        refresh_grant = RefreshTokenGrant(self._validator, issue_new_refresh_tokens=True)
        refresh_grant.register_token_modifier(self._shape_token)
        self._authorization = AuthorizationEndpoint(
            default_response_type="code",
            default_token_type=bearer,
            response_types={"code": code_grant},
        )
        self._token = TokenEndpoint(
            default_grant_type="authorization_code",
            default_token_type=bearer,
            grant_types={"authorization_code": code_grant, "refresh_token": refresh_grant},
        )
        self._revocation = RevocationEndpoint(self._validator)

    # ---- apps and users ----------------------------------------------------------------------

    def register_app(self, app: OAuthApp) -> OAuthApp:
        """Register (or replace, by client_id) an app."""
        if not app.client_id or not app.scope_separator:
            raise ValueError("an OAuthApp needs a client_id and a non-empty scope_separator")
        self._apps[app.client_id] = app
        return app

    def get_app(self, client_id: str) -> OAuthApp | None:
        return self._apps.get(client_id)

    def new_user(self) -> EndUser:
        """A fresh fake end user (deterministic when the provider has a faker_seed)."""
        fake = self._fake()
        first, last = fake.first_name(), fake.last_name()
        base = re.sub(r"[^a-z0-9]", "", f"{first}{last}".lower()) or "user"
        login, n = base, 1
        while login in self._user_logins:
            n += 1
            login = f"{base}{n}"
        self._user_logins.add(login)
        return EndUser(
            id=str(fake.random_int(10_000_000, 99_999_999)),
            email=f"{login}@{fake.free_email_domain()}",
            name=f"{first} {last}",
            login=login,
        )

    def _fake(self) -> Faker:
        if self._faker is None:
            import faker  # lazy: importing faker costs ~100 ms

            self._faker = faker.Faker()
            if self._faker_seed is not None:
                self._faker.seed_instance(self._faker_seed)
        return self._faker

    # ---- authorization endpoint --------------------------------------------------------------

    def start_authorization(self, query: Mapping[str, str]) -> PendingAuthorization:
        """Validate GET /authorize; the result waits for :meth:`decide`. Raises ProviderError."""
        params = _pick(query, _AUTHORIZE_PARAMS)
        app = self._apps.get(params.get("client_id", ""))
        if app is not None:
            _normalize_scope(params, app.scope_separator)
        try:
            scopes, info = self._authorization.validate_authorization_request(
                _AUTHORIZE_URI, "GET", body=list(params.items())
            )
        except self._oe.OAuth2Error as exc:
            raise self._authorization_error(exc, params) from None
        app = info["request"].client
        now = self._clock.now()
        pending = PendingAuthorization(
            id=self._ids.new("authz"),
            app=app,
            redirect_uri=info["redirect_uri"],
            state=info["state"],
            scopes=list(scopes or []),
            code_challenge=info["code_challenge"],
            code_challenge_method=info["code_challenge_method"],
            created_at=now,
            expires_at=now + self._authorization_lifetime,
        )
        self._pending[pending.id] = _Pending(pending, params)
        return pending

    def get_pending(self, pending_id: str) -> PendingAuthorization:
        entry = self._pending.get(pending_id)
        if entry is not None and self._clock.now() >= entry.pending.expires_at:
            del self._pending[pending_id]
            entry = None
        if entry is None:
            raise ProviderError(
                "invalid_request",
                "This authorization request is unknown, expired or already answered; start "
                "the authorization again.",
                400,
            )
        return entry.pending

    def decide(
        self,
        pending_id: str,
        *,
        allow: bool,
        granted_scopes: Sequence[str] | None = None,
        user: EndUser | None = None,
        error: str | None = None,
    ) -> str:
        """The user's answer on the consent page; returns the URL to redirect the browser to.

        ``granted_scopes`` None grants everything requested; it must be a subset of the
        request (else ProviderError(invalid_scope), and the pending request stays open). An
        empty grant of a non-empty request is a denial. ``error`` scripts a provider-side
        failure (e.g. "server_error") and takes precedence over ``allow``. Single-use.
        """
        pending = self.get_pending(pending_id)
        if error is not None and not _ERROR_CODE_RE.fullmatch(error):
            raise ValueError(f"not a valid OAuth error code: {error!r}")
        granted = pending.scopes
        if error is None and allow and granted_scopes is not None:
            extra = [s for s in granted_scopes if s not in pending.scopes]
            if extra:
                raise ProviderError(
                    "invalid_scope",
                    f"Granted scope(s) {extra} were not requested; grant a subset of "
                    f"{pending.scopes}.",
                    400,
                )
            wanted = set(granted_scopes)
            granted = [s for s in pending.scopes if s in wanted]  # keep request order
            if not granted and pending.scopes:
                allow = False
        params = self._pending.pop(pending_id).params  # single-use from here on
        if error is not None or not allow:
            failure = self._oe.CustomOAuth2Error(
                error=error or "access_denied",
                description="The user denied the authorization request."
                if error is None
                else f"The provider reported {error} (scripted).",
                state=pending.state,
            )
            return str(failure.in_uri(pending.redirect_uri))
        try:
            headers, _, _ = self._authorization.create_authorization_response(
                _AUTHORIZE_URI,
                "GET",
                body=list(params.items()),
                scopes=granted,
                credentials={"user": user or self.new_user()},
            )
        except self._oe.OAuth2Error as exc:  # only fatal ones escape; e.g. app unregistered
            raise self._authorization_error(exc, params) from None
        return str(headers["Location"])

    def _authorization_error(self, exc: Any, params: Mapping[str, str]) -> ProviderError:
        oe = self._oe
        client_id = params.get("client_id")
        if isinstance(exc, oe.InvalidClientIdError):
            return ProviderError("invalid_client", f"Unknown client_id {client_id!r}.", 401)
        if isinstance(exc, oe.MismatchingRedirectURIError):
            app = self._apps.get(client_id or "")
            registered = app.redirect_uris if app else []
            return ProviderError(
                "redirect_uri_mismatch",
                f"redirect_uri {params.get('redirect_uri')!r} is not registered for client "
                f"{client_id!r} (exact match required; registered: {registered}).",
                400,
            )
        if isinstance(exc, oe.InvalidRedirectURIError):
            app = self._apps.get(client_id or "")
            return ProviderError(
                "invalid_request",
                f"redirect_uri {params.get('redirect_uri')!r} is not a valid redirect URI (it "
                "must be absolute, without a fragment: RFC 6749 §3.1.2); registered for client "
                f"{client_id!r}: {app.redirect_uris if app else []}.",
                400,
            )
        if isinstance(exc, oe.MissingRedirectURIError):
            return ProviderError(
                "invalid_request",
                f"redirect_uri is required: client {client_id!r} has several registered.",
                400,
            )
        if isinstance(exc, oe.FatalClientError) or not exc.redirect_uri:
            description = exc.description or _describe(exc.error)
            return ProviderError(exc.error, description, exc.status_code)
        # Everything else goes back to the (already validated) redirect_uri, RFC 6749 §4.1.2.1.
        if isinstance(exc, oe.UnsupportedCodeChallengeMethodError):
            method = params.get("code_challenge_method", "plain")
            exc.description = (
                f"code_challenge_method must be S256, got {method!r} (plain is refused): "
                "PKCE with S256 is mandatory."
            )
        elif isinstance(exc, oe.MissingCodeChallengeError):
            exc.description = (
                "code_challenge is required: PKCE with code_challenge_method=S256 is mandatory."
            )
        elif not exc.description:
            exc.description = _describe(exc.error)
        redirect_to = exc.in_uri(exc.redirect_uri)
        return ProviderError(exc.error, exc.description, 302, redirect_to=redirect_to)

    def _check_code_challenge(self, request: Any) -> dict[str, Any]:
        # oauthlib checks presence and method; RFC 7636 §4.2 also fixes the S256 format, and a
        # well-formed (ASCII) challenge keeps the later comparison safe.
        if not _PKCE_CHALLENGE_RE.fullmatch(request.code_challenge):
            raise self._oe.InvalidRequestError(
                description="code_challenge must be BASE64URL(SHA256(code_verifier)) without "
                "padding: exactly 43 characters of [A-Z a-z 0-9 - _].",
                request=request,
            )
        return {}

    def _assign_code(
        self, grant: dict[str, str], token_handler: Any, request: Any
    ) -> dict[str, str]:
        # Codes come from the (seedable) IdFactory rather than oauthlib's generator.
        return {**grant, "code": self._ids.secret("", 32)}

    # ---- token endpoint ----------------------------------------------------------------------

    def token_endpoint(
        self, form: Mapping[str, str], headers: Mapping[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """POST /token. Returns (status, JSON body); client errors never raise."""
        try:
            params = _pick(form, _TOKEN_PARAMS)
        except ProviderError as exc:
            return exc.status, exc.body()
        if "grant_type" not in params:
            return 400, ProviderError("invalid_request", "grant_type is required.").body()
        auth = _authorization_only(headers)
        if "scope" in params:
            app = self._apps.get(_client_id_hint(params, auth) or "")
            _normalize_scope(params, app.scope_separator if app else " ")
        _, body, status = self._token.create_token_response(
            _TOKEN_URI, "POST", body=list(params.items()), headers=auth
        )
        return status, _error_body(body, status)

    def exchange_code(
        self,
        *,
        client_id: str,
        client_secret: str,
        code: str,
        redirect_uri: str,
        code_verifier: str,
    ) -> TokenSet:
        """The authorization_code grant in-process; raises ProviderError."""
        form = {
            "grant_type": "authorization_code",
            "client_id": client_id,
            "client_secret": client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        return self._token_set(*self.token_endpoint(form, {}))

    def refresh(self, *, client_id: str, client_secret: str, refresh_token: str) -> TokenSet:
        """The refresh_token grant in-process; raises ProviderError."""
        form = {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
        }
        return self._token_set(*self.token_endpoint(form, {}))

    def _token_set(self, status: int, body: dict[str, Any]) -> TokenSet:
        if status != 200:
            raise ProviderError(body["error"], body["error_description"], status)
        record = self._access[body["access_token"]]
        return TokenSet(
            access_token=record.token,
            refresh_token=body.get("refresh_token"),
            expires_at=record.expires_at,
            scopes=list(record.scopes),
            token_type=body["token_type"],
            user=record.user,
        )

    def _shape_token(
        self, token: dict[str, Any], token_handler: Any, request: Any
    ) -> dict[str, Any]:
        app: OAuthApp = request.client
        if app.access_token_lifetime is None:
            token.pop("expires_in", None)
        if not app.issue_refresh_tokens:
            token.pop("refresh_token", None)
        token["scope"] = app.scope_separator.join(request.scopes or [])
        return token

    def _new_access_token(self, toolkit: str) -> str:
        key = "google" if toolkit.startswith("google") or toolkit in _GOOGLE_TOOLKITS else toolkit
        prefix, length = _ACCESS_TOKEN_SHAPES.get(key, ("at_", 40))
        return self._ids.secret(prefix, length)

    # ---- revocation, userinfo, introspection -------------------------------------------------

    def revocation_endpoint(
        self, form: Mapping[str, str], headers: Mapping[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """POST /revoke (RFC 7009): 200 {} even for unknown tokens; client auth required."""
        try:
            params = _pick(form, _REVOKE_PARAMS)
        except ProviderError as exc:
            return exc.status, exc.body()
        _, body, status = self._revocation.create_revocation_response(
            _REVOKE_URI, "POST", body=list(params.items()), headers=_authorization_only(headers)
        )
        return status, ({} if status == 200 else _error_body(body, status))

    def userinfo(self, authorization_header: str) -> tuple[int, dict[str, Any]]:
        """GET /userinfo with ``Authorization: Bearer <access token>``."""
        scheme, _, token = (authorization_header or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return 401, _invalid_token("Send the access token as 'Authorization: Bearer <token>'.")
        record = self._access.get(token)
        if record is None:
            return 401, _invalid_token("Unknown access token.")
        if record.revoked_reason is not None:
            return 401, _invalid_token(f"The access token was revoked ({record.revoked_reason}).")
        if record.expired(self._clock.now()):
            return 401, _invalid_token("The access token expired; refresh it.")
        user = record.user
        return 200, {"sub": user.id, "email": user.email, "name": user.name, "login": user.login}

    def token_info(self, access_token: str) -> TokenRecord | None:
        """The record of a valid (unexpired, unrevoked) access token, else None."""
        record = self._access.get(access_token)
        if record is None or record.revoked or record.expired(self._clock.now()):
            return None
        return record

    def revoke_user_grants(
        self, *, client_id: str | None = None, refresh_token: str | None = None
    ) -> int:
        """Test control: "the user revoked our app at the provider".

        Revokes every token family matching both filters (no filter = all of them), plus the
        matching not-yet-exchanged codes; returns how many tokens were newly revoked.
        """
        grant_ids: Iterable[str]
        if refresh_token is not None:
            record = self._refresh.get(refresh_token)
            if record is None or (client_id is not None and record.client_id != client_id):
                return 0
            grant_ids = [record.grant_id]
        else:
            grant_ids = [
                gid
                for gid, grant in self._grants.items()
                if client_id is None or grant.client_id == client_id
            ]
            for code in self._codes.values():
                if client_id is None or code.client_id == client_id:
                    code.revoked = True
        return sum(self._revoke_grant(gid, "revoked by the user") for gid in grant_ids)

    def revoke_token(self, token: str) -> int:
        """Revoke the whole authorization an access or refresh token belongs to (what the
        client-side revoke of Composio does); returns how many tokens were newly revoked."""
        record = self._access.get(token) or self._refresh.get(token)
        return self._revoke_grant(record.grant_id, "revoked by the client") if record else 0

    # ---- storage helpers ---------------------------------------------------------------------

    def _store(self, record: TokenRecord) -> None:
        (self._access if record.kind == "access" else self._refresh)[record.token] = record
        grant = self._grants.setdefault(record.grant_id, _Grant(record.client_id))
        grant.tokens.append(record)

    def _revoke_grant(self, grant_id: str, reason: str) -> int:
        grant = self._grants.get(grant_id)
        count = 0
        for record in grant.tokens if grant else []:
            if record.revoked_reason is None:
                record.revoked_reason = reason
                count += 1
        return count


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _pick(source: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """The whitelisted, non-empty parameters of a query/form; ProviderError if malformed."""
    getall = getattr(source, "getall", None)  # aiohttp's MultiDict keeps repeated keys
    picked: dict[str, str] = {}
    for name in names:
        if getall is not None and len(getall(name, ())) > 1:
            # RFC 6749 §3.1: parameters MUST NOT be included more than once.
            raise ProviderError("invalid_request", f"Parameter {name!r} was sent more than once.")
        value = source.get(name)
        if value is None or value == "":
            continue  # RFC 6749 §3.1: a parameter without a value is treated as omitted
        if not isinstance(value, str):
            raise ProviderError("invalid_request", f"Parameter {name!r} must be a string.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            message = f"Parameter {name!r} is not valid UTF-8."
            raise ProviderError("invalid_request", message) from None
        picked[name] = value
    return picked


def _normalize_scope(params: dict[str, str], separator: str) -> None:
    """Split `scope` on the app's separator and on spaces; oauthlib wants space-separated."""
    raw = params.pop("scope", None)
    if raw is None:
        return
    parts = raw.replace(separator, " ").split(" ")
    scopes = list(dict.fromkeys(p for p in parts if p))  # dedupe, keep request order
    if scopes:
        params["scope"] = " ".join(scopes)


def _authorization_only(headers: Mapping[str, str]) -> dict[str, str]:
    # Only the Authorization header matters to these endpoints; see the _ISSUER comment.
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
            return {"Authorization": value}
    return {}


def _parse_basic(header: str | None) -> tuple[str, str] | None:
    """(client_id, client_secret) from an HTTP Basic header; None if there is none.

    Raises ValueError for a malformed Basic header: that is invalid_client rather than
    "absent", so a client with a broken encoder hears about it.
    """
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    # binascii.Error and UnicodeDecodeError are ValueErrors too.
    decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise ValueError("no ':' between client_id and client_secret")
    # RFC 6749 §2.3.1: both halves are form-urlencoded before base64.
    return unquote_plus(client_id), unquote_plus(secret)


def _client_id_hint(params: Mapping[str, str], auth: Mapping[str, str]) -> str | None:
    try:
        basic = _parse_basic(auth.get("Authorization"))
    except ValueError:  # malformed: authentication will report it; we only want a hint
        basic = None
    return basic[0] if basic else params.get("client_id")


def _describe(error: str) -> str:
    return _DEFAULT_DESCRIPTIONS.get(error, "The request was refused.")


def _error_body(body: str, status: int) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(body)
    if status != 200 and not payload.get("error_description"):
        payload["error_description"] = _describe(str(payload.get("error")))
    return payload


def _invalid_token(description: str) -> dict[str, Any]:
    return {"error": "invalid_token", "error_description": description}
