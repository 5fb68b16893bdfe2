"""oauthlib glue: the in-memory RequestValidator and the S256-only code grant."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from ..models import shared_scopes
from .protocol import _PKCE_VERIFIER_RE, _parse_basic
from .records import OAuthApp, TokenRecord, _CodeRecord

if TYPE_CHECKING:
    from .oauth_provider import OAuthProvider


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

    def create_authorization_code(self, request: Any) -> dict[str, str]:
        # The code itself comes from the provider's seedable id factory (its code modifier):
        # oauthlib's generate_token() here cost 30 urandom calls, only to be replaced.
        grant = {"code": ""}
        if getattr(request, "state", None):
            grant["state"] = request.state
        return grant

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
            scopes=shared_scopes(request.scopes or []),
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
        spent = p._spent_codes.get(code) if record is None else (
            record.grant_id if record.used else None)
        if spent is not None:
            # RFC 6749 §4.1.2: deny, and revoke what the first exchange issued.
            p._revoke_grant(spent, "authorization code reused")
            raise oe.InvalidGrantError(
                description="Authorization code was already used; the tokens issued from it "
                "have been revoked. Codes are single-use: start a new authorization."
            )
        if record is None:
            raise oe.InvalidGrantError(description="Unknown authorization code.")
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
        # The request keeps the record for the rest of this exchange; the provider keeps
        # only the code's grant id, for reuse detection.
        record = self.p._codes.pop(code)
        self.p._spent_codes[code] = record.grant_id

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
                scopes=shared_scopes(request.scopes or []),
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
                    scopes=shared_scopes(refresh_scopes),
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
