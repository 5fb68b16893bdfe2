from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio.engine import Engine
from mockcomposio.http.app import create_app

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
