from __future__ import annotations

import importlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio.engine import Engine
from mockcomposio.http.app import create_app

# Every response-cache hit in this suite (and in the servers it starts) is rendered again and
# compared with the cached bytes: a stale hit fails the test that provoked it.
os.environ.setdefault("MOCKCOMPOSIO_CACHE_AUDIT", "1")

# Run only by tests/test_downstream_example.py, in its own pytest process, as a user would.
collect_ignore = ["downstream"]

KEY = {"x-api-key": "key-a"}
OTHER = {"x-api-key": "key-b"}


@pytest.fixture
def engine() -> Engine:
    return Engine(seed=7)


@pytest.fixture
async def api(aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
              engine: Engine) -> TestClient[Any, Any]:
    # Strict: every response our own tests provoke must match its contract (issue 6).
    return await aiohttp_client(create_app(engine, strict=True))


@pytest.fixture
def sdk(composio_client: Any) -> Any:
    """The official SDK with strict response validation: every response must match its
    pydantic model exactly, not just carry the fields a call happens to read."""
    composio_client.client._strict_response_validation = True
    return composio_client


# -- prerequisites: a skip on a laptop, a failure in CI (issue 19) -----------------------------

def in_ci() -> bool:
    """``CI`` set to anything but empty/0/false (GitHub Actions, GitLab and .ci/run set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(available: bool, what: str, how: str) -> None:
    """Skip when a prerequisite is missing, except under CI, where the run must not go green
    with whole suites silently skipped: there it is a failure saying how to provide it."""
    if available:
        return
    message = f"{what} is not available; {how}"
    if in_ci():
        pytest.fail(f"{message} (CI is set: a missing prerequisite fails instead of skipping)",
                    pytrace=False)
    pytest.skip(message)


def require_module(name: str, how: str) -> Any:
    """``pytest.importorskip`` that fails under CI."""
    try:
        return importlib.import_module(name)
    except ImportError:
        require(False, f"the Python module {name!r}", how)
        raise  # unreachable: require() skipped or failed


def require_file(path: Path, how: str) -> Path:
    require(path.exists(), str(path), how)
    return path
