"""The composio wheel's own live integration test for ``session.update()``
(``composio/integration_test/test_tool_router_session_update.py``), run unmodified against
``mockcomposio serve --strict``.

The file is copied byte for byte (its sha256 is checked against the installed wheel's) into a
temporary directory next to a conftest that replaces only the wheel's ``composio_client``
fixture: the wheel builds ``Composio()`` with tracking on and no base URL; ours points it at the
server with ``allow_tracking=False``. Everything else — the test body, its assertions, its
``@pytest.mark.integration`` — is Composio's.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import require_module
from .serving import serve_subprocess

composio = require_module("composio", "end-to-end tests need: pip install -e '.[sdk]'")

pytestmark = pytest.mark.sdk
ROOT = Path(__file__).resolve().parent.parent
WHEEL_TESTS = Path(composio.__file__).resolve().parent / "integration_test"
WHEEL_FILES = ["test_tool_router_session_update.py"]

CONFTEST = '''\
"""Client construction pointed at mockcomposio, tracking off (the only change to the wheel's
integration-test setup)."""
import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: Composio live integration test")


@pytest.fixture(scope="session")
def composio_client():
    from composio import Composio

    return Composio(api_key=os.environ["COMPOSIO_API_KEY"],
                    base_url=os.environ["COMPOSIO_BASE_URL"], allow_tracking=False)
'''


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`mockcomposio serve --port 0 --strict` in its own process; yields its base URL."""
    log_path = tmp_path_factory.mktemp("wheel-server") / "server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with serve_subprocess(log_path, "--strict", env=env, cwd=ROOT) as base_url:
        yield base_url


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", WHEEL_FILES)
def test_wheel_integration_test_passes_unmodified(serve: str, tmp_path: Path, name: str) -> None:
    source = WHEEL_TESTS / name
    assert source.is_file(), f"the installed composio wheel has no integration_test/{name}"
    target = tmp_path / name
    shutil.copyfile(source, target)
    assert _sha256(target) == _sha256(source)  # unmodified
    (tmp_path / "conftest.py").write_text(CONFTEST)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSIO_")}
    env.update({"COMPOSIO_API_KEY": f"wheel-{name}", "COMPOSIO_BASE_URL": serve,
                "PYTHONPATH": str(ROOT)})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA",
         "--rootdir", str(tmp_path), str(target)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    output = f"{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, output
    assert " passed" in done.stdout and " skipped" not in done.stdout, output
    assert "failed" not in done.stdout, output
