"""Completing a pending link in-process, as the end user would, and the per-tenant queue of
scripted outcomes ("the next flow the app starts is allowed / denied / ...").

One place for "the user allowed / denied / granted fewer scopes / the provider failed": the
plugin's scripted consent, the control plane's ``/_mock/consent`` queue and the inspector's
buttons all come here, and it walks the same domain steps as the real pages and provider
endpoints. The queue (:class:`ConsentScript`) lives on the Project, so the pytest plugin and the
standalone server share one mechanism.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from ..errors import ComposioError
from .outcomes import ConsentResult, Outcome

if TYPE_CHECKING:
    from .connected_accounts import Origin
    from .models import Link
    from .project import Project

# Deadline kind of a scripted completion: due at once, so it runs just before the app's next
# API call (the app's request that opened the link has already been answered by then).
AUTO_CONSENT = "mockcomposio.consent"


class ConsentScript:
    """One tenant's scripted end user: a FIFO of outcomes for the next flows the app opens,
    an optional automatic default, and what each completion produced."""

    def __init__(self) -> None:
        self.queue: deque[Outcome] = deque()
        self.mode = "manual"  # or "auto": unscripted flows get ``default``
        self.default = Outcome()
        self.results: list[ConsentResult] = []
        # Origin (scheme://host) used to complete flows in-process: the base URL of whoever
        # scripted the outcomes (the plugin's server, or the control plane's caller).
        self.origin: str | None = None
        self.pending: dict[str, Outcome] = {}  # link token -> outcome, due on the next call
        self.quiet = 0  # > 0 while links are opened by test helpers: those aren't app flows

    def script(self, outcomes: Iterable[Outcome | str]) -> None:
        self.queue.extend(Outcome.parse(o) for o in outcomes)

    def set_mode(self, spec: Outcome | str) -> None:
        if isinstance(spec, str) and spec.strip().lower() == "manual":
            self.mode = "manual"
            return
        self.default = Outcome.parse(spec)
        self.mode = "auto"

    def next_outcome(self) -> Outcome | None:
        """The outcome for a flow that just started: scripted first, then the auto default."""
        try:
            return self.queue.popleft()
        except IndexError:
            return self.default if self.mode == "auto" else None

    def clear(self) -> None:
        self.queue.clear()

    def link_opened(self, project: Project, link: Link) -> None:
        """Called for every link the app opens (engine hook)."""
        if self.quiet:
            return
        outcome = self.next_outcome()
        if outcome is None:
            return
        self.pending[link.token] = outcome
        project.schedule(project.now(), AUTO_CONSENT, link.token)

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "default": self.default.as_kwargs(),
                "queued": [o.as_kwargs() for o in self.queue],
                "pending": len(self.pending),
                "results": [result_json(r) for r in self.results]}


def result_json(r: ConsentResult) -> dict[str, Any]:
    return {"final_url": r.final_url, "status_code": r.status_code, "left_fake": r.left_fake,
            "status": r.status, "connected_account_id": r.connected_account_id,
            "error": r.error, "page_text": r.page_text}


def auto_consent(project: Project, token: str, when: float) -> None:
    """Deadline handler: complete a link the app opened with its scripted outcome."""
    from .connected_accounts import Origin

    script = project.consent
    outcome = script.pending.pop(token, None)
    link_obj = project.links.get(token)
    if outcome is None or link_obj is None or link_obj.done:
        return
    try:
        result = complete_link(project, Origin(script.origin or ""), link_obj, outcome)
    except Exception as exc:  # never break the app's request; the results show it
        result = ConsentResult("", 500, False, [], f"{type(exc).__name__}: {exc}")
    script.results.append(result)


def complete_link(project: Project, origin: Origin, link_obj: Link,
                  outcome: Outcome) -> ConsentResult:
    """Complete one pending link as the end user would (the browser round trip of
    :class:`~mockcomposio.testing.ConsentDriver`), by calling the domain directly.

    Used by the plugin's scripted consent, the control plane's consent queue and the
    inspector's approve/deny buttons. Call it under ``project.lock``."""
    from . import connected_accounts
    from .connected_accounts import FlowError
    from .models import ACTIVE
    from .provider import ProviderError

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
        missing = connected_accounts.missing_connection_fields(spec, account.connection_fields)
        if missing:  # the page's field step (Zendesk subdomain, Shopify shop, ...)
            given = dict(outcome.fields or {})
            connected_accounts.submit_connection_fields(project, link_obj, {
                f["name"]: given.get(f["name"]) or f"fake-{f['name'].replace('_', '-')}"
                for f in missing})
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
