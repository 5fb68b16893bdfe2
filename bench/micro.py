"""In-process measurements, each run in a fresh interpreter by ``bench/run.py``
(``python -m bench.micro NAME [--quick]`` prints one JSON object).

fixture   the plugin's per-test tenant setup + teardown (its real ``_new_tenant`` and the
          ``engine.drop`` of the fixture's teardown, without pytest around them), against
          pytest-httpserver's per-test ``clear()`` when installed.
flow      the whole redirect flow (link -> consent -> callback -> ACTIVE): in-process through
          the domain, and over loopback HTTP as a test does it (POST link, ConsentDriver walks
          the pages, GET the account) against the plugin's threaded LiveServer.
scale     100,000 connected accounts across 10,000 users in one tenant, made through the
          domain's ``initiate`` with API-key credentials (the fast path: no OAuth round trip,
          no provider records); RSS delta, filtered lists through the domain and through the
          HTTP app, reset time against tenant size.
contracts strict-mode validation cost per response: jsonschema_rs fast path vs jsonschema
          alone, and the one-off compile cost of each.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

BASE = "http://127.0.0.1:9"  # never contacted by the in-process measurements


def per_call(fn: Callable[[int], object], n: int, warmup: int = 20) -> list[float]:
    """Seconds per call of ``fn(i)``, one sample per call."""
    for i in range(warmup):
        fn(-1 - i)
    out = []
    clock = time.perf_counter
    for i in range(n):
        started = clock()
        fn(i)
        out.append(clock() - started)
    return out


def med_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# -- fixture overhead --------------------------------------------------------------------------

def fixture(quick: bool) -> dict[str, Any]:
    import pytest

    from mockcomposio import pytest_plugin as plugin
    from mockcomposio.engine import Engine

    n = 2000 if quick else 20000
    server = SimpleNamespace(engine=Engine(), base_url=BASE)
    out: dict[str, Any] = {}
    for strict in (False, True):
        config = SimpleNamespace(stash=pytest.Stash())
        config.stash[plugin._SETTINGS] = plugin.Settings("0", "manual", strict, True)

        def one(i: int, config: Any = config) -> None:
            tenant = plugin._new_tenant(server, config, f"tests/test_app.py::test_{i}", {}, 0)
            server.engine.drop(tenant.api_key)  # the fixture's teardown
            del tenant  # the last reference: the project is freed here

        out["strict" if strict else "default"] = med_us(per_call(one, n))
    try:
        from pytest_httpserver import HTTPServer
    except ImportError:
        out["httpserver_clear"] = None
    else:
        httpserver = HTTPServer()
        httpserver.start()
        try:
            def clear(i: int) -> None:
                httpserver.clear()

            def one_test(i: int) -> None:  # a test registered one handler; clear() drops it
                httpserver.expect_request("/x").respond_with_json({"a": 1})

            samples = []
            for i in range(n):
                one_test(i)
                started = time.perf_counter()
                clear(i)
                samples.append(time.perf_counter() - started)
            out["httpserver_clear"] = med_us(samples)
        finally:
            httpserver.stop()
    return out


# -- redirect flow -----------------------------------------------------------------------------

def flow(quick: bool) -> dict[str, Any]:
    import urllib.request

    from mockcomposio.domain import connected_accounts, consent
    from mockcomposio.domain.connected_accounts import Origin
    from mockcomposio.engine import Engine
    from mockcomposio.server import LiveServer
    from mockcomposio.tenant import Tenant
    from mockcomposio.testing import Outcome

    n = 200 if quick else 1000
    engine = Engine(seed=1)
    tenant = Tenant(engine, "bench-flow", BASE)
    ac = tenant.add_auth_config("github")
    project = tenant.project
    origin = Origin(BASE)

    def in_process(i: int) -> None:
        with project.lock:
            account, link, _ = connected_accounts.link(
                project, origin, auth_config_id=ac.id, user_id=f"user-{i}",
                callback_url="https://app.example/cb")
            result = consent.complete_link(project, origin, link, Outcome())
        assert result.status == "success" and account.status == "ACTIVE", result

    out: dict[str, Any] = {"in_process_ms": med_us(per_call(in_process, n)) / 1000}

    with LiveServer(Engine(seed=2)) as live:
        http_tenant = Tenant(live.engine, "bench-flow-http", live.base_url)
        http_ac = http_tenant.add_auth_config("github")
        headers = {"x-api-key": http_tenant.api_key, "content-type": "application/json"}
        api = f"{live.base_url}/api/v3.1/connected_accounts"

        def over_http(i: int) -> None:
            body = json.dumps({"auth_config_id": http_ac.id, "user_id": f"user-{i}",
                               "callback_url": "https://app.example/cb"}).encode()
            request = urllib.request.Request(f"{api}/link", data=body, headers=headers)
            with urllib.request.urlopen(request) as r:
                created = json.loads(r.read())
            result = http_tenant.consent.complete(created["redirect_url"])
            with urllib.request.urlopen(urllib.request.Request(
                    f"{api}/{created['connected_account_id']}", headers=headers)) as r:
                status = json.loads(r.read())["status"]
            assert result.status == "success" and status == "ACTIVE", (result, status)

        out["http_ms"] = med_us(per_call(over_http, n // 4, warmup=5)) / 1000
    return out


# -- scale -------------------------------------------------------------------------------------

def _build(engine: Any, api_key: str, accounts: int, users: int) -> tuple[Any, float]:
    """``accounts`` ACTIVE API-key accounts across ``users`` users, through the domain (no
    Tenant handle: it would tie the project into a reference cycle, and the freeing timed
    below should be what refcounting does)."""
    from mockcomposio.domain import auth_configs, connected_accounts
    from mockcomposio.domain.connected_accounts import Origin

    project = engine.project(api_key)
    origin = Origin(BASE)
    started = time.perf_counter()
    with project.lock:
        ac = auth_configs.create(
            project, "serpapi", {"type": auth_configs.CUSTOM, "auth_scheme": "API_KEY"},
            default_redirect_uri=origin.url(connected_accounts.CALLBACK_PATH_V31))
        for i in range(accounts):
            connected_accounts.initiate(
                project, origin, auth_config_id=ac.id, user_id=f"user-{i % users}",
                callback_url=None, alias=None,
                state={"authScheme": "API_KEY",
                       "val": {"status": "ACTIVE", "generic_api_key": f"key-{i}"}})
    return project, time.perf_counter() - started


def _lists(engine: Any, project: Any, users: int, quick: bool) -> dict[str, Any]:
    import asyncio

    from aiohttp.test_utils import TestClient, TestServer

    from mockcomposio.domain import connected_accounts, render
    from mockcomposio.domain.pagination import paginate
    from mockcomposio.http.app import create_app

    out: dict[str, Any] = {}
    rng = random.Random(1)
    n = 300 if quick else 1000

    def domain_list(i: int, **filters: Any) -> None:
        items = connected_accounts.list_accounts(
            project, user_ids=[f"user-{rng.randrange(users)}"], **filters)
        page = paginate(items, limit=20, cursor=None,
                        render=lambda a: render.connected_account(project, a,
                                                                  with_params=False))
        assert page["items"]

    out["list_domain_ms"] = med_us(per_call(domain_list, n)) / 1000
    out["list_domain_3filters_ms"] = med_us(per_call(
        lambda i: domain_list(i, statuses=["ACTIVE"], toolkit_slugs=["serpapi"]), n)) / 1000
    out["list_unfiltered_domain_ms"] = med_us(per_call(
        lambda i: paginate(connected_accounts.list_accounts(project), limit=20, cursor=None,
                           render=lambda a: render.connected_account(project, a)),
        10 if quick else 30, warmup=2)) / 1000

    async def over_http() -> float:
        client = TestClient(TestServer(create_app(engine)))
        await client.start_server()
        samples = []
        try:
            for i in range(n + 20):
                started = time.perf_counter()
                r = await client.get("/api/v3.1/connected_accounts", headers={
                    "x-api-key": "big"}, params={"user_ids": f"user-{rng.randrange(users)}",
                                                 "limit": "20"})
                body = await r.json()
                if i >= 20:
                    samples.append(time.perf_counter() - started)
                assert r.status == 200 and body["items"], body
        finally:
            await client.close()
        return med_us(samples) / 1000

    out["list_http_ms"] = asyncio.run(over_http())
    return out


def scale(quick: bool) -> dict[str, Any]:
    from mockcomposio.engine import Engine

    accounts, users = (20_000, 2_000) if quick else (100_000, 10_000)
    engine = Engine(seed=1)
    gc.collect()
    before = rss_mb()
    project, build_s = _build(engine, "big", accounts, users)
    gc.collect()
    out: dict[str, Any] = {"accounts": accounts, "users": users,
                           "build_us_per_account": build_s / accounts * 1e6,
                           "rss_mb": rss_mb() - before}
    out.update(_lists(engine, project, users, quick))

    # reset: engine.reset swaps in a fresh Project, whatever the old one holds. Freeing the old
    # one is timed apart: it happens wherever the last reference goes (for the plugin, when
    # the test's Tenant handle dies at teardown), and costs what freeing its objects costs.
    resets: dict[str, Any] = {}
    big = project
    del project
    engine.drop("big")  # from now on under its reset-<size> key only
    for size in (0, 1_000, 10_000, accounts):
        key = f"reset-{size}"
        old = big if size == accounts else _build(engine, key, size, max(1, size // 10))[0]
        samples = []
        for _ in range(7):
            engine._projects[key] = old  # the same populated tenant back under its key
            started = time.perf_counter()
            engine.reset(key)
            samples.append(time.perf_counter() - started)
        engine.drop(key)
        if size == accounts:
            del big
        gc.collect()
        gc.disable()
        started = time.perf_counter()
        del old  # the last reference: refcounting frees every object of the tenant here
        free_s = time.perf_counter() - started
        gc.enable()
        resets[str(size)] = {"reset_us": med_us(samples), "free_ms": free_s * 1000}
    out["reset"] = resets
    return out


# -- contract validation -------------------------------------------------------------------

def contract_cost(quick: bool) -> dict[str, Any]:
    from mockcomposio import contracts
    from mockcomposio.domain import connected_accounts, render
    from mockcomposio.domain.pagination import paginate
    from mockcomposio.engine import Engine
    from mockcomposio.http.routes import ROUTES
    from mockcomposio.tenant import Tenant

    operations = sorted({r.operation for r in ROUTES})
    caches = [contracts._documents, contracts._registry, contracts._fast_registry,
              contracts._fast_validator, contracts._validator, contracts._response_doc,
              contracts._response_validator]
    compile_s = {}
    for fast in (True, False):
        for c in caches:
            c.cache_clear()
        contracts.set_fast_path(fast)
        started = time.perf_counter()
        contracts.warm_up(operations)
        compile_s["fast" if fast else "jsonschema"] = time.perf_counter() - started

    tenant = Tenant(Engine(seed=1), "bench-contracts", BASE)
    ac = tenant.add_auth_config("github")
    for i in range(20):
        tenant.add_account(ac, f"user-{i % 4}")
    project = tenant.project
    listed = paginate(connected_accounts.list_accounts(project), limit=20, cursor=None,
                      render=lambda a: render.connected_account(project, a, with_params=False))
    one = next(iter(project.accounts.values()))
    cases = {
        "auth_configs.get": (200, render.auth_config(project, ac)),
        "connected_accounts.get": (200, render.connected_account(project, one)),
        "connected_accounts.list": (200, listed),
    }
    n_fast, n_slow = (200, 10) if quick else (1000, 30)
    rows = {}
    for operation, (status, payload) in cases.items():
        size = len(json.dumps(payload))
        timings = {}
        for fast, n in ((True, n_fast), (False, n_slow)):
            contracts.set_fast_path(fast)

            def check(i: int, operation: str = operation, status: int = status,
                      payload: Any = payload) -> None:
                assert contracts.response_problems(operation, status, payload) == []

            timings["fast" if fast else "jsonschema"] = med_us(per_call(check, n, warmup=3))
        rows[operation] = {"bytes": size, **timings}
    contracts.set_fast_path(True)
    body = {"auth_config_id": ac.id, "user_id": "user-1", "callback_url": "https://a.example/"}
    req = {}
    for fast in (True, False):
        contracts.set_fast_path(fast)
        req["fast" if fast else "jsonschema"] = med_us(per_call(
            lambda i: contracts.validate_request("connected_accounts.link", body), n_slow * 5))
    rows["request connected_accounts.link"] = {"bytes": len(json.dumps(body)), **req}
    return {"compile_s": compile_s, "rows": rows}


MEASUREMENTS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "fixture": fixture, "flow": flow, "scale": scale, "contracts": contract_cost}


def run_measurement(measurements: dict[str, Callable[[bool], dict[str, Any]]],
                    argv: list[str] | None = None) -> int:
    """``python -m bench.<module> NAME [--quick]``: one measurement, its result as JSON on stdout
    (the parent bench runs each in a fresh process)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("name", choices=sorted(measurements))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    print(json.dumps(measurements[args.name](args.quick)))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_measurement(MEASUREMENTS, argv)


if __name__ == "__main__":
    raise SystemExit(main())
