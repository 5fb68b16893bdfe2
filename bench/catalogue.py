"""The full toolkit catalogue (530 toolkits) against the old 22-toolkit one, measured in the
same run: ``python -m bench.catalogue [--quick] [--json FILE]``.

* ``GET /api/v3.1/toolkits?limit=20``, ``GET /api/v3.1/toolkits?search=mail&limit=20``,
  ``GET /api/v3.1/toolkits?category=crm&limit=20`` and ``GET /api/v3.1/toolkits/{slug}``
  through the real aiohttp app (loopback HTTP, aiohttp client), both catalogues served by one
  process and interleaved request by request, so machine noise hits both alike. Medians of
  per-request latency.
* Tenant creation (``engine.project(new key)``) and ``engine.reset`` with each catalogue.
* Memory: RSS of a fresh interpreter after loading each catalogue, and RSS growth per 1,000
  tenants with each (each in its own subprocess).

The old catalogue is ``fixtures/toolkits.json`` (the 22 curated entries) loaded by the same
code. Prints a Markdown table; ratios are full / old.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

OLD = "old"
FULL = "full"


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _catalogue(which: str) -> Any:
    from mockcomposio.domain.catalogue import Catalogue
    from mockcomposio.resources import fixture_path

    return Catalogue.load() if which == FULL else Catalogue.load(fixture_path("toolkits.json"))


# -- HTTP -----------------------------------------------------------------------------------------

async def _http(n: int) -> dict[str, Any]:
    from aiohttp.test_utils import TestClient, TestServer

    from mockcomposio.engine import Engine
    from mockcomposio.http.app import create_app

    clients = {}
    for which in (OLD, FULL):
        client = TestClient(TestServer(create_app(Engine(_catalogue(which)))))
        await client.start_server()
        clients[which] = client
    headers = {"x-api-key": "bench"}
    paths = {
        "GET /toolkits?limit=20": "/api/v3.1/toolkits?limit=20",
        "GET /toolkits?search=mail&limit=20": "/api/v3.1/toolkits?search=mail&limit=20",
        "GET /toolkits?category=crm&limit=20": "/api/v3.1/toolkits?category=crm&limit=20",
        "GET /toolkits/gmail": "/api/v3.1/toolkits/gmail",
        "GET /toolkits/{unknown} (404, did you mean; repeated typo)":
            "/api/v3.1/toolkits/gmial",
    }
    out: dict[str, Any] = {}
    try:
        for label, path in paths.items():
            samples: dict[str, list[float]] = {OLD: [], FULL: []}
            sizes: dict[str, int] = {}
            for i in range(n + 50):
                for which in ((OLD, FULL) if i % 2 else (FULL, OLD)):
                    started = time.perf_counter()
                    resp = await clients[which].get(path, headers=headers)
                    body = await resp.read()
                    elapsed = time.perf_counter() - started
                    assert resp.status in (200, 404), body[:200]
                    if i >= 50:  # warm-up excluded
                        samples[which].append(elapsed)
                    sizes[which] = len(body)
            out[label] = {w: {"median_us": statistics.median(s) * 1e6, "bytes": sizes[w]}
                          for w, s in samples.items()}
        # a typo never seen before: the "did you mean" search itself, in-process
        fresh: dict[str, list[float]] = {OLD: [], FULL: []}
        for which in (OLD, FULL):
            catalogue = _catalogue(which)
            for i in range(max(50, n // 10)):
                started = time.perf_counter()
                catalogue.suggest(f"gmial{i}")
                fresh[which].append(time.perf_counter() - started)
        out["did you mean, first time for a slug (in-process suggest())"] = {
            w: {"median_us": statistics.median(s) * 1e6, "bytes": 0} for w, s in fresh.items()}
        # the filter itself, uncached (the route caches results per query)
        for label, kwargs in (("search=mail", {"search": "mail"}),
                              ("category=crm", {"category": "crm"}),
                              ("managed_by=composio", {"managed_by": "composio"})):
            raw: dict[str, list[float]] = {OLD: [], FULL: []}
            for which in (OLD, FULL):
                catalogue = _catalogue(which)
                for _ in range(max(100, n // 5)):
                    started = time.perf_counter()
                    catalogue._filter(**kwargs)
                    raw[which].append(time.perf_counter() - started)
            out[f"filter {label}, uncached (in-process)"] = {
                w: {"median_us": statistics.median(s) * 1e6, "bytes": 0}
                for w, s in raw.items()}
    finally:
        for client in clients.values():
            await client.close()
    return out


# -- tenants --------------------------------------------------------------------------------------

def _tenants(n: int) -> dict[str, Any]:
    from mockcomposio.engine import Engine

    out: dict[str, Any] = {}
    engines = {w: Engine(_catalogue(w)) for w in (OLD, FULL)}
    for engine in engines.values():
        for i in range(200):  # warm-up
            engine.project(f"warm-{i}")
    create: dict[str, list[float]] = {OLD: [], FULL: []}
    reset: dict[str, list[float]] = {OLD: [], FULL: []}
    for i in range(n):
        for which in ((OLD, FULL) if i % 2 else (FULL, OLD)):
            engine = engines[which]
            started = time.perf_counter()
            engine.project(f"t-{i}")
            create[which].append(time.perf_counter() - started)
            started = time.perf_counter()
            engine.reset(f"t-{i}")
            reset[which].append(time.perf_counter() - started)
    for which in (OLD, FULL):
        out[which] = {"create_us": statistics.median(create[which]) * 1e6,
                      "reset_us": statistics.median(reset[which]) * 1e6}
    return out


def _memory_child(which: str, tenants: int) -> dict[str, float]:
    gc.collect()
    start = rss_mb()
    import mockcomposio.engine  # noqa: F401  (imports counted in neither figure)

    gc.collect()
    imported = rss_mb()
    started = time.perf_counter()
    catalogue = _catalogue(which)
    len(catalogue)  # the built-in catalogue is built on first use
    load_ms = (time.perf_counter() - started) * 1e3
    from mockcomposio.engine import Engine

    engine = Engine(catalogue)
    gc.collect()
    loaded = rss_mb()
    for i in range(tenants):
        engine.project(f"tenant-{i}")
    gc.collect()
    after = rss_mb()
    return {"import_mb": imported - start, "catalogue_mb": loaded - imported, "load_ms": load_ms,
            "per_1000_tenants_mb": (after - loaded) * 1000 / tenants, "toolkits": len(catalogue)}


def _memory(tenants: int) -> dict[str, Any]:
    out = {}
    for which in (OLD, FULL):
        proc = subprocess.run([sys.executable, "-m", "bench.catalogue", "--memory-child", which,
                               "--tenants", str(tenants)], capture_output=True, text=True,
                              check=True)
        out[which] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


# -- report ---------------------------------------------------------------------------------------

def _ratio(full: float, old: float) -> str:
    return f"{full / old:.2f}" if old else "n/a"


def render(results: dict[str, Any]) -> str:
    lines = [f"Run {results['when']}, {os.cpu_count()} cores, Python "
             f"{sys.version.split()[0]}, load average {results['load']:.1f} at the start; "
             f"{results['requests']} requests per path and catalogue, interleaved.", "",
             "| measurement | old catalogue (22) | full catalogue (530) | full / old |",
             "|---|---:|---:|---:|"]
    for label, r in results["http"].items():
        size = (f" ({r[OLD]['bytes']:,} / {r[FULL]['bytes']:,} bytes)"
                if r[OLD]["bytes"] else "")
        where = "" if "in-process" in label else " median latency, loopback HTTP"
        lines.append(f"| `{label}`{where}{size} | "
                     f"{r[OLD]['median_us']:.0f} µs | {r[FULL]['median_us']:.0f} µs | "
                     f"{_ratio(r[FULL]['median_us'], r[OLD]['median_us'])} |")
    t = results["tenants"]
    lines.append(f"| tenant creation (`engine.project(new key)`) | {t[OLD]['create_us']:.1f} µs "
                 f"| {t[FULL]['create_us']:.1f} µs | "
                 f"{_ratio(t[FULL]['create_us'], t[OLD]['create_us'])} |")
    lines.append(f"| tenant reset (`engine.reset`) | {t[OLD]['reset_us']:.1f} µs | "
                 f"{t[FULL]['reset_us']:.1f} µs | "
                 f"{_ratio(t[FULL]['reset_us'], t[OLD]['reset_us'])} |")
    m = results["memory"]
    lines.append(f"| RSS of the loaded catalogue (once per process) | "
                 f"{m[OLD]['catalogue_mb']:.1f} MB | {m[FULL]['catalogue_mb']:.1f} MB | "
                 f"{_ratio(m[FULL]['catalogue_mb'], m[OLD]['catalogue_mb'])} |")
    lines.append(f"| catalogue load + index (once per process, on first use) | "
                 f"{m[OLD]['load_ms']:.1f} ms | {m[FULL]['load_ms']:.1f} ms | "
                 f"{_ratio(m[FULL]['load_ms'], m[OLD]['load_ms'])} |")
    lines.append(f"| RSS per 1,000 tenants | {m[OLD]['per_1000_tenants_mb']:.2f} MB | "
                 f"{m[FULL]['per_1000_tenants_mb']:.2f} MB | "
                 f"{_ratio(m[FULL]['per_1000_tenants_mb'], m[OLD]['per_1000_tenants_mb'])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.catalogue")
    parser.add_argument("--quick", action="store_true", help="fewer samples (smoke test)")
    parser.add_argument("--json", metavar="FILE", help="also write the raw numbers here")
    parser.add_argument("--memory-child", choices=[OLD, FULL], help=argparse.SUPPRESS)
    parser.add_argument("--tenants", type=int, default=2000, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        print(json.dumps(_memory_child(args.memory_child, args.tenants)))
        return 0
    n = 200 if args.quick else 1000
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load": os.getloadavg()[0],
        "requests": n,
        "http": asyncio.run(_http(n)),
        "tenants": _tenants(2000 if args.quick else 10000),
        "memory": _memory(1000 if args.quick else 5000),
    }
    print(render(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
