"""Request and response validation against the JSON Schemas in ``contracts/`` (compiled once,
cached).

* Requests: each operation of the route table with a JSON body names its schema file
  ``contracts/requests/<operation>.json``; the server checks incoming bodies with it and answers
  400 with the failing field paths in Composio's envelope.
* Responses: ``contracts/responses/<operation>.json`` holds a ``responses`` map keyed by status
  (``"200"``, ``"4XX"``, ``"default"``); :func:`response_problems` checks a payload against the
  entry for its status. In strict mode (``create_app(strict=True)``) the server runs it on every
  JSON response and turns a violation into a 500 envelope, recorded in
  ``app[contracts.VIOLATIONS_KEY]`` so tests fail.

All files are registered in one ``referencing`` registry (and one ``jsonschema_rs.Registry``)
by their ``$id``, so ``$ref`` between them (``../error.json``, ``../sdk/<Model>.json``) resolve
offline.

Speed: a compiled ``jsonschema_rs`` validator gives the verdict on the hot path (a 20-item
connected-accounts list: ~50 µs instead of ~18 ms); jsonschema decides and describes only the
payloads it rejects, so verdicts and messages are jsonschema's (tests/test_contracts_fast.py).
"""

from __future__ import annotations

import difflib
import json
import logging
import os
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aiohttp import web

from ..errors import ComposioError, validation_error
from ..resources import contracts_dir

log = logging.getLogger("mockcomposio.contracts")

BASE_ID = "https://mockcomposio.invalid/contracts/"
MAX_PROBLEMS = 10


@dataclass
class Violation:
    """One response that broke its contract."""

    operation: str
    method: str
    path: str
    status: int
    problems: list[str]
    payload: Any = field(default=None, repr=False)

    def __str__(self) -> str:
        return (f"{self.method} {self.path} ({self.operation}) answered {self.status}, which "
                f"breaks the contract: " + "; ".join(self.problems))


STRICT_KEY: web.AppKey[bool] = web.AppKey("contracts_strict", bool)
VIOLATIONS_KEY: web.AppKey[list[Violation]] = web.AppKey("contracts_violations", list)
# Per-request keys set by the handler from the tenant: strict mode can be on for one tenant
# (the plugin's strict marker) while the app as a whole is lenient.
STRICT_TENANT_KEY: web.RequestKey[bool] = web.RequestKey("contracts_strict_tenant", bool)
TENANT_VIOLATIONS_KEY: web.RequestKey[list[Violation]] = web.RequestKey(
    "contracts_tenant_violations", list)


# -- loading ----------------------------------------------------------------------------------
#
# Two validators judge every schema. ``jsonschema_rs`` (compiled, ~300x faster) gives the
# verdict on the hot path: a payload it accepts is valid. When it rejects one, jsonschema (the
# reference implementation, built lazily: its validators take ~1.5 s to compile) decides and
# writes the messages, so error texts and verdicts stay exactly jsonschema's. Without
# jsonschema_rs installed (or with MOCKCOMPOSIO_FAST_CONTRACTS=0) jsonschema does everything.

_fast_enabled = os.environ.get("MOCKCOMPOSIO_FAST_CONTRACTS", "1") != "0"


def set_fast_path(enabled: bool) -> bool:
    """Turn the jsonschema_rs fast path on or off (the benchmark compares both); returns the
    previous setting."""
    global _fast_enabled
    previous, _fast_enabled = _fast_enabled, enabled
    return previous


def fast_path_available() -> bool:
    return _fast_enabled and _fast_registry() is not None


@cache
def _documents() -> dict[str, tuple[str, Any]]:
    """Every contract file, keyed by its path under ``contracts/``: (URI, contents with
    discriminated unions rewritten). Both validators load these very documents."""
    root = contracts_dir()
    out = {}
    for path in sorted(root.rglob("*.json")):
        contents = discriminate(json.loads(path.read_text(encoding="utf-8")))
        uri = contents.get("$id") or BASE_ID + path.relative_to(root).as_posix()
        out[path.relative_to(root).as_posix()] = (uri, contents)
    return out


@cache
def _registry() -> Any:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = [(uri, Resource.from_contents(contents, default_specification=DRAFT202012))
                 for uri, contents in _documents().values()]
    return Registry().with_resources(resources).crawl()


def _refuse_retrieval(uri: str) -> Any:
    # Offline by design: every $ref must resolve inside contracts/ (jsonschema_rs would
    # otherwise fetch unknown URIs over the network).
    raise ValueError(f"{uri} is not a contract file; refusing to fetch it")


@cache
def _fast_registry() -> Any:
    try:
        import jsonschema_rs
    except ImportError:  # optional accelerator; jsonschema alone gives the same verdicts
        return None
    return jsonschema_rs.Registry(list(_documents().values()), draft=jsonschema_rs.Draft202012,
                                  retriever=_refuse_retrieval)


@cache
def _fast_validator(ref: str) -> Any:
    """A compiled validator of ``{"$ref": ref}`` (None without jsonschema_rs)."""
    registry = _fast_registry()
    if registry is None:
        return None
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(
        {"$ref": ref}, registry=registry, retriever=_refuse_retrieval,
        validate_formats=False)  # as jsonschema: in 2020-12 "format" is an annotation


def _fast_accepts(ref: str | None, instance: Any) -> bool:
    """True when the fast path says valid; False means "ask jsonschema" (invalid, fast path
    off, or a value jsonschema_rs can't take, such as a dict with non-string keys)."""
    if ref is None or not _fast_enabled:
        return False
    validator = _fast_validator(ref)
    if validator is None:
        return False
    try:
        return bool(validator.is_valid(instance))
    except (ValueError, TypeError, OverflowError):
        return False


@cache
def _validator(kind: str, operation: str) -> Any:
    from jsonschema import Draft202012Validator

    path = contracts_dir() / kind / f"{operation}.json"
    if not path.exists():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=_registry())


def _request_ref(operation: str) -> str | None:
    entry = _documents().get(f"requests/{operation}.json")
    return entry[0] if entry else None


@cache
def _response_doc(operation: str) -> tuple[str, dict[str, Any]] | None:
    """(document URI, the ``responses`` map by status) of an operation's response contract."""
    entry = _documents().get(f"responses/{operation}.json")
    if entry is None:
        return None
    uri, doc = entry
    return uri, doc.get("responses", {})


@cache
def _response_validator(operation: str, status_key: str) -> Any:
    from jsonschema import Draft202012Validator

    doc = _response_doc(operation)
    assert doc is not None
    uri, responses = doc
    Draft202012Validator.check_schema(responses[status_key])
    return Draft202012Validator({"$ref": f"{uri}#/responses/{status_key}"},
                                registry=_registry())


def warm_up(operations: list[str]) -> None:
    """Compile every validator of the hot path now (the first request should not pay for it);
    an unresolvable ``$ref`` or an invalid schema raises here."""
    fast = fast_path_available()
    for operation in operations:
        if fast:
            if (ref := _request_ref(operation)) is not None:
                _fast_validator(ref)
        else:
            _validator("requests", operation)
        uri, responses = _response_doc(operation) or ("", {})
        for key in responses:
            if fast:
                _fast_validator(f"{uri}#/responses/{key}")
            else:
                _response_validator(operation, key).is_valid(None)  # resolves the $refs once


# -- requests ---------------------------------------------------------------------------------

def has_request_schema(operation: str) -> bool:
    return _request_ref(operation) is not None


def validate_request(operation: str, body: Any) -> None:
    if _fast_accepts(_request_ref(operation), body):
        return
    validator = _validator("requests", operation)
    if validator is None:
        return
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        raise validation_error([_describe_request(e) for e in errors])


# -- responses --------------------------------------------------------------------------------

def has_response_schema(operation: str) -> bool:
    return _response_doc(operation) is not None


def response_statuses(operation: str) -> list[str]:
    doc = _response_doc(operation)
    return list(doc[1]) if doc else []


def response_problems(operation: str, status: int, payload: Any) -> list[str]:
    """What is wrong with ``payload`` sent with ``status`` for ``operation`` (empty: nothing)."""
    doc = _response_doc(operation)
    if doc is None:
        return [f"no response contract for operation {operation!r}"]
    uri, responses = doc
    code = str(status)
    candidates = (code, f"{code[0]}XX", "default" if status >= 400 else None)
    key = next((k for k in candidates if k is not None and k in responses), None)
    if key is None:
        documented = ", ".join(k for k in responses if k != "default")
        return [f"status {status} is not documented for {operation} (documented: "
                f"{documented})"]
    if _fast_accepts(f"{uri}#/responses/{key}", payload):
        return []
    validator = _response_validator(operation, key)
    errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
    return [_describe(e) for e in _leaves(errors)][:MAX_PROBLEMS]


def validate_response(operation: str, status: int, payload: Any) -> None:
    """Raise :class:`ContractViolation` when the response breaks its contract."""
    problems = response_problems(operation, status, payload)
    if problems:
        raise ContractViolation(operation, status, problems)


class ContractViolation(AssertionError):
    def __init__(self, operation: str, status: int, problems: list[str]) -> None:
        super().__init__(f"{operation} {status}: " + "; ".join(problems))
        self.operation = operation
        self.status = status
        self.problems = problems


def strict_check(request: web.Request, operation: str, status: int,
                 payload: Any) -> ComposioError | None:
    """The strict-mode hook of the server: ``None`` when the response may be sent (strict mode
    off, or the payload matches), else the 500 error to send instead (and the violation is
    recorded on the app)."""
    if not (request.app.get(STRICT_KEY, False) or request.get(STRICT_TENANT_KEY, False)) \
            or not is_json_operation(operation):
        return None
    problems = response_problems(operation, status, payload)
    if not problems:
        return None
    violation = Violation(operation, request.method, request.path, status, problems, payload)
    request.app[VIOLATIONS_KEY].append(violation)
    if (tenant_violations := request.get(TENANT_VIOLATIONS_KEY)) is not None:
        tenant_violations.append(violation)
    log.error("contract violation: %s", violation)
    return ComposioError(
        500, "Mock_ContractViolation",
        f"mockcomposio refused to send a {status} response for {operation} that breaks its "
        "contract (strict mode): " + "; ".join(problems[:3]),
        code=5001, errors=problems,
        suggested_fix="This is a bug in mockcomposio (or in contracts/); the server log and "
        "app[contracts.VIOLATIONS_KEY] have the details.")


def is_json_operation(operation: str) -> bool:
    """Routes answered with ``(status, json)`` and covered by contracts: the Composio API and
    ``/_mock``; not the HTML pages (``flow.*``, ``page.*``) and the fake OAuth provider
    (``provider.*``)."""
    return not operation.startswith(("flow.", "provider.", "page."))


# -- speed: discriminated unions -------------------------------------------------------------

def discriminate(doc: Any) -> Any:
    """Rewrite ``anyOf`` unions whose branches are told apart by one constant property (the
    connected account ``state`` by ``authScheme``, its ``val`` by ``status``) into ``if/then``
    per constant, so only the matching branches are evaluated. Same verdicts, much faster:
    ``anyOf`` collects every error of every failing branch."""
    defs = doc.get("$defs", {}) if isinstance(doc, dict) else {}

    def resolve(branch: Any) -> Any:
        ref = branch.get("$ref") if isinstance(branch, dict) else None
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return defs.get(ref[len("#/$defs/"):])
        return branch

    def constant(branch: Any, key: str) -> Any:
        if not isinstance(branch, dict) or key not in branch.get("required", []):
            return _MISSING
        prop = branch.get("properties", {}).get(key)
        if isinstance(prop, dict):
            if "const" in prop:
                return prop["const"]
            if isinstance(prop.get("enum"), list) and len(prop["enum"]) == 1:
                return prop["enum"][0]
        return _MISSING

    def rewrite(branches: list[Any]) -> Any:
        resolved = [resolve(b) for b in branches]
        if len(branches) < 3 or not all(isinstance(b, dict) for b in resolved):
            return None
        for key in resolved[0].get("required", []):
            values = [constant(b, key) for b in resolved]
            if any(v is _MISSING for v in values):
                continue
            groups: dict[str, list[Any]] = {}
            for value, branch in zip(values, branches, strict=True):
                groups.setdefault(json.dumps(value), []).append(branch)
            if len(groups) < 2:
                continue
            return {"allOf": [
                {"type": "object", "required": [key],
                 "properties": {key: {"enum": [json.loads(v) for v in groups]}}},
                *({"if": {"properties": {key: {"const": json.loads(v)}}},
                   "then": group[0] if len(group) == 1 else {"anyOf": group}}
                  for v, group in groups.items())]}
        return None

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v) for k, v in node.items()}
        branches = out.get("anyOf")
        if isinstance(branches, list):
            replacement = rewrite(branches)
            if replacement is not None:
                out.pop("anyOf")
                out.setdefault("allOf", []).append(replacement)
        return out

    return walk(doc)


_MISSING = object()


# -- helpers ----------------------------------------------------------------------------------

def _leaves(errors: list[Any]) -> list[Any]:
    """For anyOf/allOf failures, report the most specific sub-errors (best match per branch)."""
    from jsonschema.exceptions import best_match

    out = []
    for error in errors:
        if error.context:
            best = best_match(error.context)
            out.append(best if best is not None else error)
        else:
            out.append(error)
    return out


def _describe_request(error: Any) -> str:
    """A request problem; a union that matched no branch says what it expects (the schema's
    description), since "not valid under any of the given schemas" tells the caller nothing."""
    text = _describe(error)
    if error.validator in ("anyOf", "oneOf") and isinstance(error.schema, dict) \
            and error.schema.get("description"):
        text += f" (expected: {error.schema['description']})"
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict) \
            and isinstance(error.schema, dict):
        known = list(error.schema.get("properties", {}))
        unknown = [k for k in error.instance if k not in known]
        hints = {k: difflib.get_close_matches(k, known, n=1) for k in unknown}
        text += "".join(f"; did you mean {m[0]!r} for {k!r}?" for k, m in hints.items() if m)
        text += f" (accepted keys: {', '.join(known)})"
    return text


def _describe(error: Any) -> str:
    path = ".".join(str(p) for p in error.absolute_path) or "(body)"
    message = error.message
    shown = repr(error.instance)
    if message.startswith(shown):
        # jsonschema opens most messages with the offending value itself; that value may be a
        # secret (a client_secret of the wrong type), and these messages go into the envelope,
        # the journal and the inspector: say what kind of value it was instead.
        message = _kind(error.instance) + message[len(shown):]
    return f"{path}: {message}"


def _kind(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int | float):  # short numbers (0, -1, 1.5) say more than a kind
        return repr(value) if len(repr(value)) <= 6 else "a number"
    if isinstance(value, str):
        return f"a string of {len(value)} character{'s' * (len(value) != 1)}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' * (len(value) != 1)}"
    if isinstance(value, dict):
        return f"an object with {len(value)} key{'s' * (len(value) != 1)}"
    return f"a {type(value).__name__}"
