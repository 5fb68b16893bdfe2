"""The network guard: while tests run, nothing reaches Composio's real hosts.

How it works. ``socket.getaddrinfo`` is wrapped process-wide (every thread, every client:
httpx, requests, urllib, aiohttp, asyncio's resolver all resolve through it). A lookup of
``composio.dev``, ``*.composio.dev``, ``composio.io`` or ``*.composio.io`` is refused with
:class:`ComposioNetworkBlocked` (an ``OSError``, so HTTP clients surface it as an ordinary
connection error) *before* any packet leaves the machine. Loopback and every other host are
untouched, so the fake itself and the rest of your test traffic work as before.

Two kinds of attempts are told apart:

- ``telemetry.composio.dev``: the official SDK posts telemetry from a worker thread that does
  not see ``allow_tracking=False`` (a ``ContextVar`` set in the constructor's context). The
  SDK swallows the error; the guard counts these and reports them in the terminal summary.
- any other Composio host (typically ``backend.composio.dev``: a ``Composio()`` built without
  ``base_url``, or code ignoring ``COMPOSIO_BASE_URL``): the call fails where it is made, and the
  test fails too, even if app code swallowed the error, with the message below.

If a proxy is configured (``HTTPS_PROXY``...), a client would hand the hostname to the proxy
without resolving it, so the guard also adds ``.composio.dev`` / ``.composio.io`` to
``NO_PROXY`` for the session: the lookup then happens locally and is refused.

The wrapper is installed when pytest configures the plugin and stays installed until the
process exits (the SDK flushes queued telemetry from an ``atexit`` handler, after pytest has
finished); outside a session it only blocks telemetry.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BLOCKED_DOMAINS = ("composio.dev", "composio.io")
TELEMETRY_HOSTS = frozenset({"telemetry.composio.dev"})


class ComposioNetworkBlocked(ConnectionRefusedError):
    """A connection to one of Composio's real hosts was refused by the test network guard."""


def is_composio_host(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    h = host.rstrip(".").lower()
    return any(h == d or h.endswith("." + d) for d in BLOCKED_DOMAINS)


@dataclass
class Attempt:
    host: str
    port: Any
    thread: str
    test: str | None

    @property
    def telemetry(self) -> bool:
        return self.host.rstrip(".").lower() in TELEMETRY_HOSTS


@dataclass
class _Frame:
    test: str
    enforce: bool
    attempts: list[Attempt] = field(default_factory=list)


@dataclass
class _State:
    sessions: int = 0          # pytest sessions (nested under pytester) with the guard on
    tests: list[_Frame] = field(default_factory=list)  # running tests (nested under pytester)
    telemetry_blocked: int = 0

    @property
    def test(self) -> str | None:
        return self.tests[-1].test if self.tests else None

    @property
    def enforce(self) -> bool:
        if self.sessions == 0:
            return False
        return self.tests[-1].enforce if self.tests else True


_state = _State()
_lock = threading.Lock()
_original: Callable[..., Any] | None = None


def _message(target: str, test: str | None) -> str:
    where = f" during {test}" if test else ""
    return (
        f"mockcomposio network guard: refused to connect to {target}{where}. Tests must "
        "talk to the fake, not to Composio: use the composio_client fixture, or build "
        "Composio(base_url=mock_composio.base_url, api_key=mock_composio.api_key, "
        "allow_tracking=False), or request composio_env so COMPOSIO_BASE_URL is set. To allow "
        "the real network for one test: @pytest.mark.mock_composio(network=True); for the run: "
        "--mock-composio-allow-network."
    )


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    assert _original is not None
    if is_composio_host(host):
        name = host.decode() if isinstance(host, bytes) else str(host)
        attempt = Attempt(name, port, threading.current_thread().name, _state.test)
        if attempt.telemetry and (_state.enforce or _state.sessions == 0):
            with _lock:
                _state.telemetry_blocked += 1
            raise ComposioNetworkBlocked(_message(f"{name}:{port}", _state.test))
        if _state.enforce:
            with _lock:
                if _state.tests:
                    _state.tests[-1].attempts.append(attempt)
            raise ComposioNetworkBlocked(_message(f"{name}:{port}", _state.test))
    return _original(host, port, *args, **kwargs)


def install() -> None:
    """Wrap ``socket.getaddrinfo`` (idempotent; never removed, see the module doc)."""
    global _original
    with _lock:
        if _original is None:
            _original = socket.getaddrinfo
            socket.getaddrinfo = _guarded_getaddrinfo
        _state.sessions += 1
    _bypass_proxies()


def release() -> None:
    """A pytest session ended. With no session left only telemetry stays blocked."""
    with _lock:
        _state.sessions = max(0, _state.sessions - 1)


def active() -> bool:
    return _original is not None and socket.getaddrinfo is _guarded_getaddrinfo


def begin_test(nodeid: str, enforce: bool) -> None:
    with _lock:
        _state.tests.append(_Frame(nodeid, enforce))


def take_attempts() -> list[Attempt]:
    """The running test's blocked non-telemetry attempts so far (and forget them)."""
    with _lock:
        if not _state.tests:
            return []
        frame = _state.tests[-1]
        attempts, frame.attempts = frame.attempts, []
        return attempts


def end_test() -> None:
    with _lock:
        if _state.tests:
            _state.tests.pop()


def telemetry_blocked() -> int:
    return _state.telemetry_blocked


def failure_message(attempts: list[Attempt]) -> str:
    hosts = sorted({f"{a.host}:{a.port}" for a in attempts})
    threads = sorted({a.thread for a in attempts})
    return (_message(", ".join(hosts), attempts[0].test)
            + f" ({len(attempts)} attempt(s) from thread(s): {', '.join(threads)})")


def _bypass_proxies() -> None:
    if not any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
                                           "http_proxy", "ALL_PROXY", "all_proxy")):
        return
    for var in ("NO_PROXY", "no_proxy"):
        current = [p.strip() for p in os.environ.get(var, "").split(",") if p.strip()]
        for domain in BLOCKED_DOMAINS:
            if f".{domain}" not in current:
                current.append(f".{domain}")
        os.environ[var] = ",".join(current)
