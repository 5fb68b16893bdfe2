"""Crash-safe persistence (issue 19, findings 11, 12, 13, 19): a shutdown during a save
waits for it, every write has its own temp file, orphans are cleaned at start, saves run off
the event loop and re-export only changed tenants, a seed file that fails leaves no state
file, and two servers cannot share one state file."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mockcomposio import snapshot
from mockcomposio.engine import Engine
from mockcomposio.server import StateSaver
from mockcomposio.tenant import Tenant

from .test_state_file import serve


class _SlowWrites:
    """Wraps snapshot.write_atomic: slow, and counts writers running at once."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.running = 0
        self.most = 0
        self.started = threading.Event()
        self.lock = threading.Lock()
        self.real = snapshot.write_atomic

    def __call__(self, path: Path, data: bytes) -> None:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        self.started.set()
        try:
            time.sleep(self.delay)
            self.real(path, data)
        finally:
            with self.lock:
                self.running -= 1


async def test_shutdown_during_a_save_waits_for_it_then_saves_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = _SlowWrites(0.4)
    monkeypatch.setattr(snapshot, "write_atomic", slow)
    engine = Engine(seed=1)
    engine.project("key-a")
    state = tmp_path / "state.json"
    saver = StateSaver(engine, state, interval=0.01)
    saver.changed()
    await asyncio.get_running_loop().run_in_executor(None, slow.started.wait, 10)
    engine.project("key-b")  # changed while the first save is being written
    saver.changed()
    await saver.aclose()  # SIGTERM now
    assert slow.most == 1, "two writers at once"
    assert saver.saves == 2
    doc = snapshot.read_file(state)
    assert sorted(t["api_key"] for t in doc["tenants"]) == ["key-a", "key-b"]
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_concurrent_writes_never_share_a_temp_file(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        time.sleep(0.05)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    target = tmp_path / "state.json"
    errors: list[BaseException] = []
    payloads = [json.dumps({"writer": i, "pad": "x" * 200_000}).encode() for i in range(6)]

    def write(data: bytes) -> None:
        try:
            snapshot.write_atomic(target, data)
        except BaseException as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert target.read_bytes() in payloads  # whole, one writer's
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


async def test_saves_run_off_the_loop_and_export_only_changed_tenants(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine(seed=2)
    for i in range(30):
        Tenant(engine, f"key-{i}", "http://127.0.0.1:9").add_account("github", "u")
    exported: list[tuple[str, str]] = []
    real_export = snapshot.export_project

    def recording(project: Any) -> Any:
        exported.append((project.api_key, threading.current_thread().name))
        return real_export(project)

    monkeypatch.setattr(snapshot, "export_project", recording)
    state = tmp_path / "state.json"
    saver = StateSaver(engine, state, interval=0.01)
    loop_thread = threading.current_thread().name
    saver.changed()
    while saver.saves < 1:
        await asyncio.sleep(0.01)
    assert len(exported) == 30
    assert all(thread != loop_thread for _, thread in exported), "exported on the loop"
    exported.clear()
    changed = engine.projects["key-7"]
    Tenant(engine, "key-7", "http://127.0.0.1:9").add_account("gmail", "v")
    saver.changed(changed)
    while saver.saves < 2:
        await asyncio.sleep(0.01)
    assert [key for key, _ in exported] == ["key-7"]
    await saver.aclose()
    doc = snapshot.read_file(state)
    assert len(doc["tenants"]) == 30
    restored = Engine(seed=2)
    snapshot.import_snapshot(restored, doc)
    assert len(restored.projects["key-7"].accounts) == 2
    assert saver.max_duration > 0


def test_orphans_are_cleaned_and_a_second_server_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    orphans = [tmp_path / ".state.json.4242.tmp", tmp_path / ".state.json.x1y2z3.tmp"]
    for orphan in orphans:
        orphan.write_text("half a snapshot")
    unrelated = tmp_path / ".other.json.1.tmp"
    unrelated.write_text("not ours")
    with serve(tmp_path, "--state-file", str(state)) as first:
        first.call("POST", "/api/v3.1/auth_configs", {"toolkit": {"slug": "github"}})
        assert not any(o.exists() for o in orphans) and unrelated.exists()
        second = subprocess.run(
            [sys.executable, "-m", "mockcomposio", "serve", "--port", "0", "--state-file",
             str(state)], capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert "in use by another mockcomposio server" in second.stderr
        first.proc.send_signal(signal.SIGTERM)
        assert first.proc.wait(15) == 0
    assert len(snapshot.read_file(state)["tenants"]) == 1
    # The lock went with the first server: a new one starts on the same file.
    with serve(tmp_path, "--state-file", str(state)) as again:
        assert again.call("GET", "/api/v3.1/auth_configs")["items"]
        again.proc.send_signal(signal.SIGTERM)
        assert again.proc.wait(15) == 0


def test_a_seed_file_failing_halfway_leaves_no_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    seed = tmp_path / "seed.json"
    good = {"api_key": "a", "connected_accounts": [{"auth_config": "github"}]}
    bad = {"api_key": "b", "connected_accounts": [{"auth_config": "github",
                                                   "scopes": ["not-a-scope"]}]}
    seed.write_text(json.dumps({"tenants": [good, bad]}))
    failed = subprocess.run(
        [sys.executable, "-m", "mockcomposio", "serve", "--port", "0", "--state-file",
         str(state), "--seed-file", str(seed)], capture_output=True, text=True, timeout=60)
    assert failed.returncode == 2, failed.stderr
    assert "tenants[1].connected_accounts[0]" in failed.stderr
    assert not state.exists()  # nothing half-applied was saved
    seed.write_text(json.dumps({"tenants": [good, {**bad, "connected_accounts": [
        {"auth_config": "github"}]}]}))
    with serve(tmp_path, "--state-file", str(state), "--seed-file", str(seed)) as server:
        assert len(server.call("GET", "/api/v3.1/connected_accounts", key="b")["items"]) == 1
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(15) == 0
    assert "seeded 2 tenant(s)" in server.stderr.read_text()
