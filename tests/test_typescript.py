"""The official TypeScript SDK (`@composio/core`) against `mockcomposio serve`.

Runs the node conformance suite in `ts/` (`node --test`, see ts/test/) against a standalone
server started exactly as the README says, so `python -m pytest` covers the TS SDK too. The
suite preloads a network guard (ts/guard.mjs) that refuses and records any non-loopback
connection; the guard's log must stay empty. Node is required: a missing node fails, not skips.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .serving import serve_subprocess

pytestmark = pytest.mark.sdk  # drives an official SDK in a subprocess

TS_DIR = Path(__file__).resolve().parent.parent / "ts"
MIN_NODE_MAJOR = 20  # node:test, --import preloads and the SDK's dependencies need 20+
NPM_CI = ["npm", "ci", "--no-audit", "--no-fund"]


def require_node(path: str | None = None) -> str:
    """The node executable, or a test failure saying how to get one."""
    node = shutil.which("node", path=path)
    if node is None:
        pytest.fail("node is not installed, so the TypeScript SDK suite cannot run. Install "
                    f"Node.js {MIN_NODE_MAJOR}+ (e.g. `apt-get install nodejs npm`), then "
                    "`cd ts && npm ci`.", pytrace=False)
    version = subprocess.run([node, "--version"], capture_output=True, text=True,
                             timeout=30).stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if match is None or int(match.group(1)) < MIN_NODE_MAJOR:
        pytest.fail(f"node {version or '(unknown version)'} is too old for the TypeScript SDK "
                    f"suite; install Node.js {MIN_NODE_MAJOR}+.", pytrace=False)
    return node


def ensure_node_modules() -> None:
    """`npm ci` from the committed lockfile when ts/node_modules is missing (CI does it first)."""
    if (TS_DIR / "node_modules" / "@composio" / "core" / "package.json").exists():
        return
    if shutil.which("npm") is None:
        pytest.fail("ts/node_modules is missing and npm is not installed; run "
                    "`cd ts && npm ci` first.", pytrace=False)
    done = subprocess.run(NPM_CI, cwd=TS_DIR, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        pytest.fail(f"`{' '.join(NPM_CI)}` in ts/ failed:\n{done.stdout}\n{done.stderr}",
                    pytrace=False)


@pytest.fixture(scope="module")
def standalone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`mockcomposio serve --port 0` in its own process; yields the base URL it prints."""
    log_path = tmp_path_factory.mktemp("ts-server") / "server.log"
    with serve_subprocess(log_path, "--seed", "10", "--strict") as base_url:
        yield base_url


def node_env(base_url: str, guard_log: Path) -> dict[str, str]:
    # Only what the suite needs from the parent: no stray COMPOSIO_* credentials, no
    # NODE_OPTIONS that could preload something else.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("COMPOSIO_") and k != "NODE_OPTIONS"}
    env.update({
        "COMPOSIO_BASE_URL": base_url,
        "COMPOSIO_API_KEY": "ts-suite",
        "TELEMETRY_DISABLED": "true",
        "MOCKCOMPOSIO_NETGUARD_LOG": str(guard_log),
        "NO_COLOR": "1",
    })
    return env


def test_node_missing_fails_instead_of_skipping(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="node is not installed"):
        require_node(path=str(tmp_path))  # an empty PATH: no node on it


def test_typescript_sdk_conformance_suite(standalone_server: str, tmp_path: Path) -> None:
    node = require_node()
    ensure_node_modules()
    test_files = sorted(str(p.relative_to(TS_DIR)) for p in (TS_DIR / "test").glob("*.test.mjs"))
    assert len(test_files) >= 6, test_files
    guard_log = tmp_path / "netguard.jsonl"
    done = subprocess.run(
        [node, "--import", "./guard.mjs", "--test", "--test-reporter=tap", *test_files],
        cwd=TS_DIR, env=node_env(standalone_server, guard_log), capture_output=True,
        text=True, timeout=600)
    output = f"{done.stdout}\n{done.stderr}"
    failed = re.findall(r"^\s*not ok \d+ - (.+)$", done.stdout, flags=re.MULTILINE)
    if done.returncode != 0:
        pytest.fail(f"the TypeScript SDK suite failed ({len(failed)} failing: {failed}):\n"
                    f"{output}", pytrace=False)
    totals = dict(re.findall(r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$",
                             done.stdout, flags=re.MULTILINE))
    assert int(totals.get("pass", "0")) >= 40, output  # the suite really ran
    assert totals.get("fail") == "0" and totals.get("cancelled") == "0", output
    assert totals.get("skipped") == "0" and totals.get("todo") == "0", output
    attempts = ([json.loads(line) for line in guard_log.read_text().splitlines()]
                if guard_log.exists() else [])
    assert attempts == [], f"the TS SDK tried to reach non-loopback hosts: {attempts}"
