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

log = logging.getLogger("mockcomposio.server")


async def _start(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    from .http.app import EnvelopeAppRunner  # parser errors answered in the envelope too

    runner = EnvelopeAppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
    bound_port = sockets[0].getsockname()[1] if sockets else port
    shown_host = f"[{host}]" if ":" in host else host
    return runner, f"http://{shown_host}:{bound_port}"


class StateSaver:
    """Saves the engine to a state file after changes: at most every ``interval`` seconds
    while requests change state, and once more at shutdown. Each save is write-then-rename
    (with fsync), so a crash at any moment leaves the previous or the new snapshot, whole."""

    def __init__(self, engine: Engine, path: Path, interval: float = 0.2) -> None:
        from . import snapshot  # only with --state-file: keeps `serve` start-up lean

        self._snapshot = snapshot
        self.engine = engine
        self.path = path
        self.interval = interval
        self.saves = 0
        self._dirty = False
        self._task: asyncio.Task[None] | None = None

    def changed(self) -> None:
        """Called on the event loop after every request that may have changed state."""
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        pause = self.interval
        while self._dirty:
            await asyncio.sleep(pause)
            self._dirty = False
            # Built on the loop thread (handlers run there too, so it is consistent); encoding
            # and the disk write happen on a worker thread.
            started = time.perf_counter()
            doc = self._snapshot.export_engine(self.engine, secrets=True)
            # A big state takes a while to export and blocks requests meanwhile: wait at least
            # 4x that long before the next save, so saving stays under ~20% of the loop.
            pause = max(self.interval, 4 * (time.perf_counter() - started))
            try:
                await asyncio.to_thread(self._write, doc)
            except OSError as exc:
                log.error("cannot save state to %s: %s (will retry on the next change)",
                          self.path, exc)

    def _write(self, doc: dict[str, Any]) -> None:
        self._snapshot.write_atomic(self.path, self._snapshot.dumps(doc))
        self.saves += 1

    def save_now(self) -> None:
        self._write(self._snapshot.export_engine(self.engine, secrets=True))

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.save_now()


def serve_forever(engine: Engine, host: str, port: int,
                  on_ready: Callable[[str], None], *, state_file: Path | None = None,
                  prepare: Callable[[str], None] | None = None, strict: bool = False) -> None:
    """Serve until SIGINT/SIGTERM, then shut down cleanly (saving ``state_file`` if given).
    ``prepare(base_url)`` runs once bound, before ``on_ready`` (e.g. to apply a seed file)."""
    from .http.app import ON_CHANGE_KEY, create_app

    async def main() -> None:
        app = create_app(engine, strict=strict)
        saver = StateSaver(engine, state_file) if state_file is not None else None
        if saver is not None:
            app[ON_CHANGE_KEY].append(saver.changed)
        runner, base_url = await _start(app, host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            if prepare is not None:
                prepare(base_url)
                if saver is not None:
                    saver.changed()
            on_ready(base_url)
            await stop.wait()
        finally:
            await runner.cleanup()
            if saver is not None:
                await saver.aclose()

    asyncio.run(main())


class LiveServer:
    """The app on a daemon thread with its own event loop; ``base_url`` once started."""

    def __init__(self, engine: Engine | None = None, host: str = "127.0.0.1",
                 port: int = 0, *, strict: bool = False) -> None:
        self.engine = engine or Engine()
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
                    _start(create_app(self.engine, strict=self.strict), self.host, self.port))
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
