"""Mutated snapshot imports (issue 19, findings 5 and 18): hypothesis takes the state export of
a populated tenant, changes one or two nodes anywhere in it (a junk value of another type, a
value moved from elsewhere in the snapshot, a deleted or an unknown field, out-of-range times)
and imports it over ``POST /_mock/state``. Rules: never a 5xx; a refused import is a 400
envelope naming the problem; an accepted one leaves tenants that work — every list, account,
link page, clock move (which fires due timers), export and inspector call answers below 500.
Before, 41 such imports were accepted and left tenants that 500ed, and a wrongly typed field
answered a 500 (a traceback on ``serve --state-file``).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from mockcomposio import snapshot
from mockcomposio.clock import MAX_EPOCH, MAX_STORED_EPOCH
from mockcomposio.engine import Engine
from mockcomposio.http.app import create_app
from mockcomposio.http.policy import Policy

from .test_rel_bad_input import build_world

# The slow run (CI's -m slow) makes 1,000 imports; the default suite a quick sample.
EXAMPLES = int(os.environ.get("SNAPSHOT_FUZZ_EXAMPLES", "1000"))
FAST_EXAMPLES = 120
JUNK: list[Any] = [
    None, True, False, 0, -1, 1, 7, 2**31, 2**63, 10**40, -(10**40), 0.5, -1.5, 1e300, -1e300,
    MAX_EPOCH + 1, "", "x", " ", "\x00", "\u202e", "ca_x", "ac_x", "lk_x",
    "2030-01-01T00:00:00Z", [], {}, [None], [1, 2], ["x"], {"a": 1}, {"id": "x"}, [[]], [{}],
]


class Harness:
    """One in-process strict server and a populated tenant; each example imports into it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.engine = Engine(seed=3)

        async def start() -> tuple[TestClient[Any, Any], dict[str, Any]]:
            client: TestClient[Any, Any] = TestClient(TestServer(
                create_app(self.engine, strict=True,
                           # imports naming other keys are the point: cross-tenant allowed
                           policy=Policy(all_tenants=True))))
            await client.start_server()
            world = await build_world(client, self.engine, "fuzz")
            world.project.clock.unfreeze()  # both clock shapes appear in the snapshot
            async with client.get("/_mock/state?secrets=true",
                                  headers={"x-api-key": "fuzz"}) as resp:
                return client, await resp.json()

        self.client, self.doc = self.loop.run_until_complete(start())
        self.pool = list(leaves(self.doc))
        self.outcomes: Counter[str] = Counter()

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()

    def call(self, method: str, path: str, key: str, **kwargs: Any) -> tuple[int, Any]:
        async def go() -> tuple[int, Any]:
            async with self.client.request(method, path, allow_redirects=False,
                                           headers={"x-api-key": key}, **kwargs) as resp:
                raw = await resp.read()
                try:
                    return resp.status, json.loads(raw)
                except ValueError:
                    return resp.status, raw.decode("utf-8", "replace")
        return self.loop.run_until_complete(go())


def leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v)
    else:
        yield value


def nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into the document (the paths of containers and of leaves)."""
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from nodes(v, (*path, i))


def at(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


Mutation = tuple[tuple[Any, ...], str, Any]  # (path, kind, value)


@st.composite
def mutations(draw: st.DrawFn, doc: dict[str, Any], pool: list[Any]) -> list[Mutation]:
    """One or two changes, as data (so a failing example prints short)."""
    tenant_paths = [p for p in nodes(doc) if len(p) >= 3 and p[0] == "tenants"]
    out: list[Mutation] = []
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(tenant_paths))
        kind = draw(st.sampled_from(["junk", "junk", "moved", "delete", "unknown", "time"]))
        value = (draw(st.sampled_from(JUNK)) if kind in ("junk", "unknown") else
                 draw(st.sampled_from(pool)) if kind == "moved" else
                 draw(st.sampled_from([-1.0, 0.0, MAX_EPOCH, MAX_EPOCH + 1, 1e15, -1e12,
                                       253402300800.0])) if kind == "time" else None)
        out.append((path, kind, value))
    return out


def apply(doc: dict[str, Any], changes: list[Mutation]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for path, kind, value in changes:
        try:
            parent = at(out, path[:-1])
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed it
        key = path[-1]
        present = (isinstance(parent, dict) and key in parent) or (
            isinstance(parent, list) and isinstance(key, int) and key < len(parent))
        if not present:
            continue
        if kind == "delete":
            parent.pop(key)
        elif kind == "unknown":
            if isinstance(parent, dict):
                parent["zz_unknown"] = value
        else:
            parent[key] = value
    return out


def check_tenant_works(h: Harness, key: str) -> None:
    project = h.engine.projects.get(key)
    assert project is not None
    paths = ["/api/v3.1/connected_accounts", "/api/v3.1/auth_configs", "/api/v3/toolkits",
             "/_mock/clock", "/_mock/journal", "/_mock/state", "/_mock/state?secrets=true",
             "/_mock/inspector/data"]
    paths += [f"/api/v3.1/connected_accounts/{a}" for a in list(project.accounts)[:5]]
    paths += [f"/api/v3.1/auth_configs/{a}" for a in list(project.auth_configs)[:5]]
    paths += [f"/api/v3.1/tool_router/session/{s}" for s in list(project.sessions)[:3]]
    paths += [f"/link/{t}" for t in list(project.links)[:5]]
    for path in paths:
        status, body = h.call("GET", path, key)
        assert status < 500, (path, str(body)[:300])
    # Time passing fires every stored timer (link expiries, token refreshes).
    for advance in (61, 601, 4000, 90 * 86400):
        status, body = h.call("POST", "/_mock/clock", key, json={"advance": advance})
        if status == 400 and "Cannot move the clock" in body["error"]["message"]:
            break  # a clock imported at the end of the range: refused, and nothing moved
        assert status == 200, (advance, str(body)[:300])
        for path in paths[:3]:
            status, body = h.call("GET", path, key)
            assert status < 500, (path, str(body)[:300])
    # And it exports to a snapshot that imports again.
    status, export = h.call("GET", "/_mock/state?secrets=true", key)
    assert status == 200
    status, body = h.call("POST", "/_mock/state", key, json=export)
    assert status == 200, str(body)[:300]


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    h = Harness()
    yield h
    h.close()


def test_mutated_snapshot_imports_fast(harness: Harness) -> None:
    fuzz_imports(harness, FAST_EXAMPLES)


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a long run, not a hang
def test_a_thousand_mutated_snapshot_imports(harness: Harness) -> None:
    fuzz_imports(harness, EXAMPLES)


def fuzz_imports(h: Harness, examples: int) -> None:
    h.outcomes.clear()
    logging.getLogger("mockcomposio").disabled = True  # refusals are asserted, not logged
    try:
        @settings(max_examples=examples, deadline=None, database=None)
        @given(changes=mutations(h.doc, h.pool))
        def run(changes: list[Mutation]) -> None:
            doc = apply(h.doc, changes)
            status, body = h.call("POST", "/_mock/state", "fuzz", json=doc)
            assert status < 500, str(body)[:400]
            if status != 200:
                assert status == 400 and body["error"]["slug"] in (
                    "Mock_InvalidSnapshot", "Validation_Error"), body
            # The same document as a --state-file at start: loaded without the request
            # contract in front, so build_project alone must refuse what does not fit.
            try:
                snapshot.import_snapshot(h.engine, doc)
            except snapshot.SnapshotError:
                h.outcomes["refused"] += 1
                return
            h.outcomes["accepted"] += 1
            for tenant in doc["tenants"]:
                key = tenant.get("api_key")
                if isinstance(key, str) and key.strip():
                    check_tenant_works(h, key)
                    if key != "fuzz":
                        h.engine.drop(key)

        run()
    finally:
        logging.getLogger("mockcomposio").disabled = False
    print(f"\n{sum(h.outcomes.values())} mutated imports: {dict(h.outcomes)}; 0 5xx, "
          "0 poisoned tenants")
    assert sum(h.outcomes.values()) >= examples
    assert h.outcomes["refused"] and h.outcomes["accepted"]  # both sides were exercised


def test_wrongly_typed_state_file_exits_2_without_a_traceback(tmp_path: Path,
                                                            harness: Harness) -> None:
    """Finding 18 on start: ``serve --state-file`` with a wrongly typed field printed a
    traceback; now exit 2 and one line naming the field."""
    for name, change in (("accounts", "x"), ("auth_configs", 5), ("deadlines", [[1e300, 1,
                                                                                "link", "x"]]),
                         ("clock", {"offset": 1e300})):
        doc = copy.deepcopy(harness.doc)
        doc["tenants"][0][name] = change
        state = tmp_path / f"{name}.json"
        state.write_text(json.dumps(doc))
        with pytest.raises(snapshot.SnapshotError):
            snapshot.import_snapshot(Engine(), snapshot.read_file(state))
    state = tmp_path / "nan.json"
    state.write_text(json.dumps(harness.doc).replace('"seq": ', '"seq": NaN, "x": ', 1)
                     .replace('"offset":', '"offset": NaN, "zz":', 1))
    proc = subprocess.run([sys.executable, "-m", "mockcomposio", "serve", "--port", "0",
                           "--state-file", str(state)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "NaN" in proc.stderr, proc.stderr[-2000:]


def test_a_clock_at_the_end_of_its_range_exports_and_imports_again(harness: Harness) -> None:
    """Found by the fuzz: a tenant frozen at the clock's last moment holds tokens that expire
    after it (now + lifetime); its own export was then refused on import. Stored times may run
    past the clock's range, up to what a datetime still renders (9999-01-01)."""
    doc = copy.deepcopy(harness.doc)
    tenant = doc["tenants"][0]
    tenant["clock"]["frozen_at"] = MAX_EPOCH
    tenant["accounts"][0]["token"]["expires_at"] = MAX_EPOCH + 86_399
    status, body = harness.call("POST", "/_mock/state", "fuzz", json=doc)
    assert status == 200, str(body)[:300]
    status, export = harness.call("GET", "/_mock/state?secrets=true", "fuzz")
    assert status == 200
    status, body = harness.call("POST", "/_mock/state", "fuzz", json=export)
    assert status == 200, str(body)[:300]
    tenant["accounts"][0]["token"]["expires_at"] = MAX_STORED_EPOCH + 1  # not renderable
    status, body = harness.call("POST", "/_mock/state", "fuzz", json=doc)
    assert status == 400 and "9999-01-01" in body["error"]["message"], body
