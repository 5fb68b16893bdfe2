"""The app's router remembers how (method, path) pairs resolved (``_RememberingRouter`` in
``mockcomposio/http/app.py``): a remembered answer must be exactly what aiohttp's own
resolution gives, per request, and the memory must stay bounded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from mockcomposio.engine import Engine
from mockcomposio.http.app import _RememberingRouter, create_app

from .conftest import KEY
from .test_http_flows import V31

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]


async def test_remembered_paths_resolve_as_aiohttp_does(aiohttp_client: MakeClient) -> None:
    """Each id on one path template gets its own match; the second request of a path (a
    remembered resolution) answers exactly like the first, 404 and 405 included (what no
    route takes resolves to the catch-all route, remembered like any other)."""
    app = create_app(Engine(seed=3))
    assert isinstance(app.router, _RememberingRouter)
    api = await aiohttp_client(app)
    created = []
    for name in ("one", "two"):
        resp = await api.post(f"{V31}/auth_configs", headers=KEY, json={
            "toolkit": {"slug": "github"}, "auth_config": {"name": name,
                                                           "type": "use_composio_managed_auth"}})
        assert resp.status == 201, await resp.text()
        created.append((await resp.json())["auth_config"]["id"])
    for _ in range(2):  # first resolved by aiohttp, then remembered
        for ac_id, name in zip(created, ("one", "two"), strict=True):
            resp = await api.get(f"{V31}/auth_configs/{ac_id}", headers=KEY)
            assert resp.status == 200
            assert (await resp.json())["name"] == name  # the match of this path, not another
        missing = await api.get(f"{V31}/no_such_thing", headers=KEY)
        assert missing.status == 404
        wrong_method = await api.put(f"{V31}/auth_configs", headers=KEY, json={})
        assert wrong_method.status == 405
    remembered = app.router._resolved  # type: ignore[attr-defined]
    assert ("GET", f"{V31}/auth_configs/{created[0]}") in remembered
    catch_all = remembered[("GET", f"{V31}/no_such_thing")][1].resource
    assert catch_all is not None and catch_all.canonical == "/{unmatched_path}"


async def test_a_handler_changing_its_match_does_not_change_the_next(
        aiohttp_client: MakeClient) -> None:
    """A remembered match is copied for each request: what one handler does to its
    ``match_info`` is not seen by the next request of the same path."""
    app = web.Application()
    _RememberingRouter.adopt(app)
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.match_info["name"])
        request.match_info["name"] = "changed"  # type: ignore[index]
        return web.Response(text="ok")

    app.router.add_get("/items/{name}", handler)
    api = await aiohttp_client(app)
    for _ in range(3):
        assert (await api.get("/items/first")).status == 200
    assert seen == ["first"] * 3


async def test_the_memory_is_bounded(aiohttp_client: MakeClient,
                                     monkeypatch: Any) -> None:
    """Past MAX_REMEMBERED distinct paths the router starts over: a flood of ids costs no
    memory, and every path still resolves."""
    monkeypatch.setattr(_RememberingRouter, "MAX_REMEMBERED", 5)
    app = web.Application()
    _RememberingRouter.adopt(app)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=request.match_info["name"])

    app.router.add_get("/items/{name}", handler)
    api = await aiohttp_client(app)
    for i in range(23):
        resp = await api.get(f"/items/n{i}")
        assert await resp.text() == f"n{i}"
        assert len(app.router._resolved) <= 5  # type: ignore[attr-defined]
