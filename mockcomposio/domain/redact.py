"""Redaction of secrets in what the fake records or shows: the journal, the request log,
state exports. One small function, so every place hides the same keys the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .catalogue import SECRET_FIELD_NAMES

REDACTED = "REDACTED"

# Compared case-insensitively, with "-" read as "_" (so x-api-key and X_API_KEY both match).
# Also every field the catalogue calls secret (proxy_auth_key, private_key, ...), so the
# journal, log and exports hide what the API itself masks.
SECRET_KEYS = frozenset({
    "api_key", "x_api_key", "apikey", "client_secret", "access_token", "refresh_token",
    "id_token", "password", "token", "code_verifier", "generic_api_key", "bearer_token",
    "secret", "authorization", "cookie",
    # A deferred callback's single-use session_uri completes a connection, like a code.
    "session_uri",
}) | SECRET_FIELD_NAMES
# In query strings and forms an authorization code is a secret too; in JSON bodies "code" is
# also the error envelope's numeric code, so it is only redacted there when it is a string.
QUERY_SECRET_KEYS = SECRET_KEYS | {"code"}


def _norm(key: str) -> str:
    return key.strip().lower().replace("-", "_")


def is_secret_key(key: str, keys: Iterable[str] = SECRET_KEYS) -> bool:
    return _norm(key) in keys


def redact(value: Any, keys: frozenset[str] = SECRET_KEYS, *,
           max_items: int | None = None) -> Any:
    """A deep copy of ``value`` (JSON-like) with the value of every secret key replaced by
    ``"REDACTED"``. Nulls and empty strings stay as they are (nothing to hide). With
    ``max_items``, longer lists keep their first items plus a ``"… N more"`` marker."""
    kinds: dict[str, int] = {}  # per call (the same keys repeat in every list item):
    # 2 = always secret, 1 = secret when a string ("code"), 0 = not secret

    def kind(key: str) -> int:
        hit = kinds.get(key)
        if hit is None:
            name = _norm(key)
            hit = kinds[key] = 2 if name in keys else 1 if name == "code" else 0
        return hit

    def walk(v: Any) -> Any:
        t = type(v)
        if t is dict:
            out = {}
            for k, item in v.items():
                level = kind(k) if isinstance(k, str) else 0
                if level and item is not None and item != "" and (
                        level == 2 or isinstance(item, str)):
                    out[k] = REDACTED
                elif type(item) in (dict, list, tuple):
                    out[k] = walk(item)
                else:
                    out[k] = item
            return out
        if t is list or t is tuple:
            items = v if max_items is None or len(v) <= max_items else v[:max_items]
            copied = [walk(i) if type(i) in (dict, list, tuple) else i for i in items]
            if len(items) < len(v):
                copied.append(f"… {len(v) - len(items)} more")
            return copied
        return v

    return walk(value)


def redact_query(query: str) -> str:
    """A query string with secret parameters (including ``code``) replaced by REDACTED."""
    if not query:
        return query
    if len(query) <= MAX_REMEMBERED_QUERY:
        return _redact_remembered(query)
    return _redact_query(query)


# Every request's query is redacted for the journal, and most are repeats (a polled list);
# parsing one costs a few µs. Short ones are remembered, within a bound (about 1 MB).
MAX_REMEMBERED_QUERY = 256


@functools.lru_cache(maxsize=4096)
def _redact_remembered(query: str) -> str:
    return _redact_query(query)


def _redact_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(_norm(k) in QUERY_SECRET_KEYS for k, _ in pairs):
        return query
    return urlencode([(k, REDACTED if _norm(k) in QUERY_SECRET_KEYS and v else v)
                      for k, v in pairs])


def redact_form(form: dict[str, list[str]]) -> dict[str, Any]:
    """A parsed form (``{name: [values]}``) with secret fields redacted, single values
    unwrapped for readability."""
    out: dict[str, Any] = {}
    for k, values in form.items():
        shown: list[str] = [REDACTED if _norm(k) in QUERY_SECRET_KEYS and v else v
                            for v in values]
        out[k] = shown[0] if len(shown) == 1 else shown
    return out
