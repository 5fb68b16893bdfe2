"""``composio_webhooks``: a test's handle on its tenant's webhook subscription, the deliveries
sent so far, and an in-process receiver (a route of the fake itself), so a test needs no
server of its own.

Deliveries are sent by the fake's server thread; the ``wait_for`` helpers poll the tenant's
delivery log (a real HTTP round trip takes milliseconds). Retries fall due on the tenant's
virtual clock: :meth:`TenantWebhooks.run_retry` moves the clock to the next one.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..domain import webhooks
from ..domain.webhooks import CONNECTION_EXPIRED, Delivery, Received, Subscription

if TYPE_CHECKING:
    from .tenant import Tenant

POLL_SECONDS = 0.01


class WebhookTimeout(AssertionError):
    """What a test waited for did not happen in time (the message says what was seen)."""


class TenantWebhooks:
    def __init__(self, tenant: Tenant) -> None:
        self._tenant = tenant

    # -- the subscription ---------------------------------------------------------------------
    @property
    def receiver_url(self) -> str:
        """The in-process receiver of this tenant (records requests, answers 200 or as
        scripted with :meth:`respond_with`)."""
        return f"{self._tenant.base_url}/_mock/webhooks/receiver/{self._tenant.project.id}"

    def subscribe(self, url: str | None = None,
                  events: Iterable[str] = (CONNECTION_EXPIRED,),
                  version: str = "V3") -> Subscription:
        """Create (or update) the project's one subscription; default target: the in-process
        receiver. The same rules as the API apply (loopback targets, known events)."""
        project = self._tenant.project
        body = {"webhook_url": url or self.receiver_url, "enabled_events": list(events),
                "version": version}
        with project.lock:
            existing = webhooks.list_subscriptions(project)
            if existing:
                return webhooks.update(project, existing[0].id, body)
            return webhooks.create(project, **body)

    @property
    def subscription(self) -> Subscription | None:
        subs = webhooks.list_subscriptions(self._tenant.project)
        return subs[0] if subs else None

    @property
    def secret(self) -> str:
        """The signing secret of the tenant's subscription (what the app verifies with)."""
        sub = self.subscription
        if sub is None:
            raise LookupError("this tenant has no webhook subscription yet: create one with "
                              "composio.webhooks.subscriptions.set(...) or "
                              "composio_webhooks.subscribe()")
        return sub.secret

    # -- what was sent and received ----------------------------------------------------------
    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery of the tenant so far, oldest first (each with its ``attempts``)."""
        return list(self._tenant.project.webhooks.deliveries.values())

    @property
    def received(self) -> list[Received]:
        """What the in-process receiver got (headers, raw body), oldest first."""
        return list(self._tenant.project.webhooks.received)

    def events(self) -> list[dict[str, Any]]:
        """The payloads the in-process receiver accepted (2xx), parsed."""
        return [json.loads(r.body) for r in self.received if 200 <= r.status < 300]

    def respond_with(self, *statuses: int) -> None:
        """The in-process receiver answers these statuses to the next requests, then 200."""
        self._tenant.project.webhooks.receiver_script = [int(s) for s in statuses]

    # -- waiting -----------------------------------------------------------------------------
    def _attempts(self) -> int:
        # an attempt under way has neither a status nor an error yet
        return sum(1 for d in self.deliveries for a in d.attempts
                   if a.status is not None or a.error is not None)

    def _condition(self, deliveries: int | None, attempts: int | None,
                   delivered: int | None) -> Callable[[], bool]:
        def done() -> bool:
            ds = self.deliveries
            if deliveries is not None and len(ds) < deliveries:
                return False
            if attempts is not None and self._attempts() < attempts:
                return False
            return delivered is None or sum(
                d.state == webhooks.DELIVERED for d in ds) >= delivered
        return done

    def _timeout(self, timeout: float) -> WebhookTimeout:
        seen = [(d.id, d.state, [(a.number, a.status, a.error) for a in d.attempts])
                for d in self.deliveries]
        return WebhookTimeout(f"webhooks: not there after {timeout}s; deliveries so far: "
                              f"{seen or 'none'}")

    def wait_for(self, *, deliveries: int | None = None, attempts: int | None = None,
                 delivered: int | None = 1, timeout: float = 10.0) -> list[Delivery]:
        """Block until the tenant has at least ``deliveries`` deliveries, ``attempts``
        finished attempts and ``delivered`` delivered ones; returns the deliveries."""
        done = self._condition(deliveries, attempts, delivered)
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise self._timeout(timeout)
            time.sleep(POLL_SECONDS)
        return self.deliveries

    async def async_wait_for(self, *, deliveries: int | None = None,
                             attempts: int | None = None, delivered: int | None = 1,
                             timeout: float = 10.0) -> list[Delivery]:
        """:meth:`wait_for` for async tests (keeps the test's event loop running, e.g. for
        the app's own aiohttp test server)."""
        done = self._condition(deliveries, attempts, delivered)
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise self._timeout(timeout)
            await asyncio.sleep(POLL_SECONDS)
        return self.deliveries

    def next_retry_in(self) -> float | None:
        """Seconds (virtual clock) until the earliest pending retry; None if none."""
        project = self._tenant.project
        due = [d.next_attempt_at for d in self.deliveries
               if d.state == webhooks.PENDING and not d.in_flight
               and d.next_attempt_at is not None]
        return None if not due else max(0.0, min(due) - project.now())

    def run_retry(self, timeout: float = 10.0) -> None:
        """Move the clock to the next pending retry and wait until that attempt finished."""
        wait = self.next_retry_in()
        if wait is None:
            raise LookupError("no webhook retry is pending")
        before = self._attempts()
        self._tenant.clock.advance(wait + 0.001)
        self.wait_for(attempts=before + 1, delivered=None, timeout=timeout)

    async def async_run_retry(self, timeout: float = 10.0) -> None:
        wait = self.next_retry_in()
        if wait is None:
            raise LookupError("no webhook retry is pending")
        before = self._attempts()
        self._tenant.clock.advance(wait + 0.001)
        await self.async_wait_for(attempts=before + 1, delivered=None, timeout=timeout)
