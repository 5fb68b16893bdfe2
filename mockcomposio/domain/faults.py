"""Injected faults, per tenant: "the next N calls of this operation fail like Composio does"
(or are slow), and "the provider's next token refreshes fail".

A request fault answers before the handler runs, so it never changes stored state. Presets
carry Composio's real statuses, slugs and headers (429 + ``Retry-After`` for rate limits).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ComposioError

if TYPE_CHECKING:
    from .provider import OAuthProvider

# The presets that are not answered on a request: they arm the fake OAuth provider instead.
# A failure is permanent (invalid_grant: the account goes EXPIRED at once); a transient one is
# the provider being down for a moment (Composio retries, and gives up after a few attempts).
TOKEN_REFRESH_FAILURE = "token_refresh_failure"
TOKEN_REFRESH_TRANSIENT = "token_refresh_transient"
REFRESH_PRESETS = (TOKEN_REFRESH_FAILURE, TOKEN_REFRESH_TRANSIENT)
ANY_OPERATION = "*"


def _rate_limit(retry_after: int) -> ComposioError:
    return ComposioError(
        429, "Rate_Limit_Exceeded",
        f"Too many requests - rate limit exceeded. Retry after {retry_after} seconds.",
        code=429, headers={"retry-after": str(retry_after)},
        suggested_fix=f"Wait {retry_after} s (the Retry-After header) before retrying; "
        "this error was injected with POST /_mock/faults.")


def _auth_config_not_found(_: int) -> ComposioError:
    return ComposioError(
        404, "Auth_Config_NotFound", "Auth config not found", code=302,
        suggested_fix="Check the auth config id (ac_…); this error was injected with "
        "POST /_mock/faults.")


def _server_error(_: int) -> ComposioError:
    return ComposioError(
        500, "Internal_ServerError", "Internal server error - something went wrong on the "
        "server.", code=5000,
        suggested_fix="Retry later; this error was injected with POST /_mock/faults.")


def _unauthorized(_: int) -> ComposioError:
    return ComposioError(
        401, "Auth_InvalidApiKey", "Invalid API key provided.", code=907,
        suggested_fix="Check the x-api-key header; this error was injected with "
        "POST /_mock/faults.")


REQUEST_PRESETS: dict[str, Callable[[int], ComposioError]] = {
    "rate_limit": _rate_limit,
    "auth_config_not_found": _auth_config_not_found,
    "server_error": _server_error,
    "invalid_api_key": _unauthorized,
}
PRESETS = (*REQUEST_PRESETS, *REFRESH_PRESETS)


@dataclass
class Fault:
    id: int
    # a route operation; "*": any API operation (not the pages and the provider's endpoints);
    # "provider.refresh" for token_refresh_failure
    operation: str
    preset: str | None
    latency_ms: int
    times: int | None  # remaining; None = until cleared
    retry_after: int = 30
    fired: int = 0

    @property
    def name(self) -> str:
        parts = [self.preset] if self.preset else []
        if self.latency_ms:
            parts.append(f"latency_ms={self.latency_ms}")
        return f"{'+'.join(parts)}@{self.operation}#{self.id}"

    def error(self) -> ComposioError | None:
        factory = REQUEST_PRESETS.get(self.preset or "")
        return factory(self.retry_after) if factory else None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "operation": self.operation,
                "preset": self.preset, "latency_ms": self.latency_ms,
                "times": self.times, "retry_after": self.retry_after, "fired": self.fired}


class FaultSet:
    """One tenant's armed faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, operation: str, *, preset: str | None = None, latency_ms: int = 0,
            times: int | None = 1, retry_after: int = 30) -> Fault:
        if preset is not None and preset not in PRESETS:
            raise ValueError(f"unknown fault preset {preset!r}; use one of {', '.join(PRESETS)}")
        if preset is None and not latency_ms:
            raise ValueError("a fault needs a preset, a latency_ms, or both")
        with self._lock:
            fault = Fault(self._next_id, operation, preset, latency_ms, times, retry_after)
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> int:
        with self._lock:
            n = len(self._faults)
            self._faults.clear()
            return n

    def __bool__(self) -> bool:
        return bool(self._faults)

    def take(self, operation: str) -> Fault | None:
        """The first armed request fault for ``operation`` (consuming one of its uses)."""
        if not self._faults:  # the common case: no lock, no scan
            return None
        with self._lock:
            for fault in self._faults:
                if fault.preset in REFRESH_PRESETS:
                    continue
                if fault.operation == operation or (
                        fault.operation == ANY_OPERATION
                        and not operation.startswith(("flow.", "provider."))):
                    self._consume(fault)
                    return fault
        return None

    def take_refresh_failure(self) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.preset in REFRESH_PRESETS:
                    self._consume(fault)
                    return fault
        return None

    def _consume(self, fault: Fault) -> None:
        fault.fired += 1
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)


def gate_refreshes(provider: OAuthProvider, faults: Callable[[], FaultSet]) -> None:
    """Make the provider refuse refresh_token grants while a token_refresh_failure fault is
    armed (``invalid_grant``: Composio then marks the account EXPIRED, as for a user who
    revoked the app). Wraps the one method every refresh goes through, HTTP or in-process;
    ``faults()`` is read per grant, so it follows whichever FaultSet the tenant holds."""
    # The class's function and a weak proxy, not the bound method: the wrapper is stored on
    # the provider, and a strong reference back would make it a reference cycle.
    original = type(provider).token_endpoint
    me = weakref.proxy(provider)

    def token_endpoint(form: Mapping[str, str],
                       headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") == "refresh_token":
            fault = faults().take_refresh_failure()
            if fault is not None and fault.preset == TOKEN_REFRESH_TRANSIENT:
                return 503, {"error": "temporarily_unavailable",
                             "error_description": "The provider is briefly unavailable "
                             f"(fault {fault.name} injected with POST /_mock/faults)."}
            if fault is not None:
                return 400, {"error": "invalid_grant",
                             "error_description": "The refresh token was rejected "
                             f"(fault {fault.name} injected with POST /_mock/faults)."}
        return original(me, form, headers)

    provider.token_endpoint = token_endpoint  # type: ignore[method-assign]
