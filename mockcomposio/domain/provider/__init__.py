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

from .oauth_provider import OAuthProvider
from .protocol import RFC_ERROR_CODES
from .records import (
    EndUser,
    OAuthApp,
    PendingAuthorization,
    ProviderError,
    TokenRecord,
    TokenSet,
)

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
