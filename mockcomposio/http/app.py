"""The aiohttp front door: middleware (request ids, API keys, error envelope) and app factory.

Handlers are thin: they parse the request into a :class:`Call`, call the domain, and return
``(status, json)`` or a ready aiohttp response. Every failure becomes Composio's envelope here.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from .. import contracts
from ..domain.connected_accounts import Origin
from ..domain.project import Project
from ..engine import Engine
from ..errors import ComposioError, bad_request, missing_api_key

log = logging.getLogger("mockcomposio.http")

ENGINE_KEY: web.AppKey[Engine] = web.AppKey("engine", Engine)
MAX_BODY_BYTES = 1024 * 1024
JSON_HEADERS = {"content-type": "application/json; charset=utf-8"}


@dataclass
class Call:
    """What a handler gets: the tenant, the parsed request, and where the caller reached us."""

    request: web.Request
    engine: Engine
    tenant: Project | None  # None on routes reached without an API key (pages, provider)
    origin: Origin
    body: Any = None
    match: dict[str, str] = field(default_factory=dict)

    @property
    def project(self) -> Project:
        if self.tenant is None:
            raise RuntimeError("this route is not tenant-scoped (Route.auth is False)")
        return self.tenant

    @property
    def query(self) -> MultiMapping[str]:
        return self.request.query


HandlerResult = tuple[int, Any] | web.StreamResponse
Handler = Callable[[Call], HandlerResult]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    operation: str
    auth: bool = True  # needs x-api-key (the API); pages and provider endpoints don't
    json_body: bool = False
    form_body: bool = False  # HTML forms and the provider's token endpoint


def origin_of(request: web.Request) -> Origin:
    return Origin(f"{request.scheme}://{request.host}")


def json_response(status: int, payload: Any, request_id: str,
                  headers: dict[str, str] | None = None) -> web.Response:
    h = {"x-request-id": request_id, **JSON_HEADERS}
    if headers:
        h.update(headers)
    if status in (409, 429) or status >= 500:
        h.setdefault("x-should-retry", "false")
    return web.Response(status=status, body=json.dumps(payload).encode(), headers=h)


def error_response(err: ComposioError, request_id: str) -> web.Response:
    return json_response(err.status, err.envelope(request_id), request_id, err.headers)


def _request_id(request: web.Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given[:200] if given else uuid.uuid4().hex


async def _read_json(request: web.Request) -> Any:
    if not request.can_read_body:
        return {}
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(f"Request body is not valid JSON: {exc}.", slug="Request_InvalidJson",
                          suggested_fix="Send a JSON object with content-type: "
                          "application/json.") from exc


async def _read_form(request: web.Request) -> dict[str, list[str]]:
    try:
        data = await request.post()
    except ValueError as exc:
        raise bad_request(f"Request body is not a valid form: {exc}.",
                          slug="Request_InvalidForm") from exc
    out: dict[str, list[str]] = {}
    for key, value in data.items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


def make_handler(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        engine = request.app[ENGINE_KEY]
        request_id = request["request_id"]
        project: Project | None = None
        if route.auth:
            api_key = request.headers.get("x-api-key", "").strip()
            if not api_key:
                raise missing_api_key()
            project = engine.project(api_key)
            if project.strict_contracts:
                request[contracts.STRICT_TENANT_KEY] = True
                request[contracts.TENANT_VIOLATIONS_KEY] = project.contract_violations
        body = None
        if route.json_body:
            body = await _read_json(request)
            if not isinstance(body, dict):
                raise bad_request("Request body must be a JSON object.",
                                  slug="Request_InvalidJson")
            contracts.validate_request(route.operation, body)
        elif route.form_body:
            body = await _read_form(request)
        call = Call(request, engine, project, origin_of(request), body,
                    dict(request.match_info))
        if project is not None:
            with project.lock:
                project.run_due()
                result = route.handler(call)
        else:
            result = route.handler(call)
        if isinstance(result, web.StreamResponse):
            result.headers.setdefault("x-request-id", request_id)
            return result
        status, payload = result
        if (problem := contracts.strict_check(request, route.operation, status, payload)):
            raise problem
        return json_response(status, payload, request_id)

    async def strict_handle(request: web.Request) -> web.StreamResponse:
        # strict mode: our own error envelopes must match the operation's contract too
        try:
            return await handle(request)
        except ComposioError as err:
            envelope = err.envelope(request["request_id"])
            if err.slug != "Mock_ContractViolation" and (
                    problem := contracts.strict_check(request, route.operation, err.status,
                                                      envelope)):
                raise problem from err
            raise

    handle.__name__ = strict_handle.__name__ = route.operation.replace(".", "_")
    return strict_handle


@web.middleware
async def envelope_middleware(request: web.Request,
                              handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
                              ) -> web.StreamResponse:
    request_id = _request_id(request)
    request["request_id"] = request_id
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except ComposioError as err:
        status = err.status
        return error_response(err, request_id)
    except web.HTTPRequestEntityTooLarge:
        status = 413
        return error_response(ComposioError(
            413, "Request_TooLarge", f"Request body is larger than {MAX_BODY_BYTES} bytes.",
            suggested_fix="Send a smaller body; no Composio request needs this much."),
            request_id)
    except web.HTTPException as exc:
        status = exc.status
        if exc.status == 404:
            return error_response(_not_found(request), request_id)
        if exc.status == 405:
            return error_response(ComposioError(
                405, "Request_MethodNotAllowed",
                f"{request.method} is not allowed on {request.path}.",
                suggested_fix="Check the HTTP method against the API reference."), request_id)
        if exc.status < 400:
            raise
        return error_response(ComposioError(exc.status, "Request_Error", exc.reason),
                              request_id)
    except Exception:  # a bug of ours: still the envelope, never a bare traceback page
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(ComposioError(
            500, "Internal_ServerError", "mockcomposio hit an internal error (a bug in the "
            "fake, not in your request); see the server log.", code=5000), request_id)
    finally:
        log.info("%s %s %s %.1fms %s", request.method, request.path_qs, status,
                 (time.perf_counter() - started) * 1000, request_id)


def _not_found(request: web.Request) -> ComposioError:
    path = request.path
    hint = ""
    if path.startswith("/api/") and not path.startswith(("/api/v3/", "/api/v3.1/")):
        hint = " mockcomposio serves the API under /api/v3 and /api/v3.1."
    elif not path.startswith(("/api/", "/_mock", "/_oauth", "/link")):
        hint = " API paths start with /api/v3.1/ (the SDK's base_url must not include /api)."
    return ComposioError(404, "Route_NotFound",
                         f"No route for {request.method} {path}.{hint}",
                         suggested_fix="Check the path against the Composio API reference.")


def create_app(engine: Engine | None = None, *, strict: bool = False) -> web.Application:
    """``strict``: validate every JSON response against ``contracts/responses``; a violation
    is answered as a 500 envelope and recorded in ``app[contracts.VIOLATIONS_KEY]``."""
    from .routes import ROUTES

    app = web.Application(middlewares=[envelope_middleware], client_max_size=MAX_BODY_BYTES)
    app[ENGINE_KEY] = engine or Engine()
    app[contracts.STRICT_KEY] = strict
    app[contracts.VIOLATIONS_KEY] = []
    if strict:
        contracts.warm_up(sorted({route.operation for route in ROUTES}))
    for route in ROUTES:
        app.router.add_route(route.method, route.path, make_handler(route))
    return app
