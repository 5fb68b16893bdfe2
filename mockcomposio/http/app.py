"""The aiohttp front door: middleware (request ids, API keys, error envelope) and app factory.

Handlers are thin: they parse the request into a :class:`Call`, call the domain, and return
``(status, json)`` or a ready aiohttp response. Every failure becomes Composio's envelope here.
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import itertools
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from multidict import MultiMapping

from .. import contracts
from ..domain.connected_accounts import Origin
from ..domain.journal import MAX_ITEMS as JOURNAL_MAX_ITEMS
from ..domain.journal import JournalEntry
from ..domain.project import Project
from ..domain.redact import redact, redact_form, redact_query
from ..engine import Engine
from ..errors import ComposioError, bad_request, missing_api_key
from ..strict_json import MAX_INT_DIGITS as MAX_INT_DIGITS
from ..strict_json import body_problem, strict_json_loads
from .policy import Policy

log = logging.getLogger("mockcomposio.http")

ENGINE_KEY: web.AppKey[Engine] = web.AppKey("engine", Engine)
# Cross-tenant opt-in and Host allow-list (issue 19).
POLICY_KEY: web.AppKey[Policy] = web.AppKey("policy", Policy)
# Called after every request that may have changed state (the --state-file saver listens),
# with the tenant it reached, or None when it may have changed any (or none known).
ON_CHANGE_KEY: web.AppKey[list[Callable[[Project | None], None]]] = web.AppKey("on_change",
                                                                              list)
# (method, path template) of every route, for "did you mean" hints on 404s.
ROUTE_PATHS_KEY: web.AppKey[list[tuple[str, str]]] = web.AppKey("route_paths", list)
# Per-request keys: what the journal records.
REQUEST_ID_KEY: web.RequestKey[str] = web.RequestKey("mockcomposio_request_id", str)
_PROJECT: web.RequestKey[Any] = web.RequestKey("mockcomposio_project", object)  # Project|None
_OPERATION: web.RequestKey[str] = web.RequestKey("mockcomposio_operation", str)
_REQ_BODY: web.RequestKey[Any] = web.RequestKey("mockcomposio_request_body", object)
_RESP_BODY: web.RequestKey[Any] = web.RequestKey("mockcomposio_response_body", object)  # bytes
_FAULT: web.RequestKey[str] = web.RequestKey("mockcomposio_fault", str)
_HINT: web.RequestKey[str] = web.RequestKey("mockcomposio_hint", str)
_REFUSED: web.RequestKey[bool] = web.RequestKey("mockcomposio_refused", bool)
MAX_BODY_BYTES = 1024 * 1024
# Paths longer than this get no "did you mean" hint (the longest route is under 100).
MAX_HINT_PATH = 200
# Nesting levels of a JSON body: API bodies are stored as given, so they must stay well within
# what deep copies, renders and exports can handle; the control plane's state import carries
# those stored bodies inside a snapshot, hence more room there.
MAX_JSON_DEPTH = 64
MAX_CONTROL_JSON_DEPTH = 4 * MAX_JSON_DEPTH
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
# A handler may also return an awaitable of its result (awaited outside the tenant's lock):
# for work too long for the event loop, done on a worker thread (whole-server exports).
Handler = Callable[[Call], HandlerResult | Awaitable[HandlerResult]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    operation: str
    auth: bool = True  # needs x-api-key (the API); pages and provider endpoints don't
    json_body: bool = False
    form_body: bool = False  # HTML forms and the provider's token endpoint
    raw_body: bool = False  # the body as bytes (the webhook receiver checks signatures on it)


def origin_of(request: web.Request) -> Origin:
    return Origin(f"{request.scheme}://{request.host}")


def json_response(status: int, payload: Any, request_id: str,
                  headers: dict[str, str] | None = None) -> web.Response:
    h = {"x-request-id": request_id, **JSON_HEADERS}
    if headers:
        h.update(headers)
    if status in (409, 429) or status >= 500:
        h.setdefault("x-should-retry", "false")
    return web.Response(status=status, body=encode_json(payload), headers=h)


def encode_json(payload: Any) -> bytes:
    """The response body. orjson encodes ~5x faster than the json module (every response is
    rendered and encoded afresh); anything it refuses (int dict keys, huge ints) falls back to
    json, so the output is always what json would accept."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        return json.dumps(payload).encode()


def error_response(err: ComposioError, request_id: str) -> web.Response:
    """The envelope as a response (the middleware's ``_error`` also journals it)."""
    return json_response(err.status, err.envelope(request_id), request_id, err.headers)


# Request ids: 32 hex digits, a random per-process prefix and a counter. Unique like a uuid4,
# without a urandom call per request.
_REQUEST_ID_PREFIX = uuid.uuid4().hex[:16]
_request_numbers = itertools.count(1)


def _request_id(request: web.Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given[:200] if given else f"{_REQUEST_ID_PREFIX}{next(_request_numbers):016x}"


async def _read_json(request: web.Request, max_depth: int = MAX_JSON_DEPTH) -> Any:
    if not request.can_read_body:
        return {}
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = strict_json_loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # RecursionError: nesting deeper than the parser's stack (e.g. 100k "["); ValueError
        # also covers NaN/Infinity, numbers that overflow and ints past Python's digit limit.
        raise bad_request(f"Request body is not valid JSON: {str(exc)[:200]}.",
                          slug="Request_InvalidJson", suggested_fix="Send a JSON object with "
                          "content-type: application/json (RFC 8259: no NaN or Infinity, "
                          "numbers within double range).") from exc
    if (problem := body_problem(body, max_depth)):
        raise bad_request(f"Request body {problem}.", slug="Request_InvalidJson",
                          suggested_fix="No Composio request needs this; send plain JSON "
                          "text and numbers.")
    return body


async def _read_form(request: web.Request) -> dict[str, list[str]]:
    try:
        data = await request.post()
    except (ValueError, LookupError, HttpProcessingError) as exc:
        # LookupError: an unknown charset; HttpProcessingError: broken multipart headers.
        raise bad_request(f"Request body is not a valid form: {exc}.",
                          slug="Request_InvalidForm") from exc
    out: dict[str, list[str]] = {}
    for key, value in data.items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


def _tenant_of(engine: Engine, request: web.Request) -> Project | None:
    """The tenant a request without an API key belongs to (link pages, provider endpoints,
    the OAuth callback), found through the same token indexes the handlers use."""
    info = request.match_info
    if "project" in info:
        return engine.project_by_id(info["project"])
    hit = None
    if "token" in info:
        hit = engine.find_link(info["token"])
    elif (state := request.query.get("state")):
        hit = engine.find_state(state)
    return hit[0] if hit else None


async def _apply_fault(request: web.Request, project: Project, operation: str) -> None:
    fault = project.faults.take(operation)
    if fault is None:
        return
    request[_FAULT] = fault.name
    if fault.latency_ms:
        await asyncio.sleep(fault.latency_ms / 1000)
    error = fault.error()
    if error is not None:
        raise error


def make_handler(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    control = route.operation.startswith("control.")

    async def handle(request: web.Request) -> web.StreamResponse:
        engine = request.app[ENGINE_KEY]
        request_id = request[REQUEST_ID_KEY]
        request[_OPERATION] = route.operation
        project: Project | None = None
        if (request.content_length or 0) > MAX_BODY_BYTES:
            # One clear limit on every route, not only on those that read their body.
            raise web.HTTPRequestEntityTooLarge(MAX_BODY_BYTES, request.content_length or 0)
        if route.auth:
            api_key = request.headers.get("x-api-key", "").strip()
            if not api_key:
                raise missing_api_key()
            project = engine.project(api_key)
            request[_PROJECT] = project
            if project.strict_contracts:
                request[contracts.STRICT_TENANT_KEY] = True
                request[contracts.TENANT_VIOLATIONS_KEY] = project.contract_violations
        elif not control:
            request[_PROJECT] = owner = _tenant_of(engine, request)
            if owner is not None:
                engine.touch(owner)
        if not control and (owner := request.get(_PROJECT)) is not None and owner.faults:
            # Before the body is read or the handler runs: a fault never changes state.
            await _apply_fault(request, owner, route.operation)
        body = None
        if route.json_body:
            body = await _read_json(request, MAX_JSON_DEPTH if route.path.startswith("/api/")
                                    else MAX_CONTROL_JSON_DEPTH)
            request[_REQ_BODY] = body
            if not isinstance(body, dict):
                raise bad_request("Request body must be a JSON object.",
                                  slug="Request_InvalidJson")
            contracts.validate_request(route.operation, body)
        elif route.form_body:
            body = await _read_form(request)
            request[_REQ_BODY] = redact_form(body)
        elif route.raw_body:
            body = await request.read()
        call = Call(request, engine, project, origin_of(request), body,
                    dict(request.match_info))
        if project is not None:
            with project.lock:
                project.run_due()
                result = route.handler(call)
        else:
            result = route.handler(call)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, web.StreamResponse):
            result.headers.setdefault("x-request-id", request_id)
            return result
        status, payload = result
        if (problem := contracts.strict_check(request, route.operation, status, payload)):
            raise problem
        response = json_response(status, payload, request_id)
        request[_RESP_BODY] = response.body
        return response

    async def strict_handle(request: web.Request) -> web.StreamResponse:
        # strict mode: our own error envelopes must match the operation's contract too
        try:
            return await handle(request)
        except ComposioError as err:
            envelope = err.envelope(request[REQUEST_ID_KEY])
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
    request[REQUEST_ID_KEY] = request_id
    started = time.perf_counter()
    status = 500
    try:
        policy = request.app.get(POLICY_KEY)
        if policy is not None and not policy.host_allowed(request.host):
            # Before any route, tenant or body: a page on another site reaching us through
            # DNS rebinding gets nothing (issue 19, finding 4).
            request[_REFUSED] = True
            raise ComposioError(
                403, "Request_HostNotAllowed",
                f"Host {log_safe(request.host)[:100]!r} is not allowed: mockcomposio answers "
                "IP addresses, localhost and the names given with --allowed-host.",
                suggested_fix="Start the server with --allowed-host <name> to accept it.")
        response = await handler(request)
        status = response.status
        return response
    except ComposioError as err:
        status = err.status
        return _error(request, err, request_id)
    except web.HTTPRequestEntityTooLarge:
        status = 413
        return _error(request, ComposioError(
            413, "Request_TooLarge", f"Request body is larger than {MAX_BODY_BYTES} bytes.",
            suggested_fix="Send a smaller body; no Composio request needs this much."),
            request_id)
    except web.HTTPException as exc:
        status = exc.status
        if exc.status == 404:
            return _error(request, _not_found(request), request_id)
        if exc.status == 405:
            return _error(request, ComposioError(
                405, "Request_MethodNotAllowed",
                f"{request.method} is not allowed on {request.path}.",
                suggested_fix="Check the HTTP method against the API reference."), request_id)
        if exc.status < 400:
            raise
        return _error(request, ComposioError(exc.status, "Request_Error", exc.reason),
                      request_id)
    except Exception:  # a bug of ours: still the envelope, never a bare traceback page
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(request, ComposioError(
            500, "Internal_ServerError", "mockcomposio hit an internal error (a bug in the "
            "fake, not in your request); see the server log.", code=5000), request_id)
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        query = redact_query(request.query_string) if request.query_string else ""
        if log.isEnabledFor(logging.INFO):  # off by default for `serve` (--log-requests)
            # Control characters escaped: a %0a in a path cannot forge a log line.
            log.info("%s %s%s %s %.1fms %s", log_safe(request.method), log_safe(request.path),
                     f"?{log_safe(query)}" if query else "", status, elapsed_ms,
                     log_safe(request_id))
        if not request.get(_REFUSED):
            _after(request, status, elapsed_ms, query, request_id)


_CONTROL_CHARS = {i: f"\\x{i:02x}" for i in [*range(0x20), 0x7f, *range(0x80, 0xa0)]}
_CONTROL_CHARS.update({0x5c: "\\\\", 0x2028: "\\u2028", 0x2029: "\\u2029"})
# Lone surrogates (undecodable bytes in a header or path) would break the log stream's encoder.
_CONTROL_CHARS.update({i: f"\\u{i:04x}" for i in range(0xd800, 0xe000)})


def log_safe(text: str) -> str:
    """``text`` with control characters (and backslashes) escaped, for one log line."""
    return text.translate(_CONTROL_CHARS)


def _error(request: web.Request, err: ComposioError, request_id: str) -> web.Response:
    response = error_response(err, request_id)
    request[_RESP_BODY] = response.body
    return response


def _after(request: web.Request, status: int, elapsed_ms: float, query: str,
           request_id: str) -> None:
    """Journal the request to its tenant and tell the state saver something may have changed.
    The control plane itself (``/_mock/...``) is neither journaled nor a change when read."""
    path = request.path
    project: Project | None = request.get(_PROJECT)
    if path.startswith("/_mock/") or path == "/_mock":
        if request.method != "GET":
            # A reset or import may replace any tenant: a full save.
            for notify in request.app.get(ON_CHANGE_KEY, []):
                notify(None)
        return
    if project is None and _OPERATION not in request:
        # No route: journal under the key's tenant if it exists; never create one for it.
        api_key = request.headers.get("x-api-key", "").strip()
        project = request.app[ENGINE_KEY].existing(api_key) if api_key else None
    if project is None:
        return
    for notify in request.app.get(ON_CHANGE_KEY, []):
        notify(project)
    journal = project.journal
    body = request.get(_REQ_BODY)  # None on every GET: no redaction pass to set up
    journal.append(JournalEntry(
        seq=journal.next_seq(), at=project.clock.now(), wall_time=time.time(),
        method=request.method, path=path, query=query, status=status,
        duration_ms=elapsed_ms, request_id=request_id, operation=request.get(_OPERATION),
        request_body=None if body is None else redact(body, max_items=JOURNAL_MAX_ITEMS),
        hint=request.get(_HINT), fault=request.get(_FAULT),
        response_raw=request.get(_RESP_BODY), request_size=request.content_length))


def _not_found(request: web.Request) -> ComposioError:
    path = request.path
    hint = ""
    if path.startswith("/api/v1/"):
        hint = (" mockcomposio serves the composio-core 0.7 subset of /api/v1 (apps, "
                "integrations, connectedAccounts, client/auth/client_info); the current API is "
                "under /api/v3 and /api/v3.1.")
    elif path.startswith("/api/") and not path.startswith(("/api/v3/", "/api/v3.1/")):
        hint = " mockcomposio serves the API under /api/v3 and /api/v3.1."
    elif not path.startswith(("/api/", "/_mock", "/_oauth", "/link")):
        hint = " API paths start with /api/v3.1/ (the SDK's base_url must not include /api)."
    if (guess := did_you_mean(request.method, path, request.app.get(ROUTE_PATHS_KEY, []))):
        hint += f" Did you mean {guess}?"
    if hint:
        request[_HINT] = hint.strip()
    return ComposioError(404, "Route_NotFound",
                         f"No route for {request.method} {path}.{hint}",
                         suggested_fix="Check the path against the Composio API reference.")


def did_you_mean(method: str, path: str, routes: list[tuple[str, str]]) -> str | None:
    """The closest route to a path that matched none (``"GET /api/v3.1/toolkits/{slug}"``):
    each template's ``{placeholders}`` are filled with the request's own segments first, so a
    typo in a fixed segment is what gets compared."""
    target = path.rstrip("/")
    if len(target) > MAX_HINT_PATH:
        return None  # no route is this long; comparing it would only cost time
    segments = target.split("/")
    best: tuple[float, bool, str] | None = None
    for route_method, template in routes:
        parts = template.split("/")
        if abs(len(parts) - len(segments)) > 1:
            continue  # a typo changes a segment, it rarely adds or drops two
        filled = "/".join(seg if part.startswith("{") else part
                          for part, seg in zip(parts, segments, strict=True)) \
            if len(parts) == len(segments) else template
        matcher = difflib.SequenceMatcher(None, target, filled)
        # The cheap upper bounds first: most templates are ruled out without the full ratio.
        if matcher.real_quick_ratio() < 0.8 or matcher.quick_ratio() < 0.8:
            continue
        ratio = matcher.ratio()
        candidate = (ratio, route_method == method, f"{route_method} {template}")
        if ratio >= 0.8 and (best is None or candidate[:2] > best[:2]):
            best = candidate
    return best[2] if best else None


class _EnvelopeRequestHandler(RequestHandler):
    """aiohttp's connection handler, answering requests its HTTP parser refuses (request line
    or header over 8190 bytes, broken framing) with Composio's envelope instead of aiohttp's
    plain-text 400: these never reach the middleware."""

    __slots__ = ()

    def handle_error(self, request: BaseRequest, status: int = 500,
                     exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if request.writer.output_size > 0:  # as aiohttp does: a response is already under way
            raise ConnectionError("Response is sent already, cannot send another response "
                                  "with the error message")
        request_id = uuid.uuid4().hex
        if status >= 500:
            log.error("error handling request", exc_info=exc)
            err = ComposioError(status, "Internal_ServerError", "mockcomposio hit an internal "
                                "error (a bug in the fake, not in your request); see the "
                                "server log.", code=5000)
        else:
            log.info("refused an unparsable HTTP request: %s", type(exc).__name__)
            # aiohttp's own message quotes the request line: not echoed (it may hold secrets).
            what = (f"The request line or a header is longer than {self.max_line_size} bytes"
                    if isinstance(exc, LineTooLong) else
                    f"The HTTP request could not be parsed ({type(exc).__name__})")
            err = ComposioError(status, "Request_Malformed", f"{what}.", suggested_fix=(
                "Send a shorter URL (move long values into a JSON body) and headers under "
                f"{self.max_field_size} bytes each." if isinstance(exc, LineTooLong) else
                "Send a well-formed HTTP/1.1 request."))
        response = json_response(status, err.envelope(request_id), request_id)
        response.force_close()
        return response


class _EnvelopeServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _EnvelopeRequestHandler(self, loop=self._loop, **self._kwargs)


class EnvelopeAppRunner(web.AppRunner):
    """The AppRunner to serve :func:`create_app` with: also the requests aiohttp's parser
    refuses get Composio's envelope."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # The app builds a plain Server (Application cannot be subclassed); same layout, so
        # switching its class only changes the connection handlers it creates.
        server.__class__ = _EnvelopeServer
        return server


def create_app(engine: Engine | None = None, *, strict: bool = False,
               policy: Policy | None = None) -> web.Application:
    """``strict``: validate every JSON response against ``contracts/responses``; a violation
    is answered as a 500 envelope and recorded in ``app[contracts.VIOLATIONS_KEY]``.
    ``policy``: cross-tenant opt-in and allowed Host names (default: neither)."""
    from . import webhook_delivery
    from .routes import ROUTES

    app = web.Application(middlewares=[envelope_middleware], client_max_size=MAX_BODY_BYTES)
    app[ENGINE_KEY] = engine or Engine()
    app[POLICY_KEY] = policy or Policy()
    app[contracts.STRICT_KEY] = strict
    app[contracts.VIOLATIONS_KEY] = []
    app[ON_CHANGE_KEY] = []
    app[ROUTE_PATHS_KEY] = sorted({(r.method, r.path) for r in ROUTES})
    if strict:
        contracts.warm_up(sorted({route.operation for route in ROUTES}))
    for route in ROUTES:
        if route.method == "GET":  # HEAD answered wherever GET is (add_get's allow_head)
            app.router.add_get(route.path, make_handler(route))
        else:
            app.router.add_route(route.method, route.path, make_handler(route))
    app.cleanup_ctx.append(webhook_delivery.cleanup_ctx)
    return app
