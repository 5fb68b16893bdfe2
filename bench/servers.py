"""Servers under load, each run in its own process (``python -m bench.servers KIND ...``) so the
load generator in the parent does not share a GIL with them. The first line a server prints on
stdout is JSON: ``{"base_url": ..., ...}``.

* ``mock [--strict] [--no-response-cache]``: mockcomposio's app (as the pytest plugin and
  ``mockcomposio serve`` run it, no access log) with one tenant seeded through the domain: an
  auth config and ``--users`` x ``--per-user`` ACTIVE connected accounts.
* ``bare BODY_DIR``: the practical ceiling, a bare aiohttp app answering ``GET /<name>`` with
  the fixed bytes of ``BODY_DIR/<name>`` as JSON.
* ``moto``: moto's server (Flask/werkzeug, threaded) on a free port.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import threading
from pathlib import Path

API_KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _serve(app: object, extra: dict[str, str]) -> None:
    from aiohttp import web

    assert isinstance(app, web.Application)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(json.dumps({"base_url": f"http://127.0.0.1:{port}", **extra}), flush=True)
    await stop.wait()
    await runner.cleanup()


def _count_gc() -> dict[str, list[float]]:
    """Collections per generation and their total seconds, from now on."""
    import gc
    import time

    out: dict[str, list[float]] = {"0": [0, 0.0], "1": [0, 0.0], "2": [0, 0.0]}
    started = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            entry = out[str(info["generation"])]
            entry[0] += 1
            entry[1] += time.perf_counter() - started[0]

    gc.callbacks.append(callback)
    return out


def seed_tenant(users: int, per_user: int) -> tuple[object, dict[str, str]]:
    """An engine with one tenant: an auth config and users x per_user ACTIVE accounts."""
    from mockcomposio.engine import Engine
    from mockcomposio.tenant import Tenant

    engine = Engine(seed=1)
    tenant = Tenant(engine, API_KEY, "http://127.0.0.1")
    ac = tenant.add_auth_config("github")
    for i in range(users * per_user):
        tenant.add_account(ac, f"user-{i % users}")
    return engine, {"auth_config_id": ac.id, "user_id": "user-7"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["mock", "bare", "moto"])
    parser.add_argument("body_dir", nargs="?")
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--no-response-cache", action="store_true",
                        help="every read rendered afresh (what a first read costs)")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--profile", help="write a cProfile of the serving to this file")
    args = parser.parse_args(argv)
    if args.kind == "moto":
        import logging

        from moto.server import ThreadedMotoServer

        # no access log, as for the other servers (werkzeug logs every request by default)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        print(json.dumps({"base_url": f"http://127.0.0.1:{port}"}), flush=True)
        done = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        done.wait()
        server.stop()
        return 0
    if args.kind == "bare":
        from aiohttp import web

        bodies = {p.name: p.read_bytes() for p in Path(args.body_dir).iterdir()}

        async def handle(request: web.Request) -> web.Response:
            return web.Response(body=bodies[request.match_info["name"]],
                                content_type="application/json")

        app = web.Application()
        app.router.add_get("/{name}", handle)
        asyncio.run(_serve(app, {}))
        return 0
    from mockcomposio.http.app import create_app

    engine, ids = seed_tenant(args.users, args.per_user)
    app = create_app(engine, strict=args.strict,  # type: ignore[arg-type]
                     response_cache=not args.no_response_cache)
    if not args.profile:
        asyncio.run(_serve(app, ids))
        return 0
    import cProfile

    collections = _count_gc()
    profiler = cProfile.Profile()
    profiler.runcall(asyncio.run, _serve(app, ids))
    profiler.dump_stats(args.profile)
    # cProfile does not show the cyclic garbage collector: its pauses go to a sidecar file
    Path(args.profile + ".gc.json").write_text(json.dumps(collections))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
