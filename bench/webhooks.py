"""Webhook delivery: what a connection-expired event costs the fake, and what deliveries in
flight cost the server's request throughput. Ratios against baselines measured in the same run.

    python -m bench.webhooks [--quick] [--json FILE]

Three processes (2 cores: the numbers to read are the ratios and the CPU per event):

* ``receiver``: a bare aiohttp app answering ``POST /hook`` with 200 and counting;
* ``mock``: mockcomposio's app (as ``serve`` runs it) with one tenant: a subscription to the
  receiver and ``--accounts`` ACTIVE gmail accounts; a bench-only route
  ``POST /_bench/emit?n=N&rate=R`` makes the domain emit ``composio.connected_account.expired``
  for N of them (R per second; 0: as fast as the loop allows), exactly as a failed refresh does;
* ``poster``: the baseline, a bare aiohttp client POSTing the same number of bodies of the
  same size to the same receiver with the same concurrency (4, the fake's per-tenant limit).

Measured:

1. delivery cost per event: the mock process's CPU per event (emit + render + sign + send +
   log) against the poster's CPU per POST; and the wall time per event;
2. throughput while deliveries run: ``GET /api/v3.1/auth_configs/{id}`` req/s (concurrency 10)
   while the fake delivers a steady stream of events, against the same load with none.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from .load import run_load
from .run import cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "bench-key"
CONCURRENCY = 4  # the fake's per-tenant delivery slots


# -- the processes -----------------------------------------------------------------------------

async def _serve(app: Any, extra: dict[str, Any]) -> None:
    from .servers import _serve as serve

    await serve(app, extra)


def _receiver() -> None:
    from aiohttp import web

    count = [0]

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        count[0] += 1
        return web.Response(text="ok")

    async def get_count(request: web.Request) -> web.Response:
        return web.json_response({"count": count[0]})

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/count", get_count)
    asyncio.run(_serve(app, {}))


def _mock(receiver_url: str, accounts: int) -> None:
    from aiohttp import web

    from mockcomposio.domain import webhooks
    from mockcomposio.engine import Engine
    from mockcomposio.http.app import create_app
    from mockcomposio.tenant import Tenant

    engine = Engine(seed=1)
    tenant = Tenant(engine, API_KEY, "http://127.0.0.1")
    ac = tenant.add_auth_config("gmail")
    made = [tenant.add_account(ac, f"user-{i}") for i in range(accounts)]
    project = tenant.project
    webhooks.create(project, webhook_url=receiver_url,
                    enabled_events=[webhooks.CONNECTION_EXPIRED])
    app = create_app(engine)
    cursor = [0]

    async def emit(n: int, rate: float) -> None:
        step = 50 if rate <= 0 else max(1, int(rate / 100))  # events per loop turn
        pause = 0.0 if rate <= 0 else step / rate
        done = 0
        while done < n:
            with project.lock:
                for _ in range(min(step, n - done)):
                    account = made[cursor[0] % len(made)]
                    cursor[0] += 1
                    webhooks.emit_expired(project, account)
                    done += 1
            await asyncio.sleep(pause)

    async def start(request: web.Request) -> web.Response:
        n = int(request.query["n"])
        rate = float(request.query.get("rate", "0"))
        request.app["emitting"] = asyncio.get_running_loop().create_task(emit(n, rate))
        return web.json_response({"started": n})

    app.router.add_post("/_bench/emit", start)
    asyncio.run(_serve(app, {"auth_config_id": ac.id}))


async def _post_all(url: str, n: int, body: bytes) -> float:
    import aiohttp

    started = time.perf_counter()
    queue = list(range(n))
    async with aiohttp.ClientSession(trust_env=False) as session:
        async def worker() -> None:
            while queue:
                queue.pop()
                async with session.post(url, data=body, headers={
                        "content-type": "application/json"}) as r:
                    await r.read()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - started


def _poster(url: str, n: int, size: int) -> None:
    import aiohttp  # noqa: F401  (imported before the CPU clock starts: the fake's is warm too)

    body = json.dumps({"pad": "x" * max(0, size - 11)}).encode()
    asyncio.run(_post_all(url, min(n, 50), body))  # warm-up, as the fake's first 50 events
    before = time.process_time()
    wall = asyncio.run(_post_all(url, n, body))
    print(json.dumps({"wall": wall, "cpu": time.process_time() - before}), flush=True)


# -- the parent --------------------------------------------------------------------------------

class Proc:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.webhooks", *args], cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"bench process {args} did not start")
        self.info: dict[str, Any] = json.loads(line)

    @property
    def base_url(self) -> str:
        return str(self.info["base_url"])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _call(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> Any:
    req = urllib.request.Request(url, method=method, headers=headers or {})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def _received(receiver: Proc) -> int:
    return int(_call(receiver.base_url + "/count")["count"])


def _wait_for(receiver: Proc, target: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while _received(receiver) < target:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {_received(receiver)} of {target} deliveries arrived")
        time.sleep(0.005)


def _delivery_body_size(mock: Proc) -> int:
    log = _call(mock.base_url + "/_mock/webhooks", headers={"x-api-key": API_KEY})
    payload = log["deliveries"][-1]["payload"]
    return len(json.dumps(payload, separators=(",", ":")))


def measure(quick: bool) -> dict[str, Any]:
    events, repeats, seconds = (300, 1, 1.0) if quick else (2000, 3, 3.0)
    rates = (50.0, 300.0)
    receiver = Proc("receiver")
    mock = Proc("mock", receiver.base_url + "/hook", "--accounts", "200")
    results: dict[str, list[float]] = {k: [] for k in (
        "mock_cpu_us", "mock_wall_us", "bare_cpu_us", "bare_wall_us", "rps_idle")}
    for rate in rates:
        results[f"rps_delivering@{rate:g}"] = []
        results[f"delivered_during_load@{rate:g}"] = []
    try:
        sent = 0
        # warm-up: connections, caches
        _call(f"{mock.base_url}/_bench/emit?n=50", "POST")
        sent += 50
        _wait_for(receiver, sent)
        size = _delivery_body_size(mock)
        url = f"{mock.base_url}/api/v3.1/auth_configs/{mock.info['auth_config_id']}"
        auth = {"x-api-key": API_KEY}
        for _ in range(repeats):
            # 1. cost per event, and the bare baseline right after it
            cpu0, t0 = cpu_seconds(mock.proc.pid), time.perf_counter()
            _call(f"{mock.base_url}/_bench/emit?n={events}", "POST")
            sent += events
            _wait_for(receiver, sent)
            results["mock_wall_us"].append((time.perf_counter() - t0) / events * 1e6)
            results["mock_cpu_us"].append((cpu_seconds(mock.proc.pid) - cpu0) / events * 1e6)
            poster = subprocess.run(
                [sys.executable, "-m", "bench.webhooks", "poster", receiver.base_url + "/hook",
                 str(events), str(size)], cwd=ROOT, capture_output=True, text=True, check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)})
            bare = json.loads(poster.stdout)
            sent += events
            results["bare_wall_us"].append(bare["wall"] / events * 1e6)
            results["bare_cpu_us"].append(bare["cpu"] / events * 1e6)
            # 2. throughput idle, then while a steady stream is delivered
            results["rps_idle"].append(run_load(url, auth, 10, seconds).rps)
            for rate in rates:
                stream = int(rate * (seconds + 1.5))
                before = _received(receiver)
                _call(f"{mock.base_url}/_bench/emit?n={stream}&rate={rate}", "POST")
                sent += stream
                results[f"rps_delivering@{rate:g}"].append(run_load(url, auth, 10, seconds).rps)
                results[f"delivered_during_load@{rate:g}"].append(_received(receiver) - before)
                _wait_for(receiver, sent)
    finally:
        mock.stop()
        receiver.stop()
    out: dict[str, Any] = {k: statistics.median(v) for k, v in results.items()}
    out.update(events=events, repeats=repeats, body_bytes=size, stream_rates=list(rates),
               load_seconds=seconds)
    return out


def render(r: dict[str, Any]) -> str:
    load = os.getloadavg()[0]
    return "\n".join([
        f"Webhooks (`python -m bench.webhooks`): {r['events']} events x {r['repeats']} "
        f"repeat(s), payload {r['body_bytes']} bytes, load average {load:.1f}.",
        "",
        "| measurement | mockcomposio | baseline (same run) | ratio |",
        "|---|---:|---:|---:|",
        f"| CPU per connection-expired event (emit, render, sign, POST, log) | "
        f"{r['mock_cpu_us']:.0f} µs | bare aiohttp client POSTing the same body: "
        f"{r['bare_cpu_us']:.0f} µs | {r['mock_cpu_us'] / r['bare_cpu_us']:.2f}x |",
        f"| wall time per event, burst, {CONCURRENCY} in flight | {r['mock_wall_us']:.0f} µs | "
        f"bare client: {r['bare_wall_us']:.0f} µs | "
        f"{r['mock_wall_us'] / r['bare_wall_us']:.2f}x |",
    ] + [
        f"| `GET auth_configs/{{id}}` req/s (conc. 10) while delivering ~{rate:g} events/s "
        f"({r[f'delivered_during_load@{rate:g}']:.0f} delivered during the "
        f"{r['load_seconds']:.0f} s window) | {r[f'rps_delivering@{rate:g}']:,.0f} | "
        f"no deliveries: {r['rps_idle']:,.0f} | "
        f"{r[f'rps_delivering@{rate:g}'] / r['rps_idle']:.2f}x |"
        for rate in r["stream_rates"]
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("role", nargs="?", default="run",
                        choices=["run", "receiver", "mock", "poster"])
    parser.add_argument("args", nargs="*")
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", metavar="FILE")
    a = parser.parse_args(argv)
    if a.role == "receiver":
        _receiver()
    elif a.role == "mock":
        _mock(a.args[0], a.accounts)
    elif a.role == "poster":
        _poster(a.args[0], int(a.args[1]), int(a.args[2]))
    else:
        results = measure(a.quick)
        print(render(results))
        if a.json:
            Path(a.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
