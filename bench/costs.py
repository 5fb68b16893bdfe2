"""What a downstream suite pays, each run in a fresh interpreter by ``bench/run.py``
(``python -m bench.costs NAME [--quick]`` prints one JSON object). Every figure comes with the
baseline it is compared to, measured in the same run, in interleaved rounds.

plugin    pytest start-up: our plugin's import (in-process timer, pytest loaded) and which heavy
          modules it pulls in; whole ``pytest --co`` processes (plugin autoload off) with no
          plugin, with faker's pytest plugin, and with ours (wall time and peak RSS).
pertest   pytest runs of N trivial tests using ``mock_composio`` vs a no-op fixture (N = 300 and
          3,000: the slope is the per-test cost, start-up cancels out), and the garbage
          collector's time in each run.
tenant    engine tenant create + drop (what the fixture does besides pytest), the plugin's own
          ``_new_tenant`` + drop, whether a dropped tenant that ran an OAuth flow is freed by
          refcounting alone, and the first redirect flow in a fresh tenant vs the next flows.
growth    list latency (domain: filter + page of 20 + render) for each filter shape and RSS, at
          1k / 10k / 100k accounts, for OAuth accounts made through the real flow (link ->
          consent -> provider -> callback) and for API-key accounts.
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# the same timers as the micro bench
from .micro import BASE, med_us, per_call, rss_mb, run_measurement

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("faker", "oauthlib", "jsonschema", "jsonschema_rs", "referencing", "aiohttp",
         "mockcomposio.engine", "mockcomposio.domain.project")


def _env(autoload: bool = True) -> dict[str, str]:
    env = dict(os.environ)
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                     else "")
    env.pop("PYTEST_ADDOPTS", None)
    return env


# -- plugin import and pytest start-up ---------------------------------------------------------

IMPORT_PLUGIN = f"""
import sys, time
import pytest
t = time.perf_counter()
import mockcomposio.testing.plugin
dt = time.perf_counter() - t
import json
print(json.dumps({{"s": dt, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""

PYTEST_RSS = """
import resource, sys, time
t = time.perf_counter()
import pytest
rc = pytest.main(sys.argv[1:])
dt = time.perf_counter() - t
import json
print(json.dumps({"s": dt, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "faker": "faker" in sys.modules}))
"""


def child_cpu() -> float:
    """CPU seconds (user + system) of every waited-for child so far: unlike wall time, barely
    moved by the other processes of a shared machine."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _last_json(args: list[str], cwd: Path | None = None, autoload: bool = True,
               ) -> dict[str, Any]:
    cpu = child_cpu()
    out = subprocess.run(args, cwd=cwd or ROOT, env=_env(autoload), capture_output=True, text=True,
                         check=False)
    cpu = child_cpu() - cpu
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"{args}: {out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return {**json.loads(lines[-1]), "cpu_s": cpu}


def plugin(quick: bool) -> dict[str, Any]:
    rounds = 3 if quick else 9
    imports = [_last_json([sys.executable, "-c", IMPORT_PLUGIN]) for _ in range(rounds)]
    empty = Path(tempfile.mkdtemp(prefix="mockcomposio-bench-empty-"))
    (empty / "test_empty.py").write_text("def test_nothing():\n    pass\n")
    # Other installed plugins (the composio SDK's, pytest-asyncio, ...) are not ours to
    # measure: autoloading is off and each variant names its plugins.
    variants = {"bare": [], "faker": ["-p", "faker.contrib.pytest.plugin"],
                "ours": ["-p", "mockcomposio.testing.plugin"]}
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in variants}
    base = ["-q", "--co", "-p", "no:cacheprovider", str(empty)]
    for _ in range(rounds):  # interleaved: load on the machine hits every variant alike
        for name, extra in variants.items():
            runs[name].append(_last_json([sys.executable, "-c", PYTEST_RSS, *base, *extra],
                                         cwd=empty, autoload=False))
    out: dict[str, Any] = {
        "import_ms": statistics.median(r["s"] for r in imports) * 1000,
        "heavy_imported": imports[0]["heavy"],
        "faker_imported_by_its_plugin": runs["faker"][0]["faker"],
    }
    for name in variants:
        out[f"pytest_{name}_ms"] = statistics.median(r["s"] for r in runs[name]) * 1000
        out[f"pytest_{name}_rss_mb"] = statistics.median(r["rss_mb"] for r in runs[name])
        out[f"pytest_{name}_cpu_ms"] = statistics.median(r["cpu_s"] for r in runs[name]) * 1000
    return out


# -- per-test overhead under pytest ------------------------------------------------------------

CONFTEST = '''
import gc, json, os, time
import pytest

_gc = [0, 0.0, 0.0]

def _cb(phase, info):
    if phase == "start":
        _gc[2] = time.perf_counter()
    else:
        _gc[0] += 1
        _gc[1] += time.perf_counter() - _gc[2]

def pytest_sessionstart(session):
    gc.callbacks.append(_cb)

def pytest_sessionfinish(session):
    with open(os.environ["BENCH_GC_OUT"], "w") as f:
        json.dump({"collections": _gc[0], "seconds": _gc[1]}, f)

@pytest.fixture
def noop():
    yield None
'''
TESTS = '''
import os
import pytest

@pytest.mark.parametrize("i", range(int(os.environ["BENCH_N"])))
def test_it({fixture}, i):
    pass
'''


def pertest(quick: bool) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mockcomposio-bench-pertest-"))
    (work / "conftest.py").write_text(CONFTEST)
    (work / "test_noop.py").write_text(TESTS.format(fixture="noop"))
    (work / "test_mock.py").write_text(TESTS.format(fixture="mock_composio"))
    small, big = (300, 3000) if not quick else (200, 1000)
    rounds = 2 if quick else 3
    wall: dict[tuple[str, int], list[float]] = {}
    cpu: dict[tuple[str, int], list[float]] = {}
    gcs: dict[tuple[str, int], list[float]] = {}
    for _ in range(rounds):
        for n in (small, big):
            for kind in ("noop", "mock"):
                env = {**_env(autoload=False), "BENCH_N": str(n),
                       "BENCH_GC_OUT": str(work / "gc.json")}
                started, started_cpu = time.perf_counter(), child_cpu()
                subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                "-p", "mockcomposio.testing.plugin", f"test_{kind}.py"],
                               cwd=work, env=env,
                               check=True, capture_output=True)
                wall.setdefault((kind, n), []).append(time.perf_counter() - started)
                cpu.setdefault((kind, n), []).append(child_cpu() - started_cpu)
                gcs.setdefault((kind, n), []).append(
                    json.loads((work / "gc.json").read_text())["seconds"])

    def med(d: dict[tuple[str, int], list[float]], kind: str, n: int) -> float:
        return statistics.median(d[(kind, n)])

    # the slope between N and N' tests: start-up and the session's server cancel out. CPU time
    # of the pytest process (the server thread included), robust to the machine's other load.
    slope = {k: (med(cpu, k, big) - med(cpu, k, small)) / (big - small) * 1e6
             for k in ("noop", "mock")}
    wslope = {k: (med(wall, k, big) - med(wall, k, small)) / (big - small) * 1e6
              for k in ("noop", "mock")}
    return {"n": [small, big], "noop_us_per_test": slope["noop"],
            "mock_us_per_test": slope["mock"],
            "overhead_us_per_test": slope["mock"] - slope["noop"],
            "wall_overhead_us_per_test": wslope["mock"] - wslope["noop"],
            "gc_ms": {f"{k}@{n}": med(gcs, k, n) * 1000 for k in ("noop", "mock")
                      for n in (small, big)},
            "wall_s": {f"{k}@{n}": med(wall, k, n) for k in ("noop", "mock")
                       for n in (small, big)}}


# -- tenants -----------------------------------------------------------------------------------

def tenant(quick: bool) -> dict[str, Any]:
    import weakref
    from types import SimpleNamespace

    import pytest

    from mockcomposio.domain import connected_accounts, consent
    from mockcomposio.domain.connected_accounts import Origin
    from mockcomposio.engine import Engine
    from mockcomposio.testing import plugin as plugin_mod
    from mockcomposio.testing.consent import Outcome
    from mockcomposio.testing.tenant import Tenant

    n = 3000 if quick else 20000
    engine = Engine()  # unseeded, as the plugin's server
    out: dict[str, Any] = {}

    def engine_cycle(i: int) -> None:
        key = f"t-{i}"
        engine.reset(key, seed=i)
        engine.drop(key)

    def baseline(i: int) -> None:  # the floor: the same calls on a plain dict
        d: dict[str, object] = {}
        d[f"t-{i}"] = object()
        d.pop(f"t-{i}")

    server = SimpleNamespace(engine=engine, base_url=BASE)
    config = SimpleNamespace(stash=pytest.Stash())
    config.stash[plugin_mod._SETTINGS] = plugin_mod.Settings("0", "manual", False, True)

    def fixture_cycle(i: int) -> None:
        t = plugin_mod._new_tenant(server, config, f"tests/test_app.py::test_{i}", {}, 0)
        engine.drop(t.api_key)

    samples: dict[str, list[float]] = {"engine": [], "fixture": [], "baseline": []}
    cpu: dict[str, list[float]] = {"engine": [], "fixture": []}
    for r in range(5):  # interleaved rounds
        for name, fn in (("engine", engine_cycle), ("fixture", fixture_cycle),
                         ("baseline", baseline)):
            started_cpu = time.process_time()
            samples[name] += per_call(lambda i, fn=fn, r=r: fn(r * n + i), n // 5, warmup=5)
            if name in cpu:
                cpu[name].append((time.process_time() - started_cpu) / (n // 5) * 1e6)
    out["engine_create_drop_us"] = med_us(samples["engine"])
    out["fixture_create_drop_us"] = med_us(samples["fixture"])
    out["baseline_us"] = med_us(samples["baseline"])
    out["engine_create_drop_cpu_us"] = statistics.median(cpu["engine"])
    out["fixture_create_drop_cpu_us"] = statistics.median(cpu["fixture"])

    # a dropped tenant that ran an OAuth flow: freed by refcounting alone?
    gc.collect()
    gc.disable()
    try:
        t = Tenant(engine, "freed", BASE, seed=1)
        ac = t.add_auth_config("github")
        t.add_account(ac, "user-1")
        ref = weakref.ref(t.project)
        engine.drop("freed")
        del t, ac
        out["dropped_tenant_freed_without_gc"] = ref() is None
    finally:
        gc.enable()

    # first redirect flow in a fresh tenant (in-process), vs the next flow in the same tenant
    flows = 100 if quick else 400
    first: list[float] = []
    second: list[float] = []
    for i in range(flows):
        key = f"flow-{i}"
        engine.reset(key, seed=i)
        tn = Tenant(engine, key, BASE, seed=i)
        ac = tn.add_auth_config("github")
        project = tn.project
        origin = Origin(BASE)
        for bucket in (first, second):
            started = time.perf_counter()
            with project.lock:
                account, link, _ = connected_accounts.link(
                    project, origin, auth_config_id=ac.id, user_id=f"user-{i}",
                    callback_url="https://app.example/cb")
                result = consent.complete_link(project, origin, link, Outcome())
            bucket.append(time.perf_counter() - started)
            assert result.status == "success" and account.status == "ACTIVE", result
        engine.drop(key)
        del tn, project
    out["first_flow_ms"] = statistics.median(first) * 1000
    out["next_flow_ms"] = statistics.median(second) * 1000
    return out


# -- growth ------------------------------------------------------------------------------------

SHAPES = {
    "user": lambda f: {"user_ids": [f["user"]]},
    "user+status+toolkit": lambda f: {"user_ids": [f["user"]], "statuses": ["ACTIVE"],
                                      "toolkit_slugs": [f["toolkit"]]},
    "2 statuses + 2 configs": lambda f: {"statuses": ["ACTIVE", "INACTIVE"],
                                         "auth_config_ids": f["configs"]},
    "status + config": lambda f: {"statuses": ["ACTIVE"], "auth_config_ids": f["configs"][:1]},
    "unfiltered": lambda f: {},
}


def _page(project: Any, filters: dict[str, Any]) -> dict[str, Any]:
    """One page of 20 as the API's list handler makes it (whichever selection API exists)."""
    from mockcomposio.domain import connected_accounts, render
    from mockcomposio.domain.pagination import paginate

    select = getattr(connected_accounts, "select_accounts", connected_accounts.list_accounts)
    return paginate(select(project, **filters), limit=20, cursor=None,
                    render=lambda a: render.connected_account(project, a, with_params=False))


def _make_account(project: Any, origin: Any, ac: Any, user: str, n: int, kind: str) -> Any:
    from mockcomposio.domain import connected_accounts, consent
    from mockcomposio.testing.consent import Outcome

    if kind == "oauth":  # the real flow: link, consent page, provider, callback, tokens
        account, link, _ = connected_accounts.link(project, origin, auth_config_id=ac.id,
                                                   user_id=user)
        consent.complete_link(project, origin, link, Outcome())
        return account
    account, _ = connected_accounts.initiate(
        project, origin, auth_config_id=ac.id, user_id=user,
        state={"authScheme": "API_KEY", "val": {"status": "ACTIVE", "generic_api_key": f"k{n}"}})
    return account


def growth(kind: str, quick: bool) -> dict[str, Any]:
    """One kind of account per process: RSS never shrinks, so a second build in the same
    process would reuse the first one's freed memory and look free."""
    from mockcomposio.domain import auth_configs, connected_accounts
    from mockcomposio.domain.connected_accounts import Origin
    from mockcomposio.engine import Engine

    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    reps = 30 if quick else 60
    origin = Origin(BASE)
    engine = Engine(seed=1)
    gc.collect()
    before = rss_mb()
    project = engine.project(f"growth-{kind}")
    options = ({"type": auth_configs.MANAGED} if kind == "oauth"
               else {"type": auth_configs.CUSTOM, "auth_scheme": "API_KEY"})
    toolkit = "github" if kind == "oauth" else "serpapi"
    with project.lock:
        configs = [auth_configs.create(project, toolkit, options, default_redirect_uri=origin.url(
            connected_accounts.CALLBACK_PATH_V31)) for _ in range(2)]
    made = 0
    rows: dict[str, Any] = {}
    build_s = 0.0
    for size in sizes:
        users = max(1, size // 10)
        started = time.perf_counter()
        with project.lock:
            while made < size:
                account = _make_account(project, origin, configs[made % 2],
                                        f"user-{made % users}", made, kind)
                if made % 7 == 3:  # some INACTIVE, so "two statuses" is a real union
                    connected_accounts.set_enabled(project, account.id, False)
                made += 1
        build_s += time.perf_counter() - started
        gc.collect()
        row: dict[str, Any] = {"rss_mb": rss_mb() - before,
                               "build_us_per_account": build_s / made * 1e6}
        rng = random.Random(size)
        facts = {"toolkit": toolkit, "configs": [c.id for c in configs]}
        for shape, make in SHAPES.items():
            def one(i: int, make: Any = make, users: int = users, rng: Any = rng,
                    facts: dict[str, Any] = facts) -> None:
                filters = make({**facts, "user": f"user-{rng.randrange(users)}"})
                with project.lock:
                    page = _page(project, filters)
                assert page["items"], filters

            row[shape] = med_us(per_call(one, reps, warmup=3)) / 1000
        rows[str(size)] = row
    return {kind: rows}


MEASUREMENTS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "plugin": plugin, "pertest": pertest, "tenant": tenant,
    "growth-oauth": lambda quick: growth("oauth", quick),
    "growth-api_key": lambda quick: growth("api_key", quick)}


def main(argv: list[str] | None = None) -> int:
    return run_measurement(MEASUREMENTS, argv)


if __name__ == "__main__":
    raise SystemExit(main())
