"""Bounded resources (issue 19, findings 8, 9, 10, 20, 22, 23): the 404 hint, the journal's
bytes, tenants created by stray requests, the tenant cap, deleted accounts, seed files and
request-log lines. Each test counts what the old code let grow (or ran), not time."""

from __future__ import annotations

import difflib
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio import seedfile, snapshot
from mockcomposio.domain import journal as journal_mod
from mockcomposio.domain.project import MAX_DELETED_ACCOUNTS
from mockcomposio.engine import Engine
from mockcomposio.http import app as app_mod
from mockcomposio.http.app import create_app
from mockcomposio.http.policy import Policy
from mockcomposio.tenant import Tenant

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]
V31 = "/api/v3.1"
KEY = {"x-api-key": "key-a"}


@pytest.fixture
async def api(aiohttp_client: MakeClient) -> Client:
    return await aiohttp_client(create_app(Engine(seed=1), strict=True))


def _engine(api: Client) -> Engine:
    return api.app[app_mod.ENGINE_KEY]


# -- finding 8: the "did you mean" hint --------------------------------------------------------

class _CountingMatcher(difflib.SequenceMatcher):  # type: ignore[type-arg]
    ratios = 0

    def ratio(self) -> float:
        _CountingMatcher.ratios += 1
        return super().ratio()


async def test_did_you_mean_skips_long_paths_and_prunes_cheaply(
        api: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_mod.difflib, "SequenceMatcher", _CountingMatcher)
    _CountingMatcher.ratios = 0
    for _ in range(4):  # four 8 KB paths froze the server for 9 s
        resp = await api.get(f"{V31}/" + "a" * 8000, headers=KEY)
        assert resp.status == 404
        assert (await resp.json())["error"]["slug"] == "Route_NotFound"
    assert _CountingMatcher.ratios == 0
    # A typo still gets its hint, and only near candidates get the full (quadratic) ratio.
    resp = await api.get(f"{V31}/connected_acounts/ca_1", headers=KEY)
    assert "Did you mean GET /api/v3.1/connected_accounts/{id}?" in \
        (await resp.json())["error"]["message"]
    routes = len(api.app[app_mod.ROUTE_PATHS_KEY])
    assert 0 < _CountingMatcher.ratios < routes // 4, (_CountingMatcher.ratios, routes)


# -- finding 9: journal bytes ------------------------------------------------------------------

async def test_refused_big_bodies_are_journaled_as_truncation_markers(api: Client) -> None:
    await api.get(f"{V31}/auth_configs", headers=KEY)
    big = {"toolkit": 5, "name": "x" * 900_000}  # refused: toolkit is not an object
    for _ in range(5):
        resp = await api.post(f"{V31}/auth_configs", json=big, headers=KEY)
        assert resp.status == 400
    journal = _engine(api).projects["key-a"].journal
    assert journal.bytes < 5 * journal_mod.ENTRY_BYTES
    entries = (await (await api.get("/_mock/journal", headers=KEY)).json())["entries"]
    refused = [e for e in entries if e["status"] == 400]
    assert len(refused) == 5
    marker = refused[0]["request_body"][journal_mod.TRUNCATED]
    assert marker["bytes"] > 900_000 and marker["limit"] == journal_mod.ENTRY_BYTES
    assert marker["preview"].startswith('{"toolkit": 5')


def test_a_big_response_is_journaled_as_a_marker_and_the_tenant_total_is_capped() -> None:
    j = journal_mod.Journal(byte_limit=1_000_000)
    raw = json.dumps({"items": ["y" * 1000] * 100}).encode()  # ~100 KB answer
    for i in range(200):
        j.append(journal_mod.JournalEntry(i, 0.0, 0.0, "GET", "/p", "", 200, 1.0, "r", "op",
                                          request_body={"q": "z" * 50_000},
                                          response_raw=raw))
    assert j.bytes <= 1_000_000 and j.dropped > 0 and len(j) == 200 - j.dropped
    newest = j.entries()[-1].as_json()
    assert newest["response_body"][journal_mod.TRUNCATED]["bytes"] == len(raw)
    assert newest["request_body"] == {"q": "z" * 50_000}  # under the per-entry cap: as sent
    # The entry cap itself: one request body over it becomes a marker.
    entry = journal_mod.JournalEntry(1, 0.0, 0.0, "POST", "/p", "", 400, 1.0, "r", None,
                                     request_body={"q": "z" * 100_000})
    assert journal_mod.TRUNCATED in entry.request_body
    assert entry.size < journal_mod.ENTRY_BYTES


# -- finding 10: tenants from stray requests, and the cap --------------------------------------

async def test_unrouted_and_refused_requests_create_no_tenant(api: Client) -> None:
    engine = _engine(api)
    for i in range(50):
        assert (await api.get(f"/nowhere/{i}", headers={"x-api-key": f"stray-{i}"})).status \
            == 404
        assert (await api.get(f"{V31}/connected_account", headers={"x-api-key": f"s-{i}"})
                ).status == 404
        resp = await api.post(f"{V31}/auth_configs", data=b"x" * (1024 * 1024 + 1),
                              headers={"x-api-key": f"big-{i}",
                                       "content-type": "application/json"})
        assert resp.status == 413
    assert engine.projects == {}


def test_the_tenant_cap_evicts_the_least_recently_used_idle_tenants() -> None:
    engine = Engine(seed=1, max_tenants=100)
    busy = engine.project("busy")
    keep = engine.project("keep")
    t = Tenant(engine, "keep", "http://127.0.0.1:9")
    account = t.add_account("github", "u", status="INITIATED")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:  # another thread (an export, a request) is using it
        with busy.lock:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        for i in range(500):
            engine.project(f"idle-{i}")
            if i % 50 == 0:
                engine.project("keep")  # used now and then
        assert len(engine.projects) <= 100
        assert engine.projects.get("busy") is busy  # never evicted while in use
    finally:
        release.set()
        holder.join(10)
    assert engine.projects.get("keep") is keep
    assert engine.find_link(str(account.link_token)) is not None
    assert "idle-0" not in engine.projects and "idle-499" in engine.projects
    assert engine.evicted >= 400
    # An evicted tenant's links stop resolving, like a reset tenant's.
    gone = Engine(seed=2, max_tenants=10)
    first = Tenant(gone, "first", "http://127.0.0.1:9").add_account("github", "u",
                                                                   status="INITIATED")
    for i in range(20):
        gone.project(f"k{i}")
    assert "first" not in gone.projects and gone.find_link(str(first.link_token)) is None
    assert Engine(max_tenants=0).max_tenants is None  # 0: no cap


# -- finding 20: deleted accounts ---------------------------------------------------------------

def test_deleted_accounts_are_bounded_and_snapshots_stay_consistent() -> None:
    engine = Engine(seed=3)
    t = Tenant(engine, "churn", "http://127.0.0.1:9")
    project = t.project
    for i in range(2500):
        account = t.add_account("github", f"u{i}", status="INITIATED" if i % 2 else "ACTIVE")
        with project.lock:
            project.remove_account(account)
    assert len(project.deleted_accounts) <= MAX_DELETED_ACCOUNTS * 11 // 10
    assert len(project.links) <= MAX_DELETED_ACCOUNTS * 11 // 10
    doc = json.loads(snapshot.dumps(snapshot.export_engine(engine)))
    assert snapshot.consistency_problems(project) == []
    snapshot.import_snapshot(Engine(seed=3), doc)  # no dangling link


# -- finding 23: seed files ---------------------------------------------------------------------

BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
tenants: [*f]
"""


def test_yaml_aliases_and_huge_seed_files_are_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    with pytest.raises(seedfile.SeedError, match="aliases"):
        seedfile.load(bomb)
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps({"tenants": [], "pad": "x" * (seedfile.MAX_SEED_BYTES + 1)}))
    with pytest.raises(seedfile.SeedError, match="limit"):
        seedfile.load(huge)


# -- finding 22: request-log lines ---------------------------------------------------------------

async def test_control_characters_in_paths_cannot_forge_log_lines(
        api: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="mockcomposio.http"):
        resp = await api.get(f"{V31}/x%0a2026-12-03 INFO forged 200%0d%1b[2J",
                             headers={**KEY, "x-request-id": "id\u2028two"})
        assert resp.status == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "mockcomposio.http"]
    assert lines, "the request was not logged"
    for line in lines:
        assert not any(ord(ch) < 0x20 or ch in "\x7f\u2028\u2029" for ch in line), line
    assert any("\\x0a2026-12-03 INFO forged" in line for line in lines)


async def test_policy_default_is_no_cross_tenant_and_loopback_only(api: Client) -> None:
    policy = api.app[app_mod.POLICY_KEY]
    assert policy == Policy()
    assert not policy.all_tenants and policy.admin_key is None


async def test_whole_server_exports_run_off_the_event_loop(
        aiohttp_client: MakeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine(seed=1)
    for i in range(20):
        engine.project(f"key-{i}")
    api = await aiohttp_client(create_app(engine, strict=True,
                                          policy=Policy(all_tenants=True)))
    threads: list[str] = []
    real = snapshot.export_project

    def recording(project: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(project)

    monkeypatch.setattr(snapshot, "export_project", recording)
    resp = await api.get("/_mock/state?all=true", headers=KEY)
    assert resp.status == 200
    assert len((await resp.json())["tenants"]) == 21
    loop_thread = threading.current_thread().name
    assert len(threads) == 21 and loop_thread not in threads
