"""Snapshots and ``mockcomposio serve --state-file``: round trips, atomic saves, a SIGKILL in the
middle of heavy writes, and clear refusals of corrupt or newer files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio import snapshot
from mockcomposio.cli import _is_loopback, main
from mockcomposio.engine import Engine

from .conftest import KEY

V31 = "/api/v3.1"


# -- in-process round trip ---------------------------------------------------------------------

def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    for tenant in doc["tenants"]:
        tenant["clock"].pop("now")  # wall time moves on
    return doc


async def test_snapshot_round_trip_keeps_every_kind_of_object(api: TestClient[Any, Any],
                                                             engine: Engine) -> None:
    resp = await api.post(f"{V31}/auth_configs", json={"toolkit": {"slug": "gmail"}},
                          headers=KEY)
    ac = (await resp.json())["auth_config"]["id"]
    await api.post("/_mock/consent", json={"outcomes": ["allow", "allow"]}, headers=KEY)
    ids = []
    for user in ("u1", "u2", "u3"):
        resp = await api.post(f"{V31}/connected_accounts/link",
                              json={"auth_config_id": ac, "user_id": user}, headers=KEY)
        ids.append((await resp.json())["connected_account_id"])
    assert (await api.delete(f"{V31}/connected_accounts/{ids[0]}", headers=KEY)).status == 200
    resp = await api.post(f"{V31}/tool_router/session", json={"user_id": "u2"}, headers=KEY)
    assert resp.status in (200, 201), await resp.text()
    session_id = (await resp.json())["session_id"]
    await api.post("/_mock/clock", json={"freeze": True}, headers=KEY)

    doc = snapshot.export_engine(engine)
    restored = Engine(seed=7)
    snapshot.import_snapshot(restored, json.loads(snapshot.dumps(doc)))
    assert _comparable(snapshot.export_engine(restored)) == _comparable(doc)
    project = restored.projects[KEY["x-api-key"]]
    assert ids[0] in project.deleted_accounts and ids[0] not in project.accounts
    assert project.accounts[ids[1]].status == "ACTIVE"
    assert project.accounts[ids[2]].status == "INITIATED"
    assert session_id in project.sessions
    assert set(project.index.by_user) == {"u2", "u3"}
    # Ids continue the seeded sequence instead of starting over.
    assert project.ids.new("ac") == engine.projects[KEY["x-api-key"]].ids.new("ac")
    # The restored provider still refreshes the restored tokens.
    token = project.accounts[ids[1]].token
    assert token is not None and token.expires_at is not None
    project.advance_clock(token.expires_at - project.now() + 1)
    refreshed = project.accounts[ids[1]]
    assert refreshed.status == "ACTIVE" and refreshed.token is not None
    assert refreshed.token.access_token != token.access_token


def test_write_atomic_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    snapshot.write_atomic(target, b'{"a": 1}')
    snapshot.write_atomic(target, b'{"a": 2}')
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp file left


# -- the server process ------------------------------------------------------------------------

class Server:
    def __init__(self, proc: subprocess.Popen[str], base_url: str, stderr: Path) -> None:
        self.proc = proc
        self.base_url = base_url
        self.stderr = stderr

    def call(self, method: str, path: str, body: Any = None, key: str = "k0") -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"x-api-key": key,
                                              "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], Path]:
    stderr = tmp_path / f"stderr-{len(list(tmp_path.glob('stderr-*')))}.txt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockcomposio", "serve", "--port", "0", "--log-level",
         "warning", *args], stdout=subprocess.PIPE, stderr=stderr.open("w"), text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return proc, stderr


@contextmanager
def serve(tmp_path: Path, *args: str) -> Iterator[Server]:
    proc, stderr = _start(tmp_path, *args)
    watchdog = threading.Timer(60, proc.kill)  # never hang the suite on a stuck server
    watchdog.start()
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://"), stderr.read_text()
        yield Server(proc, base_url, stderr)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _check_consistent(doc: dict[str, Any]) -> None:
    """Every reference inside each tenant resolves (what a half-written file would break)."""
    for tenant in doc["tenants"]:
        configs = {a["id"] for a in tenant["auth_configs"]}
        accounts = {a["id"] for a in tenant["accounts"]}
        links = {link["token"] for link in tenant["links"]}
        for a in tenant["accounts"]:
            assert a["auth_config_id"] in configs, a["id"]
            assert a["link_token"] is None or a["link_token"] in links
        for link in tenant["links"]:
            assert link["connected_account_id"] in accounts
    snapshot.import_snapshot(Engine(), doc)  # and the loader's own checks agree


def test_sigkill_during_heavy_writes_leaves_a_consistent_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    done = threading.Event()
    written: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    with serve(tmp_path, "--state-file", str(state)) as server:
        def writer(key: str) -> None:
            ids = written.setdefault(key, [])
            try:
                while not done.is_set():
                    ac = server.call("POST", f"{V31}/auth_configs",
                                     {"toolkit": {"slug": "github"}}, key)["auth_config"]["id"]
                    ids.append(ac)
                    server.call("POST", f"{V31}/connected_accounts/link",
                                {"auth_config_id": ac, "user_id": f"user-{len(ids)}"}, key)
            except urllib.error.HTTPError as exc:
                errors.append(AssertionError(f"{exc}: {exc.read()!r}"))
            except (urllib.error.URLError, ConnectionError, OSError):
                pass  # the server was killed under us: expected
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(f"k{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        # Kill once several saves have happened and writers are mid-flight.
        saves = 0
        last = None
        while saves < 4:
            # A writer only stops early on an error (recorded) or, on a badly overloaded
            # machine, a request timeout; carry on while any writer is still writing.
            assert not errors and any(t.is_alive() for t in threads), errors
            if state.exists() and state.stat().st_mtime_ns != last:
                last = state.stat().st_mtime_ns
                saves += 1
            done.wait(0.05)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(10)
        done.set()
        for t in threads:
            t.join(15)
    assert not errors, errors
    assert sum(len(v) for v in written.values()) > 0

    doc = snapshot.read_file(state)  # parses and has a valid header
    _check_consistent(doc)
    saved = {t["api_key"]: [a["id"] for a in t["auth_configs"]] for t in doc["tenants"]}
    assert any(saved.values())
    for key, ids in saved.items():
        # What was saved is what was written up to some point (plus, at most, one config
        # whose response the kill swallowed).
        assert ids[:len(written[key])] == written[key][:len(ids)]
        assert len(ids) <= len(written[key]) + 1

    with serve(tmp_path, "--state-file", str(state)) as again:
        for key, ids in saved.items():
            served: list[str] = []
            cursor = ""
            while True:
                page = again.call("GET", f"{V31}/auth_configs?limit=200{cursor}", key=key)
                served += [c["id"] for c in page["items"]]
                if not page.get("next_cursor"):
                    break
                cursor = f"&cursor={page['next_cursor']}"
            assert sorted(served) == sorted(ids)
        # New writes go on from there, and a clean shutdown saves them.
        new = again.call("POST", f"{V31}/auth_configs", {"toolkit": {"slug": "gmail"}},
                         key="k0")["auth_config"]["id"]
        again.proc.send_signal(signal.SIGTERM)
        assert again.proc.wait(15) == 0
    final = snapshot.read_file(state)
    k0 = next(t for t in final["tenants"] if t["api_key"] == "k0")
    assert new in {a["id"] for a in k0["auth_configs"]}
    restarted = (tmp_path / "stderr-1.txt").read_text()
    assert f"restored {len(saved)} tenant(s)" in restarted and "WARNING" not in restarted


def test_corrupt_or_newer_state_files_are_refused_not_reset(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # In-process: the CLI refuses before it binds anything.
    state = tmp_path / "state.json"
    state.write_text('{"format": "mockcomposio-state", "version": 1, "tenants": [')
    assert main(["serve", "--port", "0", "--state-file", str(state)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
    assert state.read_text().endswith("[")  # never overwritten

    state.write_text(json.dumps({"format": "mockcomposio-state", "version": 2,
                                 "mockcomposio_version": "9.0", "tenants": []}))
    assert main(["serve", "--port", "0", "--state-file", str(state)]) == 2
    assert "written by a newer mockcomposio (9.0)" in capsys.readouterr().err

    state.write_text(json.dumps({"format": "mockcomposio-state", "version": 1,
                                 "tenants": [{"api_key": "k", "id": "pr_1"}]}))
    assert main(["serve", "--port", "0", "--state-file", str(state)]) == 2
    assert "tenants[0]: missing 'clock'" in capsys.readouterr().err


def test_wide_binding_prints_a_warning(tmp_path: Path) -> None:
    with serve(tmp_path, "--host", "0.0.0.0") as server:
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(15) == 0
    assert "WARNING: listening on 0.0.0.0" in server.stderr.read_text()
    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("localhost")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("my-host.local")
