"""Completing a pending link in-process, as the end user would.

One place for "the user allowed / denied / granted fewer scopes / the provider failed": the
plugin's scripted consent, the control plane's consent queue and the inspector's buttons all
come here, and it walks the same domain steps as the real pages and provider endpoints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from ..errors import ComposioError
from ..testing import ConsentResult, Outcome
from . import connected_accounts
from .connected_accounts import FlowError, Origin
from .models import ACTIVE, Link
from .provider import ProviderError

if TYPE_CHECKING:
    from .project import Project


def complete_link(project: Project, origin: Origin, link_obj: Link,
              outcome: Outcome) -> ConsentResult:
    """Complete one pending link as the end user would (the browser round trip of
    :class:`~mockcomposio.testing.ConsentDriver`), by calling the domain directly.

    Used by the plugin's scripted consent, the control plane's consent queue and the
    inspector's approve/deny buttons. Call it under ``project.lock``."""
    link_url = origin.url(f"/link/{link_obj.token}")
    visited = [link_url]
    try:
        account, _, _, spec = connected_accounts.describe_link(project, link_obj)
        if not spec.is_oauth:
            if outcome.decision != "allow":
                return ConsentResult(link_url, 200, False, visited, "abandoned by the user")
            values = dict(outcome.fields or {})
            for f in spec.required_field_names("connected_account_initiation"):
                values.setdefault(f, f"fake-{f.replace('_', '-')}")
            location = connected_accounts.submit_credentials(project, link_obj, values)
            return _finished(location, link_url, visited, True)
        authorize = connected_accounts.begin_oauth(project, origin, link_obj)
        visited.append(authorize)
        try:
            pending = project.provider.start_authorization(
                dict(parse_qsl(urlsplit(authorize).query)))
            back = project.provider.decide(
                pending.id, allow=outcome.decision == "allow",
                granted_scopes=None if outcome.scopes is None or outcome.decision != "allow"
                else list(outcome.scopes),
                error=outcome.provider_error)
        except ProviderError as err:
            if not err.redirect_to:
                return ConsentResult(authorize, err.status, False, visited,
                                     f"{err.error}: {err.description}")
            back = err.redirect_to
        visited.append(back)
        location = connected_accounts.complete_callback(
            project, link_obj, dict(parse_qsl(urlsplit(back).query)))
        return _finished(location, back, visited, account.status == ACTIVE)
    except FlowError as err:
        return ConsentResult(visited[-1], err.status, False, visited,
                             f"{err.title}: {err.message}")
    except ComposioError as err:
        return ConsentResult(visited[-1], err.status, False, visited, err.message)

def _finished(location: str | None, last: str, visited: list[str],
              ok: bool) -> ConsentResult:
    if location:
        return ConsentResult(location, 302, True, visited)
    return ConsentResult(last, 200 if ok else 400, False, visited,
                         "Connected" if ok else "Connection failed")
