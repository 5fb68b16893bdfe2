"""`mockcomposio serve` in a subprocess, for the tests that need the real command (an SDK in
another runtime, the wheel's own integration test, serve-only flags), and the check of which
modules a fresh interpreter has loaded after some code (lean imports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def serve_subprocess(log_path: Path, *flags: str, env: dict[str, str] | None = None,
                     cwd: Path | None = None) -> Iterator[str]:
    """``mockcomposio serve --port 0 FLAGS`` in its own process; yields the base URL it prints.
    Its log goes to ``log_path`` (a file, not a pipe: a full pipe would block the server); a
    server that does not start fails the test with that log."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mockcomposio", "serve", "--port", "0", *flags],
            stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=cwd)
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        if not base_url.startswith("http://127.0.0.1:"):
            pytest.fail(f"mockcomposio serve did not start: {base_url!r}\n"
                        f"{log_path.read_text()}", pytrace=False)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


ROOT = Path(__file__).resolve().parents[1]


def modules_loaded_after(code: str, names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` are in ``sys.modules`` after a fresh interpreter runs ``code``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport json, sys\n"
         f"print(json.dumps([m for m in {names!r} if m in sys.modules]))"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout.strip().splitlines()[-1]))
