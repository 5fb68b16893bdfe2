"""Who may do what across tenants, and which ``Host`` names the server answers (issue 19).

Cross-tenant operations (exporting or resetting every tenant, importing a snapshot that
names other API keys, the inspector listing every tenant) need an explicit opt-in: the
server started with ``--all-tenants``, or a request carrying the server's admin key in
``x-mock-admin-key``. Without it every request sees only the tenant of its own API key.

The Host check is the usual defence of local dev servers against DNS rebinding: a web page
on another site can make the browser send requests to a loopback port, but only under the
page's own host name. IP literals, ``localhost`` and ``*.localhost`` are always accepted
(a rebinding attack needs a name); other names only when configured (``--allowed-host``).
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
from dataclasses import dataclass, field

from aiohttp import web

ADMIN_HEADER = "x-mock-admin-key"
ANY_HOST = "*"
MAX_REMEMBERED_HOSTS = 1024


@dataclass(frozen=True)
class Policy:
    all_tenants: bool = False
    admin_key: str | None = None
    # Host names (lowercase, no port) accepted besides IP literals and localhost; a name
    # starting with "." accepts its subdomains too; "*" turns the check off.
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    def cross_tenant(self, request: web.Request) -> bool:
        """Whether this request may read or change tenants other than its own."""
        if self.all_tenants:
            return True
        if not self.admin_key:
            return False
        given = request.headers.get(ADMIN_HEADER, "")
        # surrogateescape: a header of invalid UTF-8 arrives as lone surrogates (no match)
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                                   self.admin_key.encode("utf-8", "surrogateescape"))

    # Host header -> verdict: asked on every request, answered from here after the first.
    _verdicts: dict[str | None, bool] = field(default_factory=dict, init=False, compare=False,
                                              repr=False)

    def host_allowed(self, host: str | None) -> bool:
        verdict = self._verdicts.get(host)
        if verdict is None:
            verdict = self._host_allowed(host)
            if len(self._verdicts) < MAX_REMEMBERED_HOSTS:  # bounded against hostile Hosts
                self._verdicts[host] = verdict
        return verdict

    def _host_allowed(self, host: str | None) -> bool:
        if ANY_HOST in self.allowed_hosts:
            return True
        name = hostname(host or "")
        if not name:
            return False
        if _always_allowed(name):
            return True
        if name in self.allowed_hosts:
            return True
        return any(allowed.startswith(".") and (name.endswith(allowed) or name == allowed[1:])
                   for allowed in self.allowed_hosts)


@functools.lru_cache(maxsize=1024)  # asked on every request; bounded against hostile Hosts
def _always_allowed(name: str) -> bool:
    """localhost, its subdomains and IP literals (a rebinding attack needs a host name)."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def hostname(host: str) -> str:
    """The name part of a Host header (``[::1]:8000`` -> ``::1``), lowercased."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[1:end] if end > 0 else ""
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def normalise_hosts(names: list[str] | None) -> frozenset[str]:
    return frozenset(hostname(n) if n != ANY_HOST else ANY_HOST for n in names or [] if n)
