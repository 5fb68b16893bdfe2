"""Without Chromium the browser tests skip with the reason on a contributor's machine, and
fail under CI (issue 20). Runs one browser test in a subprocess with a missing binary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ONE_TEST = "tests/browser/test_pages.py::test_connect_link_api_key_form_requires_the_field"


def _run(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["MOCKCOMPOSIO_CHROMIUM"] = "/nonexistent/chromium"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p",
                           "no:cacheprovider", ONE_TEST], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("ci", [None, "false"])
def test_missing_browser_skips_with_the_reason_outside_ci(ci: str | None) -> None:
    proc = _run(ci)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 skipped" in proc.stdout
    assert "/nonexistent/chromium is missing" in proc.stdout
    assert "apt-get install -y chromium" in proc.stdout


@pytest.mark.parametrize("ci", ["true"])
def test_missing_browser_fails_under_ci(ci: str) -> None:
    proc = _run(ci)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "CI is set: browser tests must run in CI" in proc.stdout
