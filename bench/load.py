"""The load generator: an aiohttp client (httpx.AsyncClient is too slow to load a server here)
sending GETs at a fixed concurrency for a fixed time, recording every latency."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    probed: float  # probe() after the measured phase minus before (e.g. server CPU seconds)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


async def _run(url: str, headers: dict[str, str], concurrency: int, seconds: float,
               warmup: float, probe: Callable[[], float]) -> LoadResult:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        async def worker(until: float, record: bool) -> None:
            nonlocal errors
            while True:
                started = time.perf_counter()
                if started >= until:
                    return
                async with session.get(url) as response:
                    await response.read()
                    ok = response.status == 200
                if record:
                    latencies.append(time.perf_counter() - started)
                    errors += not ok

        # warm up: open the connections, fill caches, let the server JIT its validators
        until = time.perf_counter() + warmup
        await asyncio.gather(*(worker(until, False) for _ in range(concurrency)))
        probed = probe()
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(worker(until, True) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        probed = probe() - probed
    latencies.sort()
    return LoadResult(len(latencies), elapsed, statistics.median(latencies) * 1000,
                      latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
                      errors, probed)


def run_load(url: str, headers: dict[str, str], concurrency: int, seconds: float,
             warmup: float = 0.3, probe: Callable[[], float] = lambda: 0.0) -> LoadResult:
    return asyncio.run(_run(url, headers, concurrency, seconds, warmup, probe))
