"""The downstream example suite (tests/downstream/) run the way a user's CI runs it: in a
fresh pytest process with only the installed plugin (no conftest of ours), on two xdist
workers, in random order. It is excluded from this suite's own collection (tests/conftest.py)
so it runs exactly here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOWNSTREAM = Path(__file__).parent / "downstream"

pytestmark = pytest.mark.sdk


def test_example_suite_passes_on_two_workers_in_random_order() -> None:
    order_seed = 20261202
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSIO_", "PYTEST_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
         "-n", "2", "--random-order-bucket=global",
         f"--random-order-seed={order_seed}", "--confcutdir", str(DOWNSTREAM),
         "--rootdir", str(DOWNSTREAM), str(DOWNSTREAM)],
        capture_output=True, text=True, env=env, timeout=300, cwd=DOWNSTREAM)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "created: 2/2 workers" in out, out
    assert f"random-order-seed={order_seed}" in out, out
    passed = re.search(r"(\d+) passed", out)
    collected = sum(1 for line in (DOWNSTREAM / "test_sampleapp.py").read_text().splitlines()
                    if line.startswith("def test_"))
    assert passed and int(passed.group(1)) == collected >= 8, out
