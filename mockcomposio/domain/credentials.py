"""Credential patching (``PATCH /connected_accounts/{id}`` with ``connection.state``) and the
April 2026 redaction rules for what the API shows of stored credentials.

Patching (changelog 2026-04-07; API reference ``patchConnectedAccountsByNanoid``):
- ``state.authScheme`` must be one of the patchable schemes and match the account's own;
- fields left out are kept, a field set to null is removed, the others are replaced;
- only the scheme's credential fields may be written, and the result must still hold every
  required initiation field of the toolkit's scheme;
- everything is checked before anything changes: a refused patch leaves the account as it was.

Redaction (changelog 2026-04-22):
- connections on Composio-managed auth configs always show ``access_token``, ``refresh_token``
  and an ``Authorization`` header as REDACTED, whatever ``mask_secret_keys_in_connected_account``
  says; their other secrets, and every secret of a custom config's connection, follow the flag;
- auth-config responses redact (managed) or mask (custom) every credential field except the
  public OAuth identifiers; the project flag does not apply to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import bad_request
from .catalogue import AuthSchemeSpec

# The schemes whose credentials the API lets you patch (the request's authScheme enum).
PATCHABLE_SCHEMES = ("BEARER_TOKEN", "API_KEY", "BASIC", "BASIC_WITH_JWT",
                     "GOOGLE_SERVICE_ACCOUNT", "SERVICE_ACCOUNT")
# Every auth scheme the API knows (for "unknown scheme" vs "not patchable" messages).
KNOWN_SCHEMES = (*PATCHABLE_SCHEMES, "OAUTH2", "OAUTH1", "S2S_OAUTH2", "DCR_OAUTH",
                 "CIMD_OAUTH", "NO_AUTH", "CALCOM_AUTH", "BILLCOM_AUTH", "SAML")
# The credential fields the request's ``val`` schema names, besides the toolkit's own fields.
STANDARD_FIELDS = frozenset({
    "token", "generic_api_key", "api_key", "bearer_token", "basic_encoded", "generic_token",
    "api_key_prefix", "generic_secret", "generic_id", "user_agent", "username", "password",
    "credentials_json", "application_id", "installation_id", "private_key",
})

REDACTED = "REDACTED"
# Always redacted on connections of Composio-managed configs (compared case-insensitively).
MANAGED_CONNECTION_SECRETS = frozenset({"access_token", "refresh_token", "authorization"})
# Auth-config credential fields that stay readable: the public OAuth identifiers (and the
# config's scope lists, which are not credentials).
PUBLIC_OAUTH_IDENTIFIERS = frozenset({"client_id", "consumer_key", "oauth_redirect_uri",
                                      "redirect_uri", "scopes", "user_scopes"})


def _error(message: str, fix: str) -> Exception:
    return bad_request(message, slug="ConnectedAccount_BadRequest", code=600,
                       suggested_fix=fix)


def plan_patch(account_scheme: str, spec: AuthSchemeSpec, current: Mapping[str, Any],
               state: Any) -> tuple[dict[str, Any], list[str], list[str]]:
    """Validate a ``connection.state`` patch against the account; return the merged ``val``
    and the names set and removed. Raises the API's 400 without touching anything."""
    if not isinstance(state, Mapping):
        raise _error("connection.state must be an object with authScheme and val.",
                     'Send {"connection": {"state": {"authScheme": ..., "val": {...}}}}.')
    scheme = state.get("authScheme")
    if not isinstance(scheme, str) or scheme not in KNOWN_SCHEMES:
        raise _error(f"Unknown auth scheme {scheme!r} in connection.state.authScheme.",
                     "Use the connection's own scheme, one of: "
                     + ", ".join(PATCHABLE_SCHEMES) + ".")
    if account_scheme not in PATCHABLE_SCHEMES:
        raise _error(f"Credentials of {account_scheme} connections can't be patched.",
                     "Reconnect the account with a new link, or import the token on a "
                     "BEARER_TOKEN auth config.")
    if scheme != account_scheme:
        raise _error(f"connection.state.authScheme is {scheme}, but this connection uses "
                     f"{account_scheme}.",
                     f"The authScheme must match the connection's actual scheme "
                     f"({account_scheme}).")
    val = state.get("val")
    if not isinstance(val, Mapping):
        raise _error("connection.state.val must be an object of credential fields.",
                     "Send the fields to change; null removes a field.")
    own = {f["name"] for which in ("required", "optional")
           for f in spec.fields("connected_account_initiation", which)}
    allowed = own | STANDARD_FIELDS
    unknown = sorted(k for k in val if k not in allowed)
    if unknown:
        raise _error(f"Unknown credential field(s) for {account_scheme}: {', '.join(unknown)}.",
                     "Fields of this connection: " + ", ".join(sorted(own or STANDARD_FIELDS))
                     + ".")
    wrong = sorted(k for k, v in val.items() if v is not None and not isinstance(v, str))
    if wrong:
        raise _error(f"Credential field(s) must be strings or null: {', '.join(wrong)}.",
                     "Send each value as a string; null removes the field.")
    merged = {k: v for k, v in current.items() if k != "status"}
    set_names, removed = [], []
    for k, v in val.items():
        if v is None:
            if k in merged:
                removed.append(k)
            merged.pop(k, None)
        else:
            merged[k] = v
            set_names.append(k)
    missing = [name for name in spec.required_field_names("connected_account_initiation")
               if merged.get(name) in (None, "")]
    if missing:
        raise _error("The patch would leave required field(s) empty: " + ", ".join(missing)
                     + ".", "Required fields can be replaced but not removed.")
    return merged, set_names, removed


def redact_connection_val(val: Mapping[str, Any], *, managed: bool, mask_flag: bool,
                          secret_names: frozenset[str] | set[str]) -> dict[str, Any]:
    """What a connected-account response shows of its ``val``."""
    out: dict[str, Any] = {}
    for k, v in val.items():
        if managed and k.lower() in MANAGED_CONNECTION_SECRETS and v not in (None, ""):
            out[k] = REDACTED
        elif mask_flag and k in secret_names:
            out[k] = mask(v)
        else:
            out[k] = v
    headers = out.get("headers")
    if managed and isinstance(headers, Mapping):
        out["headers"] = {h: (REDACTED if h.lower() == "authorization" else hv)
                          for h, hv in headers.items()}
    return out


def redact_auth_config_credentials(credentials: Mapping[str, Any], *, managed: bool,
                                   ) -> dict[str, Any]:
    """Auth-config responses: every credential field but the public identifiers is redacted
    (managed) or masked (custom)."""
    out: dict[str, Any] = {}
    for k, v in credentials.items():
        if k in PUBLIC_OAUTH_IDENTIFIERS or v is None or isinstance(v, bool):
            out[k] = v
        elif managed:
            out[k] = REDACTED
        else:
            out[k] = mask(v)
    return out


def mask(value: Any) -> Any:
    """Composio's masking: the first 4 characters then ``...``; short values become REDACTED."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if not isinstance(value, str):  # a list or object under a secret key: nothing of it shows
        return REDACTED
    return value[:4] + "..." if len(value) > 4 else REDACTED
