"""The provider: one tenant's fake OAuth 2.0 authorization server, all toolkits' apps."""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mockcomposio import fakedata

if TYPE_CHECKING:
    import random

    from mockcomposio.clock import VirtualClock
    from mockcomposio.ids import IdFactory

from .protocol import (
    _ACCESS_TOKEN_SHAPES,
    _AUTHORIZE_PARAMS,
    _AUTHORIZE_URI,
    _ERROR_CODE_RE,
    _GOOGLE_TOOLKITS,
    _PKCE_CHALLENGE_RE,
    _REVOKE_PARAMS,
    _REVOKE_URI,
    _TOKEN_PARAMS,
    _TOKEN_URI,
    _authorization_only,
    _client_id_hint,
    _describe,
    _error_body,
    _invalid_token,
    _normalize_scope,
    _pick,
)
from .records import (
    EndUser,
    OAuthApp,
    PendingAuthorization,
    ProviderError,
    TokenRecord,
    TokenSet,
    _CodeRecord,
    _Grant,
    _Pending,
)
from .validator import _oauthlib_classes

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
        self._rng: random.Random | None = None  # fake users' data (mockcomposio.fakedata)
        self._code_lifetime = code_lifetime
        self._authorization_lifetime = authorization_lifetime
        # Everything keyed by the value a request presents, for O(1) lookups.
        self._apps: dict[str, OAuthApp] = {}
        self._pending: dict[str, _Pending] = {}
        self._codes: dict[str, _CodeRecord] = {}
        # Exchanged codes: only what reuse needs (RFC 6749 §4.1.2: revoke that grant), not the
        # whole record (challenge, redirect URI, scopes, user: ~0.5 KB per connection).
        self._spent_codes: dict[str, str] = {}  # code -> grant id
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
        # oauthlib's objects reach the provider through a weak proxy: strong references back
        # would make provider <-> endpoints a cycle, and a dropped tenant would then wait for
        # the cyclic garbage collector instead of being freed at once.
        me = weakref.proxy(self)
        self._oe: Any = errors
        self._validator = validator_cls(me)
        bearer = BearerToken(
            self._validator,
            token_generator=lambda request: me._new_access_token(request.client.toolkit),
            refresh_token_generator=lambda request: me._ids.secret("rt_", 48),
            # 0 stands in for "never expires"; _shape_token then drops expires_in.
            expires_in=lambda request: request.client.access_token_lifetime or 0,
        )
        code_grant = code_grant_cls(
            self._validator, post_auth=[lambda request: me._check_code_challenge(request)])
        code_grant.register_code_modifier(lambda *args: me._assign_code(*args))
        code_grant.register_token_modifier(lambda *args: me._shape_token(*args))
        refresh_grant = RefreshTokenGrant(self._validator, issue_new_refresh_tokens=True)
        refresh_grant.register_token_modifier(lambda *args: me._shape_token(*args))
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
        if self._rng is None:
            self._rng = fakedata.new_random(self._faker_seed)
        with fakedata.drawing_from(self._rng) as fake:
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
            instance=_instance(query.get("instance")),
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
            scopes=record.scopes,  # shared (models.shared_scopes): never changed in place
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
                if client_id is None or (grant and grant[0].client_id == client_id)
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
        self._grants[record.grant_id] = (*self._grants.get(record.grant_id, ()), record)

    def _revoke_grant(self, grant_id: str, reason: str) -> int:
        count = 0
        for record in self._grants.get(grant_id, ()):
            if record.revoked_reason is None:
                record.revoked_reason = reason
                count += 1
        return count


_INSTANCE_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


def _instance(value: str | None) -> str | None:
    """``instance=acme.zendesk.com``: the user's provider host; anything else is ignored."""
    if value and _INSTANCE_RE.fullmatch(value):
        return value.lower()
    return None
