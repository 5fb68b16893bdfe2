"""pytest plugin (registered through the ``pytest11`` entry point).

Fixtures:
- ``mock_composio_server`` (session): the fake on a loopback port, one per worker.
- ``mock_composio`` (function): a fresh tenant (its own API key and project) on that server;
  dropped after the test in O(1).
- ``composio_env``: ``COMPOSIO_BASE_URL`` / ``COMPOSIO_API_KEY`` set for the test.
- ``composio_client``: the official SDK's ``Composio(...)`` pointed at the tenant, tracking off.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest

from .tenant import Tenant

_tenant_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def mock_composio_server() -> Iterator[Any]:
    from .engine import Engine
    from .server import LiveServer

    server = LiveServer(Engine()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mock_composio(mock_composio_server: Any, request: pytest.FixtureRequest) -> Iterator[Tenant]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    api_key = f"test-{worker}-{next(_tenant_numbers)}"
    tenant = Tenant(mock_composio_server.engine, api_key, mock_composio_server.base_url)
    _ = tenant.project  # provision now, so the test starts from a known empty project
    try:
        yield tenant
    finally:
        mock_composio_server.engine.drop(api_key)


@pytest.fixture
def composio_env(mock_composio: Tenant, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in mock_composio.env.items():
        monkeypatch.setenv(key, value)
    return mock_composio.env


@pytest.fixture
def composio_client(mock_composio: Tenant) -> Any:
    try:
        from composio import Composio
    except ImportError:  # pragma: no cover - depends on the user's environment
        pytest.fail("the composio_client fixture needs the official SDK: pip install composio")
    return Composio(api_key=mock_composio.api_key, base_url=mock_composio.base_url,
                    allow_tracking=False)
