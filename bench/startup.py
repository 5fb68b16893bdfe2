"""Start-up costs, each from a fresh interpreter: ``import mockcomposio`` and the time from
spawning ``mockcomposio serve --port 0`` to its first line and to its first healthy answer, with
the bare interpreter start measured in the same run as the baseline."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

IMPORT_TIMER = ("import time; t = time.perf_counter(); import {module}; "
                "print(time.perf_counter() - t)")


def _wall(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _in_process(module: str, pre: str = "") -> float:
    code = pre + IMPORT_TIMER.format(module=module)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True)
    return float(out.stdout.strip())


# The floor: a bare aiohttp app on port 0, printing its URL once it listens.
BARE_SERVER = """
import asyncio
from aiohttp import web

async def main():
    async def health(request):
        return web.json_response({"status": "ok"})
    app = web.Application()
    app.router.add_get("/_mock/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""
MOCK_SERVER = ["-m", "mockcomposio", "serve", "--port", "0", "--log-level", "warning"]


def _serve_once(args: list[str]) -> tuple[float, float]:
    """Seconds from spawn to the first stdout line (the base URL) and to a 200 health."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        first_line = time.perf_counter() - started
        while True:
            try:
                with urllib.request.urlopen(f"{base_url}/_mock/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.001)
        return first_line, time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(10)


def startup(quick: bool) -> dict[str, Any]:
    n = 3 if quick else 9
    interpreter = statistics.median(_wall([sys.executable, "-c", "pass"]) for _ in range(n))
    import_wall = statistics.median(
        _wall([sys.executable, "-c", "import mockcomposio"]) for _ in range(n))
    serves = [_serve_once(MOCK_SERVER) for _ in range(n)]
    bare = [_serve_once(["-c", BARE_SERVER]) for _ in range(n)]
    return {
        "interpreter_ms": interpreter * 1000,
        "import_ms": statistics.median(_in_process("mockcomposio") for _ in range(n)) * 1000,
        "import_wall_minus_interpreter_ms": (import_wall - interpreter) * 1000,
        # what pytest loads through the pytest11 entry point (pytest itself already imported)
        "plugin_import_ms": statistics.median(
            _in_process("mockcomposio.pytest_plugin", "import pytest; ") for _ in range(n))
        * 1000,
        "serve_first_line_ms": statistics.median(s[0] for s in serves) * 1000,
        "serve_health_ms": statistics.median(s[1] for s in serves) * 1000,
        "bare_first_line_ms": statistics.median(s[0] for s in bare) * 1000,
        "bare_health_ms": statistics.median(s[1] for s in bare) * 1000,
    }
