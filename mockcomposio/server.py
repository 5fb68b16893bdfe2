"""Running the app: in the foreground (the CLI) or on a background thread (the pytest plugin
and our own tests). Both bind loopback by default and serve one shared Engine."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable

from aiohttp import web

from .engine import Engine


async def _start(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
    bound_port = sockets[0].getsockname()[1] if sockets else port
    shown_host = f"[{host}]" if ":" in host else host
    return runner, f"http://{shown_host}:{bound_port}"


def serve_forever(engine: Engine, host: str, port: int,
                  on_ready: Callable[[str], None]) -> None:
    """Serve until SIGINT/SIGTERM, then shut down cleanly."""
    from .http.app import create_app

    async def main() -> None:
        runner, base_url = await _start(create_app(engine), host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        on_ready(base_url)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

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
