"""What the fake's toolkit catalogue means for a test, read from the same fixture data the
server serves (``fixtures/toolkits.json``): which toolkits exist, how they authenticate,
whether Composio manages their OAuth app, and whose access tokens expire (and so refresh on
the virtual clock). The docs' toolkit table is generated from :func:`toolkits`."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..domain.catalogue import Catalogue


@dataclass(frozen=True)
class ToolkitInfo:
    """One toolkit of the catalogue, as far as a test cares."""

    slug: str
    name: str
    auth_schemes: tuple[str, ...]  # e.g. ("OAUTH2",), ("API_KEY",); empty for no-auth toolkits
    managed: bool  # Composio-managed auth available (add_auth_config picks it by default)
    default_scopes: tuple[str, ...]  # of the default scheme; () when not OAuth
    token_lifetime: int | None  # seconds an access token lives; None: tokens never expire
    refreshes: bool  # the provider issues refresh tokens (an expiring token is refreshed)

    @property
    def expires(self) -> bool:
        return self.token_lifetime is not None


@functools.cache
def toolkits() -> tuple[ToolkitInfo, ...]:
    """Every toolkit of the catalogue, in catalogue order."""
    out = []
    for t in Catalogue.load():
        spec = t.default_scheme or next((s for s in t.schemes if s.is_oauth), None) or (
            t.schemes[0] if t.schemes else None)
        oauth = spec is not None and spec.is_oauth
        out.append(ToolkitInfo(
            slug=t.slug, name=t.name, auth_schemes=tuple(s.mode for s in t.schemes),
            managed=bool(t.managed_schemes),
            default_scopes=spec.default_scopes if spec is not None and oauth else (),
            token_lifetime=spec.access_token_lifetime if spec is not None and oauth else None,
            refreshes=bool(oauth and spec is not None and spec.supports_refresh_token)))
    return tuple(out)


def expiring_toolkits() -> dict[str, int]:
    """``{slug: access-token lifetime in seconds}`` for the toolkits whose tokens expire. Use
    one of these to test token refresh: on the others (GitHub, Notion, Slack, ...)
    ``composio_clock.advance(...)`` never expires a token."""
    return {t.slug: t.token_lifetime for t in toolkits() if t.token_lifetime is not None}
