"""The aiohttp front door: each route's request handling (request ids, API keys, the response
cache, error envelope, journal), the router and the app factory.

Handlers are thin: they parse the request into a :class:`Call`, call the domain, and return
``(status, json)`` or a ready aiohttp response. Every failure becomes Composio's envelope here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import inspect
import itertools
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from multidict import CIMultiDict, MultiMapping, istr

from .. import contracts
from ..domain.connected_accounts import Origin
from ..domain.journal import MAX_ITEMS as JOURNAL_MAX_ITEMS
from ..domain.journal import JournalEntry, request_id_text
from ..domain.project import Project
from ..domain.redact import redact, redact_form, redact_query
from ..engine import Engine
from ..errors import ComposioError, bad_request, missing_api_key
from ..strict_json import MAX_INT_DIGITS as MAX_INT_DIGITS
from ..strict_json import body_problem, strict_json_loads
from .cache import CacheKey, ResponseCache, audit_enabled
from .cache import usable as cache_usable
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
MAX_BODY_BYTES = 1024 * 1024
# The catch-all route, registered last.
UNMATCHED_PATH = "/{unmatched_path:(?s:.*)}"  # (?s): paths with a decoded newline too
# Paths longer than this get no "did you mean" hint (the longest route is under 100).
MAX_HINT_PATH = 200
# Nesting levels of a JSON body: API bodies are stored as given, so they must stay well within
# what deep copies, renders and exports can handle; the control plane's state import carries
# those stored bodies inside a snapshot, hence more room there.
MAX_JSON_DEPTH = 64
MAX_CONTROL_JSON_DEPTH = 4 * MAX_JSON_DEPTH
JSON_HEADERS = {"content-type": "application/json; charset=utf-8"}
# Copied for each cached answer: copying a CIMultiDict is cheaper than building one.
_JSON_HEADER_TEMPLATE = CIMultiDict(JSON_HEADERS)
# Header names as istr: a multidict looks them up without case-folding them first.
X_REQUEST_ID = istr("x-request-id")
X_API_KEY = istr("x-api-key")


class Exchange:
    """One request as the journal will record it, filled in by the route's handler
    (:func:`make_handler`) and :func:`_run_route` as they go."""

    __slots__ = ("fault", "hint", "operation", "project", "refused", "request_body",
                 "request_id", "request_number", "response_raw")

    def __init__(self, request_id: str, request_number: int) -> None:
        self.request_id = request_id
        self.request_number = request_number  # what the id was made from; 0: it was given
        self.project: Project | None = None
        self.operation: str | None = None  # None: no route matched
        self.request_body: Any = None
        self.response_raw: bytes | None = None
        self.fault: str | None = None
        self.hint: str | None = None
        self.refused = False  # the Host was refused: nothing is journaled


class Call:
    """What a handler gets: the tenant, the parsed request, and where the caller reached us."""

    __slots__ = ("_origin", "body", "engine", "match", "request", "tenant")

    def __init__(self, request: web.Request, engine: Engine, tenant: Project | None,
                 body: Any = None, match: dict[str, str] | None = None) -> None:
        self.request = request
        self.engine = engine
        self.tenant = tenant  # None on routes reached without an API key (pages, provider)
        self.body = body
        self.match: dict[str, str] = {} if match is None else match
        self._origin: Origin | None = None

    @property
    def origin(self) -> Origin:
        """Where the caller reached us (links and redirects are built on it)."""
        if self._origin is None:
            self._origin = origin_of(self.request)
        return self._origin

    @property
    def project(self) -> Project:
        if self.tenant is None:
            raise RuntimeError("this route is not tenant-scoped (Route.auth is False)")
        return self.tenant

    @property
    def query(self) -> MultiMapping[str]:
        return self.request.query


HandlerResult = tuple[int, Any] | web.StreamResponse
# The response cache for one request: the tenant's cache, the request's key, what it holds.
CacheLookup = tuple[ResponseCache, CacheKey, bytes | None]
# A handler may also return an awaitable of its result (awaited outside the tenant's lock):
# for work too long for the event loop, done on a worker thread (whole-server exports).
Handler = Callable[[Call], HandlerResult | Awaitable[HandlerResult]]


@dataclasses.dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    operation: str
    auth: bool = True  # needs x-api-key (the API); pages and provider endpoints don't
    json_body: bool = False
    form_body: bool = False  # HTML forms and the provider's token endpoint
    raw_body: bool = False  # the body as bytes (the webhook receiver checks signatures on it)
    # A read that changes nothing and may be answered from the response cache (cache.py).
    cache: bool = False


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
    """The envelope as a response (``_error`` also keeps it for the journal)."""
    return json_response(err.status, err.envelope(request_id), request_id, err.headers)


# Request ids are drawn from a per-process counter (domain/journal.py: request_id_text).
_request_numbers = itertools.count(1)


def _request_id(request: web.Request) -> tuple[str, int]:
    """The request's id (the caller's x-request-id, or a new one) and the counter a new one
    was made from (0 for the caller's), which is all the journal keeps of it."""
    given = request.headers.get(X_REQUEST_ID)
    if given:
        return given[:200], 0
    number = next(_request_numbers)
    return request_id_text(number), number


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


def make_handler(route: Route | None, engine: Engine, policy: Policy,
                 on_change: list[Callable[[Project | None], None]], *, strict: bool = False,
                 audit: bool = False, use_cache: bool = True,
                 ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler of one route (``None``: of every request no route matched). It
    does everything a request needs, in one place: request id, Host check, the response
    cache's fast path, then :func:`_run_route`, Composio's error envelope for every failure,
    the request log and the journal. No aiohttp middleware: each layer of one costs every
    request. ``strict``: the app's strict contract mode; ``audit``: render every cache hit
    again and fail on a difference (the test suite's check of the cache)."""
    operation = route.operation if route is not None else None
    cacheable = route is not None and route.cache and route.auth and use_cache

    async def handle(request: web.Request) -> web.StreamResponse:
        request_id, request_number = _request_id(request)
        started = time.perf_counter()
        host_allowed = policy.host_allowed(request.host)
        lookup: CacheLookup | None = None
        if cacheable and host_allowed and (project := engine.existing(
                request.headers.get(X_API_KEY, "").strip())) is not None and (
                cache := cache_usable(project)) is not None:
            key = (request.raw_path, request.host, strict or project.strict_contracts)
            cached = cache.get(project.lock.generation, engine.epoch, key)
            if cached is not None and not audit:
                engine.touch(project)
                return _answer_from_cache(request, request_id, request_number, project,
                                          operation, cached, started)
            lookup = (cache, key, cached)
        exchange = Exchange(request_id, request_number)
        status = 500
        try:
            if not host_allowed:
                # Before any route, tenant or body: a page on another site reaching us through
                # DNS rebinding gets nothing (issue 19, finding 4).
                exchange.refused = True
                raise ComposioError(
                    403, "Request_HostNotAllowed",
                    f"Host {log_safe(request.host)[:100]!r} is not allowed: mockcomposio "
                    "answers IP addresses, localhost and the names given with --allowed-host.",
                    suggested_fix="Start the server with --allowed-host <name> to accept it.")
            if route is None:
                raise await _unmatched(request, exchange)
            exchange.operation = operation
            response = await _run_route(request, exchange, route, engine, strict, lookup)
            status = response.status
            return response
        except ComposioError as err:
            status = err.status
            return _error(exchange, err)
        except web.HTTPRequestEntityTooLarge:
            status = 413
            return _error(exchange, ComposioError(
                413, "Request_TooLarge", f"Request body is larger than {MAX_BODY_BYTES} bytes.",
                suggested_fix="Send a smaller body; no Composio request needs this much."))
        except web.HTTPException as exc:
            status = exc.status
            if exc.status < 400:
                raise
            return _error(exchange, ComposioError(exc.status, "Request_Error", exc.reason))
        except Exception:  # a bug of ours: still the envelope, never a bare traceback page
            log.exception("unhandled error on %s %s", request.method, request.path)
            return _error(exchange, ComposioError(
                500, "Internal_ServerError", "mockcomposio hit an internal error (a bug in the "
                "fake, not in your request); see the server log.", code=5000))
        finally:
            elapsed_ms, query = _finished(request, status, started, exchange.request_id)
            if not exchange.refused:
                _after(request, exchange, engine, on_change, status, elapsed_ms, query)

    handle.__name__ = operation.replace(".", "_") if operation else "unmatched"
    return handle


def _answer_from_cache(request: web.Request, request_id: str, request_number: int,
                       project: Project, operation: str | None, body: bytes, started: float,
                       ) -> web.Response:
    """A repeated read of an unchanged tenant: the bytes sent last time, with this request's
    own id, log line and journal entry. Nothing changed, so the state saver is not told."""
    headers = _JSON_HEADER_TEMPLATE.copy()
    headers[X_REQUEST_ID] = request_id
    response = web.Response(body=body, headers=headers)
    elapsed_ms, query = _finished(request, 200, started, request_id)
    project.journal.answered(project.clock.now(), time.time(), request.method, request.path,
                             query, 200, elapsed_ms, request_id, operation, body,
                             request_number)
    return response


def _finished(request: web.Request, status: int, started: float,
              request_id: str) -> tuple[float, str]:
    """A request's duration in ms and its query as the journal keeps it (secrets redacted),
    logged when info logging is on (off by default for `serve`: --log-requests)."""
    elapsed_ms = (time.perf_counter() - started) * 1000
    query = redact_query(request.query_string) if request.query_string else ""
    if log.isEnabledFor(logging.INFO):
        # Control characters escaped: a %0a in a path cannot forge a log line.
        log.info("%s %s%s %s %.1fms %s", log_safe(request.method), log_safe(request.path),
                 f"?{log_safe(query)}" if query else "", status, elapsed_ms,
                 log_safe(request_id))
    return elapsed_ms, query


async def _run_route(request: web.Request, exchange: Exchange, route: Route, engine: Engine,
                     strict: bool, lookup: CacheLookup | None) -> web.StreamResponse:
    """A request on its route: tenant, faults, body, the domain call under the tenant's lock,
    strict contract checks. ``lookup``: the tenant's response cache, the request's key and
    what it holds for it (audit mode only; else a hit never gets here), when the answer may
    be cached."""
    operation = route.operation
    control = operation.startswith("control.")
    checked = strict  # strict contracts: the app's mode, or this tenant's
    try:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            # One clear limit on every route, not only on those that read their body.
            raise web.HTTPRequestEntityTooLarge(MAX_BODY_BYTES, request.content_length or 0)
        project: Project | None = None
        owner: Project | None = None  # the tenant reached, with or without its API key
        if route.auth:
            api_key = request.headers.get(X_API_KEY, "").strip()
            if not api_key:
                raise missing_api_key()
            exchange.project = owner = project = engine.project(api_key)
            if project.strict_contracts:
                checked = True
                request[contracts.STRICT_TENANT_KEY] = True
                request[contracts.TENANT_VIOLATIONS_KEY] = project.contract_violations
        elif not control:
            exchange.project = owner = _tenant_of(engine, request)
            if owner is not None:
                engine.touch(owner)
        if not control and owner is not None and owner.faults and (
                fault := owner.faults.take(operation)) is not None:
            # Before the body is read or the handler runs: a fault never changes state.
            exchange.fault = fault.name
            if fault.latency_ms:
                await asyncio.sleep(fault.latency_ms / 1000)
            if (error := fault.error()) is not None:
                raise error
        body = None
        if route.json_body:
            body = exchange.request_body = await _read_json(
                request, MAX_JSON_DEPTH if route.path.startswith("/api/")
                else MAX_CONTROL_JSON_DEPTH)
            if not isinstance(body, dict):
                raise bad_request("Request body must be a JSON object.",
                                  slug="Request_InvalidJson")
            contracts.validate_request(operation, body)
        elif route.form_body:
            body = await _read_form(request)
            exchange.request_body = redact_form(body)
        elif route.raw_body:
            body = await request.read()
        call = Call(request, engine, project, body, request.match_info)
        if project is not None and route.cache:
            # A read that changes nothing: under the lock, but not counted as a change (the
            # cached answers of other reads stay valid), after any expiry that fell due.
            if project.timer_due():
                with project.lock:
                    project.run_due()
            with project.lock.raw:
                result = route.handler(call)
        elif project is not None:
            with project.lock:
                project.run_due()
                result = route.handler(call)
        elif owner is not None:
            # A page or provider endpoint takes the tenant's lock only where it changes
            # state; counted as a change anyway, so no cached read outlives it.
            try:
                result = route.handler(call)
            finally:
                owner.lock.generation += 1
        else:
            result = route.handler(call)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, web.StreamResponse):
            result.headers.setdefault("x-request-id", exchange.request_id)
            return result
        status, payload = result
        if checked and (problem := contracts.strict_check(request, operation, status,
                                                           payload)):
            raise problem
        response = json_response(status, payload, exchange.request_id)
        raw: bytes = response.body  # type: ignore[assignment]  # json_response's bytes
        exchange.response_raw = raw
        if lookup is not None and project is not None and status == 200:
            cache, key, cached = lookup
            if cached is not None and cached != raw:
                raise RuntimeError(f"response cache audit: a cached {operation} response "
                                   f"differs from a fresh one for {request.raw_path}")
            cache.put(project.lock.generation, engine.epoch, key, raw)
        return response
    except ComposioError as err:
        # strict mode: our own error envelopes must match the operation's contract too
        if checked and err.slug != "Mock_ContractViolation" and (
                problem := contracts.strict_check(request, operation, err.status,
                                                  err.envelope(exchange.request_id))):
            raise problem from err
        raise


_CONTROL_CHARS = {i: f"\\x{i:02x}" for i in [*range(0x20), 0x7f, *range(0x80, 0xa0)]}
_CONTROL_CHARS.update({0x5c: "\\\\", 0x2028: "\\u2028", 0x2029: "\\u2029"})
# Lone surrogates (undecodable bytes in a header or path) would break the log stream's encoder.
_CONTROL_CHARS.update({i: f"\\u{i:04x}" for i in range(0xd800, 0xe000)})


def log_safe(text: str) -> str:
    """``text`` with control characters (and backslashes) escaped, for one log line."""
    return text.translate(_CONTROL_CHARS)


def _error(exchange: Exchange, err: ComposioError) -> web.Response:
    response = error_response(err, exchange.request_id)
    exchange.response_raw = response.body  # type: ignore[assignment]
    return response


def _after(request: web.Request, exchange: Exchange, engine: Engine,
           on_change: list[Callable[[Project | None], None]], status: int, elapsed_ms: float,
           query: str) -> None:
    """Journal the request to its tenant and tell the state saver something may have changed.
    The control plane itself (``/_mock/...``) is neither journaled nor a change when read."""
    path = request.path
    project = exchange.project
    if path.startswith("/_mock/") or path == "/_mock":
        if request.method != "GET":
            # A reset or import may replace any tenant: no cached response outlives it, and
            # the state saver does a full save.
            engine.epoch += 1
            for notify in on_change:
                notify(None)
        return
    if project is None and exchange.operation is None:
        # No route: journal under the key's tenant if it exists; never create one for it.
        api_key = request.headers.get(X_API_KEY, "").strip()
        project = engine.existing(api_key) if api_key else None
    if project is None:
        return
    for notify in on_change:
        notify(project)
    journal = project.journal
    body = exchange.request_body  # None on every GET: no redaction pass to set up
    if body is None and exchange.hint is None and exchange.fault is None:
        journal.answered(project.clock.now(), time.time(), request.method, path, query, status,
                         elapsed_ms, exchange.request_id, exchange.operation,
                         exchange.response_raw, exchange.request_number)
        return
    journal.append(JournalEntry(
        seq=journal.next_seq(), at=project.clock.now(), wall_time=time.time(),
        method=request.method, path=path, query=query, status=status,
        duration_ms=elapsed_ms, request_id=exchange.request_id, operation=exchange.operation,
        request_body=None if body is None else redact(body, max_items=JOURNAL_MAX_ITEMS),
        hint=exchange.hint, fault=exchange.fault, response_raw=exchange.response_raw,
        request_size=request.content_length))


async def _unmatched(request: web.Request, exchange: Exchange) -> ComposioError:
    """The error for a request no route took: 405 when a route has its path under another
    method, else 404 with a hint at what was probably meant."""
    allowed: set[str] = set()
    catch_all = request.match_info.route.resource
    for resource in request.app.router.resources():
        if resource is not catch_all:
            allowed |= (await resource.resolve(request))[1]
    if allowed:
        return ComposioError(405, "Request_MethodNotAllowed",
                             f"{request.method} is not allowed on {request.path}.",
                             suggested_fix="Check the HTTP method against the API reference "
                             f"(allowed here: {', '.join(sorted(allowed))}).")
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
        exchange.hint = hint.strip()
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
    plain-text 400: these never reach a route's handler."""

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


class _RememberingRouter(web.UrlDispatcher):
    """aiohttp's router, remembering how recent (method, path) pairs resolved. The route table
    is frozen once the app starts, so a path resolves the same way every time; aiohttp would
    otherwise try a path prefix's resources one by one (coroutines, regexes) on every
    request."""

    MAX_REMEMBERED = 4096  # then it starts over: a flood of distinct paths only costs speed
    _resolved: dict[tuple[str, str], tuple[dict[str, str], web.AbstractRoute]]

    @classmethod
    def adopt(cls, app: web.Application) -> None:
        """Make ``app``'s router remember. Application's ``router`` argument is deprecated;
        the router it built has the same layout, so switching its class only changes how it
        resolves."""
        app.router.__class__ = cls
        app.router._resolved = {}  # type: ignore[attr-defined]

    async def resolve(self, request: web.Request) -> web.UrlMappingMatchInfo:
        key = (request.method, request.rel_url.path_safe)  # what aiohttp resolves on
        known = self._resolved.get(key)
        if known is not None:
            return web.UrlMappingMatchInfo(dict(known[0]), known[1])
        match_info = await super().resolve(request)
        if type(match_info) is web.UrlMappingMatchInfo:  # not a 404/405 MatchInfoError
            if len(self._resolved) >= self.MAX_REMEMBERED:
                self._resolved.clear()
            self._resolved[key] = (dict(match_info), match_info.route)
        return match_info


def create_app(engine: Engine | None = None, *, strict: bool = False,
               policy: Policy | None = None, response_cache: bool = True) -> web.Application:
    """``strict``: validate every JSON response against ``contracts/responses``; a violation
    is answered as a 500 envelope and recorded in ``app[contracts.VIOLATIONS_KEY]``.
    ``policy``: cross-tenant opt-in and allowed Host names (default: neither).
    ``response_cache``: answer repeated reads from the response cache (``http/cache.py``)."""
    from . import webhook_delivery
    from .routes import ROUTES

    engine = engine or Engine()
    policy = policy or Policy()
    on_change: list[Callable[[Project | None], None]] = []
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    _RememberingRouter.adopt(app)
    app[ENGINE_KEY] = engine
    app[POLICY_KEY] = policy
    app[contracts.STRICT_KEY] = strict
    app[contracts.VIOLATIONS_KEY] = []
    app[ON_CHANGE_KEY] = on_change
    app[ROUTE_PATHS_KEY] = sorted({(r.method, r.path) for r in ROUTES})
    if strict:
        contracts.warm_up(sorted({route.operation for route in ROUTES}))
    audit = audit_enabled()
    # One aiohttp resource per path, with all its methods: aiohttp tries the resources of a
    # path prefix one by one on every request, so fewer resources is less work per request.
    resources: dict[str, web.Resource] = {}
    for route in ROUTES:
        handler = make_handler(route, engine, policy, on_change, strict=strict, audit=audit,
                               use_cache=response_cache)
        resource = resources.get(route.path)
        if resource is None:
            resource = resources[route.path] = app.router.add_resource(route.path)
        if route.method == "GET":  # HEAD answered wherever GET is (as add_get's allow_head)
            resource.add_route("HEAD", handler)
        resource.add_route(route.method, handler)
    # Last: what no route takes (aiohttp tries resources in order) gets our 404 or 405.
    app.router.add_route("*", UNMATCHED_PATH, make_handler(None, engine, policy, on_change,
                                                           strict=strict))
    app.cleanup_ctx.append(webhook_delivery.cleanup_ctx)
    return app
