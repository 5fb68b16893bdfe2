"""Running the app: in the foreground (the CLI) or on a background thread (the pytest plugin
and our own tests). Both bind loopback by default and serve one shared Engine."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from .engine import Engine
from .http.policy import Policy

log = logging.getLogger("mockcomposio.server")


def base_urls(host: str, port: int, allowed_hosts: frozenset[str] = frozenset()) -> list[str]:
    """The server's own base URLs, the usable one first: a wildcard or empty bind address is
    shown as loopback (``http://0.0.0.0:8000`` cannot be opened everywhere)."""
    host = host.strip().strip("[]")
    if host in ("", "0.0.0.0"):
        first = "127.0.0.1"
    elif host == "::":
        first = "::1"
    else:
        first = host
    names = [first, "127.0.0.1", "localhost", "::1",
             *sorted(h for h in allowed_hosts if h != "*" and not h.startswith("."))]
    out: list[str] = []
    for name in names:
        url = f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"
        if url not in out:
            out.append(url)
    return out


async def _start(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    from .http.app import ENGINE_KEY, POLICY_KEY, EnvelopeAppRunner

    # parser errors answered in the envelope too
    runner = EnvelopeAppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host or None, port)
    await site.start()
    server = site._server
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
    bound_port = sockets[0].getsockname()[1] if sockets else port
    urls = base_urls(host, bound_port, app[POLICY_KEY].allowed_hosts)
    app[ENGINE_KEY].base_urls = urls
    return runner, urls[0]


class StateSaver:
    """Saves the engine to a state file after changes: ``interval`` seconds after the first
    change, then again after each save while requests keep changing state, and once more at
    shutdown. Exporting, encoding and writing all run on a worker thread, and only tenants
    changed since the last save are re-exported, so a save never stalls the event loop for
    long; each tenant is exported under its own lock (consistent per tenant).

    Loss window: a change acknowledged at time t is on disk by t + interval + one save's
    duration (``max_duration`` records the longest seen; bench/hardening.py measures it).
    Each save is write-then-rename through its own temp file (with fsync), so a crash at any
    moment leaves the previous or the new snapshot, whole."""

    def __init__(self, engine: Engine, path: Path, interval: float = 0.2) -> None:
        from . import snapshot  # only with --state-file: keeps `serve` start-up lean

        self._snapshot = snapshot
        self.engine = engine
        self.path = path
        self.interval = interval
        self.saves = 0
        self.last_duration = 0.0
        self.max_duration = 0.0
        self._export = snapshot.IncrementalExport(engine)
        self._dirty = False
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._inflight: asyncio.Future[None] | None = None
        self._write_lock = threading.Lock()

    def changed(self, project: Any = None) -> None:
        """Called on the event loop after every request that may have changed state, with
        the tenant it reached (None: any tenant may have changed)."""
        self._export.mark(project)
        self._dirty = True
        if self._closing:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self._dirty and not self._closing:
            await asyncio.sleep(self.interval)  # the only point where aclose() cancels us
            if self._closing:
                return
            self._dirty = False
            self._inflight = asyncio.ensure_future(asyncio.to_thread(self._save))
            try:
                # shielded: cancelling this task must never abandon a write half-way
                await asyncio.shield(self._inflight)
            except OSError as exc:
                log.error("cannot save state to %s: %s (will retry on the next change)",
                          self.path, exc)
                self._export.mark(None)

    def _save(self) -> None:
        with self._write_lock:  # one writer at a time, whoever calls
            started = time.perf_counter()
            self._snapshot.write_atomic(self.path, self._export.export())
            self.last_duration = time.perf_counter() - started
            self.max_duration = max(self.max_duration, self.last_duration)
            self.saves += 1

    def save_now(self) -> None:
        self._export.mark(None)
        self._save()

    async def aclose(self, *, save: bool = True) -> None:
        """Stop saving: wait for a write under way, then (``save``) write the final state.
        ``save=False`` when start-up failed: the state file is left as it was."""
        self._closing = True
        if self._inflight is not None and not self._inflight.done():
            with contextlib.suppress(Exception):
                await self._inflight
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if save:
            await asyncio.to_thread(self.save_now)


def serve_forever(engine: Engine, host: str, port: int,
                  on_ready: Callable[[str], None], *, state_file: Path | None = None,
                  prepare: Callable[[str], None] | None = None, strict: bool = False,
                  policy: Policy | None = None, response_cache: bool = True) -> None:
    """Serve until SIGINT/SIGTERM, then shut down cleanly (saving ``state_file`` if given).
    ``prepare(base_url)`` runs once bound, before ``on_ready`` (e.g. to apply a seed file);
    if it fails, nothing is saved."""
    from .http.app import ON_CHANGE_KEY, create_app

    async def main() -> None:
        app = create_app(engine, strict=strict, policy=policy, response_cache=response_cache)
        saver = StateSaver(engine, state_file) if state_file is not None else None
        if saver is not None:
            app[ON_CHANGE_KEY].append(saver.changed)
        runner, base_url = await _start(app, host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        started = False
        try:
            if prepare is not None:
                prepare(base_url)
                if saver is not None:
                    saver.changed(None)
            started = True
            on_ready(base_url)
            await stop.wait()
        finally:
            await runner.cleanup()
            if saver is not None:
                await saver.aclose(save=started)

    asyncio.run(main())


class LiveServer:
    """The app on a daemon thread with its own event loop; ``base_url`` once started."""

    def __init__(self, engine: Engine | None = None, host: str = "127.0.0.1",
                 port: int = 0, *, strict: bool = False, policy: Policy | None = None) -> None:
        self.engine = engine or Engine()
        # Cross-tenant opt-in / allowed hosts (default: neither, as `serve`).
        self.policy = policy
        # strict: validate every response against contracts/ (a violation answers 500)
        self.strict = strict
        self.host = host
        self.port = port
        self.base_url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LiveServer:
        from .http.app import create_app

        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._runner, self.base_url = loop.run_until_complete(
                    _start(create_app(self.engine, strict=self.strict, policy=self.policy),
                           self.host, self.port))
            except BaseException as exc:  # surfaced to the starting thread below
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="mockcomposio-server", daemon=True)
        self._thread.start()
        ready.wait(30)
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
