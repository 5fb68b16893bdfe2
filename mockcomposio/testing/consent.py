"""Test helpers usable with or without pytest: a headless consent driver that completes a
``redirect_url`` the way an end user's browser would.

It speaks plain HTTP to the fake (stdlib only), follows redirects while they stay on the fake's
own origin, and stops at the first redirect that leaves it: that is the app's ``callback_url``
with ``status`` and ``connected_account_id`` appended. It never contacts another host.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

from ..domain.outcomes import ConsentResult, Outcome

__all__ = ["ConsentDriver", "ConsentError", "ConsentResult", "Outcome"]

if TYPE_CHECKING:
    from ..domain.consent import ConsentScript


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))


@dataclass
class _Form:
    action: str | None = None
    method: str = "get"
    inputs: list[dict[str, str]] = field(default_factory=list)
    buttons: list[dict[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(_Form(a.get("action") or None, a.get("method", "get").lower()))
        elif self.forms and tag == "input":
            self.forms[-1].inputs.append(a)
        elif self.forms and tag == "button":
            self.forms[-1].buttons.append(a)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


class HasRedirectUrl(Protocol):
    """Anything with a ``redirect_url``: the SDK's connection request, a session's
    ``authorize`` result."""

    @property
    def redirect_url(self) -> str | None: ...


def _url_of(redirect: str | HasRedirectUrl) -> str:
    if isinstance(redirect, str):
        return redirect
    url = getattr(redirect, "redirect_url", None)
    if not isinstance(url, str) or not url:
        raise TypeError(f"expected a redirect URL or an object with a redirect_url, got "
                        f"{redirect!r}")
    return url


class ConsentError(AssertionError):
    """The flow could not be driven (an error page, or no form where one was expected)."""


class ConsentDriver:
    """Completes consent flows headlessly, and scripts what the user does in flows the app
    starts itself.

    - ``complete(redirect_url, ...)``: drive one flow now over HTTP, as a browser would.
    - ``script("allow", "deny", Outcome.allow(scopes=["repo"]))``: the next flows the app opens
      (Connect Link, initiate, re-authorization) are completed with these outcomes, in order,
      just before the app's next API call (e.g. ``wait_for_connection``'s first poll).
    - ``mode = "auto"`` with ``default``: every flow the app opens is completed with the next
      scripted outcome, else ``default``. ``mode = "manual"`` (the default) leaves unscripted
      flows alone.
    - ``results``: what each scripted/automatic completion produced, in order.
    """

    def __init__(self, base_url: str, *, max_steps: int = 20,
                 script_source: Callable[[], ConsentScript] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_steps = max_steps
        self._origin = self._origin_of(self.base_url)
        # The scripted outcomes live in the tenant's Project (shared with the standalone
        # server's /_mock/consent); a driver without a tenant keeps its own.
        self._script_source = script_source
        self._own: ConsentScript | None = None

    @property
    def _script(self) -> ConsentScript:
        if self._script_source is not None:
            return self._script_source()
        if self._own is None:
            from ..domain.consent import ConsentScript

            self._own = ConsentScript()
        return self._own

    # -- scripted outcomes -------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self._script.mode

    @mode.setter
    def mode(self, value: str) -> None:
        self._script.mode = value

    @property
    def default(self) -> Outcome:
        return self._script.default

    @default.setter
    def default(self, value: Outcome | str) -> None:
        self._script.default = Outcome.parse(value)

    @property
    def results(self) -> list[ConsentResult]:
        """What each scripted/automatic completion produced, in order."""
        return self._script.results

    def script(self, *outcomes: Outcome | str) -> ConsentDriver:
        """Queue what the user will do in the next flows the app starts (FIFO)."""
        self._script.script(outcomes)
        return self

    def set_mode(self, spec: Outcome | str) -> None:
        """``"manual"``, or an outcome (``"allow"``, ``"deny"``, ...) applied automatically."""
        self._script.set_mode(spec)

    @property
    def scripted(self) -> list[Outcome]:
        """Outcomes still waiting for a flow."""
        return list(self._script.queue)

    def clear(self) -> None:
        self._script.clear()

    def next_outcome(self) -> Outcome | None:
        """The outcome for a flow that just started: scripted first, then the auto default."""
        return self._script.next_outcome()

    async def acomplete(self, redirect_url: str | HasRedirectUrl, **kwargs: Any,
                        ) -> ConsentResult:
        """:meth:`complete` for async tests: runs in a worker thread, the loop keeps going."""
        return await asyncio.to_thread(self.complete, redirect_url, **kwargs)

    @staticmethod
    def _origin_of(url: str) -> tuple[str, str]:
        parts = urlsplit(url)
        return parts.scheme, parts.netloc

    def _request(self, url: str, data: dict[str, Any] | None = None) -> tuple[int, str, str]:
        body = urlencode(data, doseq=True).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
        try:
            with _OPENER.open(req, timeout=30) as resp:
                return resp.status, resp.headers.get("Location", ""), resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.headers.get("Location", ""), err.read().decode()

    def complete(self, redirect_url: str | HasRedirectUrl, *, decision: str = "allow",
                 scopes: list[str] | None = None, provider_error: str | None = None,
                 fields: dict[str, str] | None = None,
                 outcome: Outcome | str | None = None) -> ConsentResult:
        """Walk a Connect Link (or initiate) URL to its end, as the user's browser would:
        the Connect Link page, the provider's consent page, Composio's callback, up to the
        first redirect that leaves the fake (your ``callback_url``).

        Args:
            redirect_url: the URL, or the object that carries it (the SDK's connection
                request: ``complete(request)`` is ``complete(request.redirect_url)``).
            decision: ``"allow"`` or ``"deny"`` at the provider's consent page.
            scopes: grant only these (default: every requested scope).
            provider_error: make the provider answer with this OAuth error code instead.
            fields: values for a non-OAuth Connect Link form (e.g.
                ``{"generic_api_key": "k"}``).
            outcome: all of the above as one :class:`Outcome` (or its string form); wins if
                given.

        Returns:
            Where the browser ended up: ``.final_url``, ``.status``,
            ``.connected_account_id``, ``.error``, ``.page_text``, …

        Raises:
            ConsentError: the flow did not end within ``max_steps`` pages.
        """
        if outcome is not None:
            o = Outcome.parse(outcome).as_kwargs()
            decision, scopes = o["decision"], o["scopes"]
            provider_error, fields = o["provider_error"], o["fields"]
        url = _url_of(redirect_url)
        data: dict[str, Any] | None = None
        visited: list[str] = []
        for _ in range(self.max_steps):
            if self._origin_of(url) != self._origin:
                return ConsentResult(url, 302, True, visited)
            visited.append(url)
            status, location, text = self._request(url, data)
            data = None
            if status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            parser = _FormParser()
            parser.feed(text)
            page_text = " ".join(" ".join(parser.text).split())
            if status >= 400 or not parser.forms:
                return ConsentResult(url, status, False, visited, page_text)
            form = parser.forms[0]
            names = {i.get("name") for i in form.inputs}
            submitted: dict[str, Any] = {}
            if "pending" in names:  # the provider's consent page
                for i in form.inputs:
                    if i.get("type") == "hidden" and i.get("name"):
                        submitted[i["name"]] = i.get("value", "")
                requested = [i.get("value", "") for i in form.inputs if i.get("name") == "scope"]
                submitted["scope"] = requested if scopes is None else \
                    [s for s in scopes if s in requested] if decision == "allow" else []
                if scopes is not None and set(scopes) - set(requested):
                    # Asking to grant what was not requested: send it, the provider decides.
                    submitted["scope"] = list(scopes)
                submitted["decision"] = decision
                if provider_error:
                    submitted["error"] = provider_error
            else:  # the Connect Link page: continue, or a credentials form
                for i in form.inputs:
                    name = i.get("name")
                    if name:
                        submitted[name] = (fields or {}).get(name, i.get("value", ""))
                for b in form.buttons:
                    if b.get("name"):
                        submitted[b["name"]] = b.get("value", "")
                        break
            url = urljoin(url, form.action or url)
            data = submitted
        raise ConsentError(f"gave up after {self.max_steps} steps: {visited}")
