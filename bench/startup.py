"""Start-up costs, each from a fresh interpreter: ``import mockcomposio`` and the time from
spawning ``mockcomposio serve --port 0`` to its first line and to its first healthy answer, with
the bare interpreter start measured in the same run as the baseline."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
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


# Where the child interpreters keep compiled bytecode when it is cached (PYTHONPYCACHEPREFIX):
# outside the source tree, shared by both servers, persistent across bench runs.
PYCACHE = Path(tempfile.gettempdir()) / "mockcomposio-bench-pycache"


def child_env(bytecode: bool) -> dict[str, str]:
    """The environment both servers start with. ``bytecode=True``: compiled modules are cached
    and reused, as for a pip-installed package (pip compiles at install time) or any run
    without PYTHONDONTWRITEBYTECODE. ``False``: nothing new is cached, so every module whose
    bytecode is not already on disk (an editable checkout under PYTHONDONTWRITEBYTECODE=1, as
    on this machine) is compiled from source at every start; site-packages (aiohttp) keeps
    the bytecode pip wrote, so this mode charges only us for compiling."""
    env = dict(os.environ)
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    return env


def _serve_once(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds from spawn to the first stdout line (the base URL) and to a 200 health."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
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


def _interleaved(rounds: int, env: dict[str, str]) -> tuple[list[tuple[float, float]],
                                                              list[tuple[float, float]]]:
    """(ours, bare) timings, interleaved (ours, bare, ours, bare, ...) so that a load spike
    hits both alike. Both run as ``python <args>`` with the same flags and environment and
    are ready at the same signal (the first stdout line, then a 200 from /_mock/health). One
    unmeasured start of each first (fills the bytecode cache when it is on)."""
    _serve_once(MOCK_SERVER, env)
    _serve_once(["-c", BARE_SERVER], env)
    serves: list[tuple[float, float]] = []
    bare: list[tuple[float, float]] = []
    for _ in range(rounds):
        serves.append(_serve_once(MOCK_SERVER, env))
        bare.append(_serve_once(["-c", BARE_SERVER], env))
    return serves, bare


def startup(quick: bool) -> dict[str, Any]:
    n = 5 if quick else 11
    interpreter = statistics.median(_wall([sys.executable, "-c", "pass"]) for _ in range(n))
    import_wall = statistics.median(
        _wall([sys.executable, "-c", "import mockcomposio"]) for _ in range(n))
    serves, bare = _interleaved(n, child_env(bytecode=True))
    serves_src, bare_src = _interleaved(n, child_env(bytecode=False))
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
        # the median of each round's ratio (ours / the bare server started right after it)
        "health_ratio_rounds": statistics.median(s[1] / b[1] for s, b in zip(serves, bare,
                                                                             strict=True)),
        # the same without a bytecode cache for our source (see child_env)
        "serve_health_source_ms": statistics.median(s[1] for s in serves_src) * 1000,
        "bare_health_source_ms": statistics.median(s[1] for s in bare_src) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.startup",
                                     description="`serve` to first healthy answer vs a bare "
                                     "aiohttp server, interleaved rounds")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-bytecode", action="store_true",
                        help="also measure with no bytecode cache (our source compiled at "
                        "every start; see child_env)")
    args = parser.parse_args(argv)
    for bytecode in [True, False] if args.no_bytecode else [True]:
        serves, bare = _interleaved(args.rounds, child_env(bytecode))
        ours = statistics.median(s[1] for s in serves)
        base = statistics.median(b[1] for b in bare)
        rounds = statistics.median(s[1] / b[1] for s, b in zip(serves, bare, strict=True))
        print(f"{'bytecode cached' if bytecode else 'no bytecode cache'}: load average "
              f"{os.getloadavg()[0]:.2f}, {args.rounds} interleaved rounds: serve "
              f"{ours * 1000:.0f} ms | bare aiohttp {base * 1000:.0f} ms | ratio of medians "
              f"{ours / base:.2f}x | median per-round ratio {rounds:.2f}x (target <= 1.2x)",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
