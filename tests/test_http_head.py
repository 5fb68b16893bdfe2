"""HEAD is answered wherever GET is: same status and headers, no body (issue 20)."""

from __future__ import annotations

from typing import Any

import pytest

from mockcomposio.http.routes import ROUTES

from .conftest import KEY

GET_PATHS = ["/api/v3.1/auth_configs", "/api/v3/toolkits", "/api/v3.1/toolkits/github",
             "/_mock/health", "/_mock/", "/api/v3.1/connected_accounts"]


def test_every_get_route_has_a_head_twin() -> None:
    from mockcomposio.http.app import create_app

    app = create_app()
    registered = {(r.method, r.resource.canonical) for r in app.router.routes()
                  if r.resource is not None}
    for route in ROUTES:
        if route.method == "GET":
            assert ("HEAD", route.path) in registered, route.path


@pytest.mark.parametrize("path", GET_PATHS)
async def test_head_matches_get_without_a_body(api: Any, path: str) -> None:
    got = await api.get(path, headers=KEY)
    head = await api.head(path, headers=KEY)
    assert head.status == got.status == 200
    assert head.headers["content-type"] == got.headers["content-type"]
    assert await head.read() == b""


async def test_head_of_an_unknown_id_is_the_same_404(api: Any) -> None:
    got = await api.get("/api/v3.1/auth_configs/ac_missing", headers=KEY)
    head = await api.head("/api/v3.1/auth_configs/ac_missing", headers=KEY)
    assert head.status == got.status == 404
