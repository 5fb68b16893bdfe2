"""`mockcomposio serve` as a user runs it: first line is the base URL, health answers, loopback
by default, clean exit on SIGTERM and SIGINT."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request

import pytest


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_port_zero_health_and_clean_shutdown(sig: signal.Signals) -> None:
    started = time.perf_counter()
    # request logging is off by default (warning level); --log-requests turns it on
    flags = ["--log-requests"] if sig == signal.SIGTERM else []
    proc = subprocess.Popen([sys.executable, "-m", "mockcomposio", "serve", "--port", "0",
                             *flags], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        assert int(base_url.rsplit(":", 1)[1]) > 0
        with urllib.request.urlopen(f"{base_url}/_mock/health", timeout=5) as resp:
            assert resp.status == 200
            assert json.loads(resp.read())["status"] == "ok"
        request = urllib.request.Request(f"{base_url}/api/v3.1/auth_configs",
                                         headers={"x-api-key": "cli-test"})
        with urllib.request.urlopen(request, timeout=5) as resp:
            assert json.loads(resp.read())["items"] == []
        assert time.perf_counter() - started < 20
    finally:
        proc.send_signal(sig)
        code = proc.wait(10)
    assert code == 0
    assert proc.stderr is not None
    log = proc.stderr.read()
    # one line per request with --log-requests, none by default
    assert ("GET /api/v3.1/auth_configs 200" in log) == bool(flags), log
    assert f"inspector: {base_url}/_mock/" in log  # the banner names the inspector


def test_serve_reports_a_busy_port() -> None:
    first = subprocess.Popen([sys.executable, "-m", "mockcomposio", "serve", "--port", "0"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert first.stdout is not None
        port = first.stdout.readline().strip().rsplit(":", 1)[1]
        second = subprocess.run([sys.executable, "-m", "mockcomposio", "serve", "--port", port],
                                capture_output=True, text=True, timeout=20)
        assert second.returncode == 2
        assert "cannot listen" in second.stderr
    finally:
        first.terminate()
        first.wait(10)


def test_version_flag() -> None:
    from mockcomposio import __version__

    out = subprocess.run([sys.executable, "-m", "mockcomposio", "--version"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.strip() == f"mockcomposio {__version__}"


@pytest.mark.parametrize("flags, cached", [([], True), (["--no-response-cache"], False)])
def test_no_response_cache_flag_reaches_the_server(monkeypatch: pytest.MonkeyPatch,
                                                   flags: list[str], cached: bool) -> None:
    """``serve --no-response-cache`` serves with the response cache off."""
    from mockcomposio import cli, server

    asked: list[object] = []

    def serve_forever(engine: object, host: str, port: int, on_ready: object,
                      **kwargs: object) -> None:
        asked.append(kwargs["response_cache"])

    monkeypatch.setattr(server, "serve_forever", serve_forever)
    assert cli.main(["serve", "--port", "0", *flags]) == 0
    assert asked == [cached]
