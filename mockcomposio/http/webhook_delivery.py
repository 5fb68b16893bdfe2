"""Sending webhook deliveries: the HTTP half of :mod:`mockcomposio.domain.webhooks`.

One :class:`Dispatcher` per running app (started and stopped with it). It sends each attempt
from a background task on the app's event loop with an aiohttp client, so a receiver that
hangs costs one task until the per-delivery timeout, never a request of the server:

- at most :data:`PER_TENANT` attempts of one tenant are in flight at once, and
  :data:`GLOBAL` of all tenants: a tenant whose receiver hangs waits on its own slots while
  other tenants' deliveries go on;
- at most :data:`MAX_WAITING` attempts of one tenant are outstanding; beyond that an attempt
  is recorded as failed ("queue full") and retried on the usual schedule, so the delivery log
  keeps every event;
- retries fall due on the tenant's virtual clock (``Project.run_due``); while a tenant has
  retries pending, a ticker applies its due timers every :data:`TICK_SECONDS` of real time so
  a server nobody calls still retries.

Every attempt is journaled (operation ``webhook.delivery``) and kept in the delivery log.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from ..domain import webhooks
from ..domain.journal import JournalEntry
from ..errors import ComposioError

if TYPE_CHECKING:
    from ..domain.project import Project
    from ..engine import Engine

PER_TENANT = 4
GLOBAL = 256
MAX_WAITING = 1000
TICK_SECONDS = 1.0
OPERATION = "webhook.delivery"
MAX_READ = 64 * 1024  # bytes of a receiver's answer read at most


class Dispatcher:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self.session: aiohttp.ClientSession | None = None
        self._global = asyncio.Semaphore(GLOBAL)
        self._tenant: dict[str, asyncio.Semaphore] = {}
        self._load: dict[str, int] = {}  # attempts of a tenant started and not finished
        self._tasks: set[asyncio.Task[None]] = set()
        self._retrying: dict[str, Project] = {}
        self._ticker: asyncio.Task[None] | None = None
        self.attempts = 0  # attempts finished (benchmarks read it)

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        # trust_env=False: no proxy from the environment (it would carry deliveries off the
        # machine); no redirects either (a 3xx could point anywhere).
        self.session = aiohttp.ClientSession(
            trust_env=False, connector=aiohttp.TCPConnector(limit=GLOBAL),
            headers={"user-agent": "mockcomposio-webhooks"})
        self._ticker = self.loop.create_task(self._tick())

    async def aclose(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    def outstanding(self) -> dict[str, int]:
        """Attempts started and not finished, per tenant (project id); empty when idle."""
        return dict(self._load)

    # -- submitting (any thread) -------------------------------------------------------------
    def submit(self, project: Project, d: webhooks.Delivery) -> None:
        """Called under the project's lock, from the loop (a request's timers) or from a test's
        thread (the plugin moving the clock)."""
        loop = self.loop
        if loop is None or loop.is_closed():
            d.in_flight = False  # stays pending in the log
            return
        if threading.get_ident() == self._thread:
            self._start(project, d)
            return
        try:
            loop.call_soon_threadsafe(self._start, project, d)
        except RuntimeError:  # the loop just closed
            d.in_flight = False

    def _start(self, project: Project, d: webhooks.Delivery) -> None:
        load = self._load.get(project.id, 0)
        if load >= MAX_WAITING:
            with project.lock:
                if webhooks.prepare_attempt(project, d) is not None:
                    self._finish(project, d, None, f"mockcomposio's delivery queue for this "
                                 f"tenant is full ({load} attempts outstanding)", 0.0, "")
            return
        self._load[project.id] = load + 1
        task = asyncio.get_running_loop().create_task(self._run(project, d))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- sending (the loop) ------------------------------------------------------------------
    async def _run(self, project: Project, d: webhooks.Delivery) -> None:
        sem = self._tenant.get(project.id)
        if sem is None:
            sem = self._tenant[project.id] = asyncio.Semaphore(PER_TENANT)
        try:
            async with sem, self._global:
                with project.lock:
                    prepared = webhooks.prepare_attempt(project, d)
                if prepared is None:
                    return
                url, headers = prepared
                status, error, text, elapsed = await self._post(project, url, headers, d.body)
                with project.lock:
                    self._finish(project, d, status, error, elapsed, text)
        finally:
            # a tenant with nothing outstanding keeps no semaphore (tests make thousands)
            left = self._load[project.id] - 1
            if left:
                self._load[project.id] = left
            else:
                del self._load[project.id]
                self._tenant.pop(project.id, None)

    async def _post(self, project: Project, url: str, headers: dict[str, str], body: bytes,
                    ) -> tuple[int | None, str | None, str, float]:
        assert self.session is not None
        timeout = webhooks.delivery_timeout()
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        text = ""
        try:
            # Checked again at send time: the host rules may have changed since the
            # subscription was made.
            webhooks.check_url(url, any_host=webhooks.allow_any_host(project))
            async with self.session.post(url, data=body, headers=headers, allow_redirects=False,
                                         timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                status = resp.status
                # Read to the end (up to a bound) so the connection is reused; a bigger
                # answer just closes it.
                raw = b""
                while len(raw) < MAX_READ and (chunk := await resp.content.read(MAX_READ)):
                    raw += chunk
                text = raw[:webhooks.MAX_RESPONSE_CHARS].decode("utf-8", "replace")
        except ComposioError as exc:
            error = f"not sent: {exc.message}"
        except TimeoutError:
            error = f"no answer within {timeout:g}s (MOCKCOMPOSIO_WEBHOOK_TIMEOUT)"
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return status, error, text, (time.perf_counter() - started) * 1000

    def _finish(self, project: Project, d: webhooks.Delivery, status: int | None,
                error: str | None, elapsed_ms: float, text: str) -> None:
        attempt = webhooks.finish_attempt(project, d, status=status, error=error,
                                          duration_ms=elapsed_ms, response=text)
        self.attempts += 1
        journal = project.journal
        journal.append(JournalEntry(
            seq=journal.next_seq(), at=attempt.at, wall_time=attempt.wall_time, method="POST",
            path=d.url, query="", status=status or 0, duration_ms=elapsed_ms,
            request_id=d.id, operation=OPERATION,
            # a summary: the full payload is in the delivery log (GET /_mock/webhooks), and
            # redacting a whole account render per attempt would cost more than the POST
            request_body={"id": d.id, "type": d.event_type,
                          "connected_account_id": d.account_id},
            response_body={"webhook_id": d.id, "event_type": d.event_type,
                           "attempt": attempt.number, "status": status, "error": error,
                           "delivery_state": d.state, "response": attempt.response},
            hint=error))
        if d.state == webhooks.PENDING and d.next_attempt_at is not None:
            self._retrying[project.id] = project

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            for key, project in list(self._retrying.items()):
                with project.lock:
                    project.run_due()
                    waiting = any(d.state == webhooks.PENDING
                                  for d in project.webhooks.deliveries.values())
                if not waiting or self.engine.projects.get(project.api_key) is not project:
                    self._retrying.pop(key, None)


DISPATCHER_KEY: web.AppKey[Dispatcher] = web.AppKey("webhook_dispatcher", Dispatcher)


async def cleanup_ctx(app: web.Application) -> AsyncIterator[None]:
    """Started with the app, stopped with it (``app.cleanup_ctx``)."""
    from .app import ENGINE_KEY

    engine = app[ENGINE_KEY]
    dispatcher = Dispatcher(engine)
    await dispatcher.start()
    app[DISPATCHER_KEY] = dispatcher
    engine.webhook_sink = dispatcher.submit
    try:
        yield
    finally:
        if engine.webhook_sink == dispatcher.submit:
            engine.webhook_sink = None
        await dispatcher.aclose()


def stats(app: web.Application) -> dict[str, Any]:
    d = app.get(DISPATCHER_KEY)
    return {"attempts": d.attempts if d is not None else 0}
