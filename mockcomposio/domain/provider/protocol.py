"""OAuth 2.0 protocol constants and helpers shared by the validator and the provider:
which parameters reach oauthlib, RFC error codes and texts, token shapes."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from .records import ProviderError

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
