"""Concurrency: thousands of link + consent flows over real loopback TCP at once (a LiveServer
on its own thread, an aiohttp client with 100 requests in flight), then the invariants: every
account exactly once, statuses as the users decided, no link left half-done, and every index
equal to a recomputation from the data.

The time limit is a hang guard (asyncio.wait_for), not a performance assertion; the time the
flows took is printed for the README's figures.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from mockcomposio.engine import Engine
from mockcomposio.server import LiveServer

from .test_rel_state_machine import check_indexes, form_fields

IN_FLIGHT = 100
HANG_GUARD_SECONDS = 600
API_KEY = "concurrency"


async def one_flow(http: aiohttp.ClientSession, base: str, ac: str, n: int) -> tuple[str, str]:
    """One end user: link → Connect Link page → provider consent → callback. Every tenth user
    denies. Returns (connected account id, the status the app's callback reported)."""
    headers = {"x-api-key": API_KEY}
    async with http.post(f"{base}/api/v3.1/connected_accounts/link", headers=headers, json={
            "auth_config_id": ac, "user_id": f"user-{n % 50}",
            "callback_url": f"https://app.example/cb?n={n}"}) as resp:
        assert resp.status == 201, await resp.text()
        link = await resp.json()
    async with http.get(link["redirect_url"]) as resp:
        assert resp.status == 200
    async with http.post(link["redirect_url"], data={"action": "continue"},
                         allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        authorize = resp.headers["Location"]
    async with http.get(authorize) as resp:
        assert resp.status == 200
        fields = form_fields(await resp.text())
    decision = "deny" if n % 10 == 0 else "allow"
    form = [("pending", fields["pending"][0]), ("decision", decision)]
    form += [("scope", s) for s in fields.get("scope", [])]
    async with http.post(authorize, data=form, allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        callback = resp.headers["Location"]
    async with http.get(callback, allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        app_url = resp.headers["Location"]
    query = parse_qs(urlsplit(app_url).query)
    assert query["n"] == [str(n)] and query["connected_account_id"] == [
        link["connected_account_id"]]
    return link["connected_account_id"], query["status"][0]


async def run_flows(base: str, flows: int) -> tuple[list[tuple[str, str]], float]:
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.post(f"{base}/api/v3.1/auth_configs", headers={"x-api-key": API_KEY},
                             json={"toolkit": {"slug": "gmail"},
                                   "auth_config": {"type": "use_composio_managed_auth"}}) as r:
            assert r.status == 201
            ac = (await r.json())["auth_config"]["id"]
        started = time.perf_counter()
        results = await asyncio.wait_for(
            asyncio.gather(*(one_flow(http, base, ac, n) for n in range(flows))),
            HANG_GUARD_SECONDS)
        return list(results), time.perf_counter() - started


async def listed_ids(base: str) -> list[str]:
    """Every account id the list endpoint returns, page by page."""
    ids: list[str] = []
    cursor = None
    async with aiohttp.ClientSession() as http:
        while True:
            params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
            async with http.get(f"{base}/api/v3.1/connected_accounts", params=params,
                                headers={"x-api-key": API_KEY}) as resp:
                page = await resp.json()
            ids += [a["id"] for a in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                return ids


class CheckerThread:
    """Runs ``step`` in a loop on another thread until stopped; :meth:`stop` re-raises the
    first exception the thread hit. (An AssertionError in a plain thread only becomes a
    warning, and the test passed with a failing check.)"""

    def __init__(self, step: Callable[[], None], pause: float = 0.005) -> None:
        self._step, self._pause = step, pause
        self._stop = threading.Event()
        self.errors: list[BaseException] = []
        self.rounds = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._step()
                self.rounds += 1
                time.sleep(self._pause)
        except BaseException as exc:
            self.errors.append(exc)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        assert not self._thread.is_alive(), "the checker thread did not stop"
        if self.errors:
            raise self.errors[0]


def test_a_failing_checker_thread_fails_the_test() -> None:
    """The harness itself: a check failing on the other thread fails the test."""
    calls = []

    def failing() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise AssertionError("index out of step")

    checker = CheckerThread(failing, pause=0)
    checker.start()
    time.sleep(0.2)
    with pytest.raises(AssertionError, match="index out of step"):
        checker.stop()


def check_flows(flows: int) -> None:
    engine = Engine()
    project = engine.project(API_KEY)
    observed: list[int] = []

    def meddle() -> None:
        """Another thread, as a test using the plugin's helpers would be: it moves the clock
        (a little: links stay valid) and checks the indexes under the tenant's lock."""
        project.advance_clock(0.001)
        with project.lock:
            check_indexes(project)
            observed.append(len(project.accounts))

    meddler = CheckerThread(meddle)
    with LiveServer(engine, strict=True) as server:
        meddler.start()
        try:
            results, elapsed = asyncio.run(run_flows(server.base_url, flows))
        finally:
            meddler.stop()
        assert observed and observed == sorted(observed)  # it ran, and saw no account vanish
        listed = asyncio.run(listed_ids(server.base_url))
        with project.lock:
            ids = [account_id for account_id, _ in results]
            # No lost or duplicated accounts, in the data, the list endpoint and the callbacks.
            assert len(set(ids)) == flows == len(project.accounts)
            assert set(ids) == set(project.accounts)
            assert sorted(listed) == sorted(ids)
            # Statuses: what each user decided, nothing half-done.
            expected = Counter("FAILED" if n % 10 == 0 else "ACTIVE" for n in range(flows))
            assert Counter(a.status for a in project.accounts.values()) == expected
            for account_id, reported in results:
                account = project.accounts[account_id]
                assert reported == ("success" if account.status == "ACTIVE" else "failed")
                if account.status == "ACTIVE":
                    assert account.token is not None
                    assert account.granted_scopes == account.requested_scopes
            assert len(project.links) == flows and all(k.done for k in project.links.values())
            tokens = [a.token.access_token for a in project.accounts.values() if a.token]
            assert len(set(tokens)) == len(tokens) == expected["ACTIVE"]
            check_indexes(project)
    print(f"\n{flows} concurrent link+consent flows ({IN_FLIGHT} requests in flight, "
          f"{flows * 6} requests) in {elapsed:.1f}s; 0 lost, 0 duplicated, 0 half-done")


def test_concurrent_flows_fast() -> None:
    check_flows(200)


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a long run, not a hang
def test_two_thousand_concurrent_flows() -> None:
    check_flows(2000)


def test_concurrent_tenants_do_not_mix() -> None:
    """Two tenants' flows interleaved: each tenant ends with exactly its own accounts."""
    engine = Engine()

    async def tenant_flows(base: str, key: str, flows: int) -> list[str]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50)) as http:
            async with http.post(f"{base}/api/v3.1/auth_configs", headers={"x-api-key": key},
                                 json={"toolkit": {"slug": "github"}}) as r:
                ac = (await r.json())["auth_config"]["id"]

            async def one() -> str:
                async with http.post(f"{base}/api/v3.1/connected_accounts/link",
                                     headers={"x-api-key": key},
                                     json={"auth_config_id": ac, "user_id": key}) as r:
                    return str((await r.json())["connected_account_id"])

            return list(await asyncio.gather(*(one() for _ in range(flows))))

    async def both(base: str) -> Any:
        return await asyncio.wait_for(asyncio.gather(
            tenant_flows(base, "tenant-x", 150), tenant_flows(base, "tenant-y", 150)),
            HANG_GUARD_SECONDS)

    with LiveServer(engine, strict=True) as server:
        x_ids, y_ids = asyncio.run(both(server.base_url))
    for key, ids in (("tenant-x", x_ids), ("tenant-y", y_ids)):
        project = engine.project(key)
        assert set(project.accounts) == set(ids) and len(ids) == 150
        assert {a.user_id for a in project.accounts.values()} == {key}
        check_indexes(project)
