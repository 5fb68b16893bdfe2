"""Issue 19's measurements against real ``mockcomposio serve`` processes
(``python -m bench.hardening [inspector|save|soak ...]``):

* ``inspector``: the inspector's data call with 20,000 idle tenants present (``--max-tenants
  0``): every tenant (admin key; the 50 most recently used are listed) and one tenant (its
  API key), and how long it holds up other requests, against ``/_mock/health`` on the same
  server as the baseline.
* ``save``: a server with a large ``--state-file`` state; request latency while saves run
  against the same requests with no saves due, and the loss window (an acknowledged write
  until the state file holds it).
* ``soak``: >= 50,000 requests over >= 20,000 API keys (stray unrouted keys, refused 900 KB
  bodies, account churn) with the server's RSS before and after.

Each prints one JSON line per measurement; ``--markdown`` prints the table for
bench/RESULTS.md. The soak is also run (smaller) by tests/test_rel_soak.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

V31 = "/api/v3.1"
ADMIN = {"x-mock-admin-key": "bench-admin"}  # the inspector's all-tenant view


# -- a server process ---------------------------------------------------------------------------

class Server:
    def __init__(self, proc: subprocess.Popen[str], base_url: str) -> None:
        self.proc = proc
        self.base_url = base_url

    def rss_mb(self) -> float:
        """Resident set size of the server process, from /proc."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")


@contextmanager
def serve(*args: str) -> Iterator[Server]:
    proc = subprocess.Popen([sys.executable, "-m", "mockcomposio", "serve", "--port", "0",
                             "--log-level", "warning", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("http://"):
            raise RuntimeError(f"server did not start: {line!r}")
        yield Server(proc, line)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


async def _many(n: int, concurrency: int, make: Callable[[int], Awaitable[None]]) -> None:
    """``make(i)`` for i in range(n), ``concurrency`` at a time."""
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            await make(i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _timed(session: aiohttp.ClientSession, method: str, url: str,
                 **kwargs: Any) -> float:
    started = time.perf_counter()
    async with session.request(method, url, **kwargs) as resp:
        await resp.read()
        assert resp.status < 500, (url, resp.status)
    return (time.perf_counter() - started) * 1000


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _p99(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.99) - 1)] if values else 0.0


# -- inspector with 20,000 idle tenants ---------------------------------------------------------

async def _inspector(base: str, tenants: int, repeats: int) -> dict[str, Any]:
    async with aiohttp.ClientSession() as s:
        async def touch(i: int) -> None:
            async with s.get(f"{base}{V31}/auth_configs",
                             headers={"x-api-key": f"idle-{i}"}) as resp:
                await resp.read()

        await _many(tenants, 32, touch)
        async with s.get(f"{base}/_mock/health") as resp:
            live = (await resp.json())["projects"]
        health = [await _timed(s, "GET", f"{base}/_mock/health") for _ in range(repeats)]
        data_all = [await _timed(s, "GET", f"{base}/_mock/inspector/data", headers=ADMIN)
                    for _ in range(repeats)]
        data_one = [await _timed(s, "GET", f"{base}/_mock/inspector/data",
                                 headers={"x-api-key": "idle-7"}) for _ in range(repeats)]
        # How long a data call holds up another request: health checks fired while it runs.
        stalls = []
        for _ in range(repeats):
            data = asyncio.ensure_future(_timed(s, "GET", f"{base}/_mock/inspector/data",
                                                headers=ADMIN))
            await asyncio.sleep(0.002)
            stalls.append(await _timed(s, "GET", f"{base}/_mock/health"))
            await data
    return {"measurement": "inspector", "tenants": live,
            "health_ms": _median(health), "data_all_ms": _median(data_all),
            "data_all_max_ms": max(data_all), "data_one_tenant_ms": _median(data_one),
            "health_during_data_ms": _median(stalls),
            "data_all_x_health": _median(data_all) / _median(health)}


def bench_inspector(tenants: int = 20_000, repeats: int = 30) -> dict[str, Any]:
    with serve("--admin-key", ADMIN["x-mock-admin-key"], "--max-tenants", "0") as server:
        return asyncio.run(_inspector(server.base_url, tenants, repeats))


# -- saves of a large state ---------------------------------------------------------------------

def _seed_doc(tenants: int, accounts: int) -> dict[str, Any]:
    return {"tenants": [{"api_key": f"big-{t}", "connected_accounts": [
        {"auth_config": "gmail", "user_id": f"user-{a}"} for a in range(accounts)]}
        for t in range(tenants)]}


async def _save(base: str, state: Path, writes: int) -> dict[str, Any]:
    latencies: list[float] = []
    windows: list[float] = []
    async with aiohttp.ClientSession() as s:
        for i in range(writes):
            started = time.perf_counter()
            async with s.post(f"{base}{V31}/auth_configs",
                              json={"toolkit": {"slug": "github"}},
                              headers={"x-api-key": f"big-{i % 10}"}) as resp:
                created = await resp.json()
                assert resp.status == 201
            acked = time.perf_counter()
            latencies.append((acked - started) * 1000)
            marker = created["auth_config"]["id"].encode()  # on disk once saved
            seen = -1
            while True:  # read the file again only when a save has replaced it
                mtime = state.stat().st_mtime_ns
                if mtime != seen:
                    seen = mtime
                    if marker in state.read_bytes():
                        break
                await asyncio.sleep(0.005)
            windows.append((time.perf_counter() - acked) * 1000)
        # Latency of requests while saves keep running back to back.
        during: list[float] = []
        deadline = time.perf_counter() + 5
        i = 0
        while time.perf_counter() < deadline:
            during.append(await _timed(s, "GET", f"{base}{V31}/auth_configs",
                                       headers={"x-api-key": f"big-{i % 50}"}))
            i += 1
    return {"measurement": "save", "state_mb": round(state.stat().st_size / 2**20, 1),
            "write_ack_ms": _median(latencies), "loss_window_median_ms": _median(windows),
            "loss_window_max_ms": max(windows), "request_during_saves_p50_ms": _median(during),
            "request_during_saves_p99_ms": _p99(during),
            "request_during_saves_max_ms": max(during)}


async def _quiet_baseline(base: str, n: int) -> list[float]:
    async with aiohttp.ClientSession() as s:
        return [await _timed(s, "GET", f"{base}{V31}/auth_configs",
                             headers={"x-api-key": f"big-{i % 50}"}) for i in range(n)]


def bench_save(tenants: int = 120, accounts: int = 20, writes: int = 30) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        seed = Path(tmp) / "seed.json"
        seed.write_text(json.dumps(_seed_doc(tenants, accounts)))
        state = Path(tmp) / "state.json"
        # The same state without a state file: the baseline for request latency.
        with serve("--seed-file", str(seed), "--max-tenants", "0") as plain:
            quiet = asyncio.run(_quiet_baseline(plain.base_url, 2000))
        with serve("--seed-file", str(seed), "--state-file", str(state),
                   "--max-tenants", "0") as server:
            while not state.exists():
                time.sleep(0.05)
            out = asyncio.run(_save(server.base_url, state, writes))
    out["request_no_state_file_p50_ms"] = _median(quiet)
    out["request_no_state_file_max_ms"] = max(quiet)
    out["during_saves_max_x_quiet_max"] = out["request_during_saves_max_ms"] / max(quiet)
    return out


# -- the soak -----------------------------------------------------------------------------------

async def _soak(base: str, keys: int, stray: int, big: int, churn: int,
                extra: int) -> dict[str, int]:
    counts = {"requests": 0, "5xx": 0}
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as s:
        async def call(method: str, path: str, key: str, headers: dict[str, str] | None = None,
                       **kwargs: Any) -> Any:
            async with s.request(method, base + path, headers={"x-api-key": key,
                                                               **(headers or {})},
                                 **kwargs) as resp:
                body = await resp.read()
                counts["requests"] += 1
                if resp.status >= 500:
                    counts["5xx"] += 1
                return json.loads(body) if body[:1] == b"{" else None

        await _many(keys, 32, lambda i: call("GET", f"{V31}/auth_configs", f"soak-{i}"))
        await _many(stray, 32, lambda i: call("GET", f"/nowhere/{i}", f"stray-{i}"))
        payload = json.dumps({"toolkit": 5, "pad": "x" * 900_000}).encode()
        await _many(big, 4, lambda i: call("POST", f"{V31}/auth_configs", f"big-{i % 3}",
                                           data=payload,
                                           headers={"content-type": "application/json"}))
        ac = (await call("POST", f"{V31}/auth_configs", "churn",
                         json={"toolkit": {"slug": "github"}}))["auth_config"]["id"]

        async def create_delete(i: int) -> None:
            out = await call("POST", f"{V31}/connected_accounts/link", "churn",
                             json={"auth_config_id": ac, "user_id": f"u{i}"})
            await call("DELETE", f"{V31}/connected_accounts/{out['connected_account_id']}",
                       "churn")

        await _many(churn, 16, create_delete)
        await _many(extra, 32, lambda i: call("GET", f"{V31}/auth_configs",
                                              f"soak-{i % keys}"))
    return counts


def soak(keys: int = 20_000, stray: int = 20_000, big: int = 300, churn: int = 3_000,
         extra: int = 4_000, max_tenants: int | None = None) -> dict[str, Any]:
    args = [] if max_tenants is None else ["--max-tenants", str(max_tenants)]
    with serve(*args) as server:
        # Warm up (imports, first tenant, catalogue) before the "before" reading.
        asyncio.run(_soak(server.base_url, 50, 10, 1, 5, 10))
        before = server.rss_mb()
        started = time.perf_counter()
        counts = asyncio.run(_soak(server.base_url, keys, stray, big, churn, extra))
        elapsed = time.perf_counter() - started
        after = server.rss_mb()
        import urllib.request

        with urllib.request.urlopen(f"{server.base_url}/_mock/health", timeout=30) as resp:
            tenants = json.loads(resp.read())["projects"]
    return {"measurement": "soak", **counts, "keys": keys + stray + 3 + 1,
            "tenants_live": tenants, "rss_before_mb": round(before, 1),
            "rss_after_mb": round(after, 1), "rss_growth_mb": round(after - before, 1),
            "seconds": round(elapsed, 1)}


def _markdown(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        kind = row.pop("measurement")
        lines.append(f"| {kind} | " + ", ".join(
            f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())
            + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hardening")
    parser.add_argument("what", nargs="*", default=["inspector", "save", "soak"],
                        choices=["inspector", "save", "soak"])
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    for what in args.what:
        row = {"inspector": bench_inspector, "save": bench_save, "soak": soak}[what]()
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.markdown:
        print(_markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
