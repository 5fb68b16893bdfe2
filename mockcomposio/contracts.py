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

All files are registered in one ``referencing`` registry by their ``$id``, so ``$ref`` between
them (``../error.json``, ``../sdk/<Model>.json``) resolve offline.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aiohttp import web

from .errors import ComposioError, validation_error
from .resources import contracts_dir

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
STRICT_TENANT_KEY = "contracts_strict_tenant"
TENANT_VIOLATIONS_KEY = "contracts_tenant_violations"


# -- loading ----------------------------------------------------------------------------------

@cache
def _registry() -> Any:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    root = contracts_dir()
    resources = []
    for path in sorted(root.rglob("*.json")):
        contents = discriminate(json.loads(path.read_text(encoding="utf-8")))
        uri = contents.get("$id") or BASE_ID + path.relative_to(root).as_posix()
        resources.append((uri, Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources).crawl()


@cache
def _validator(kind: str, operation: str) -> Any:
    from jsonschema import Draft202012Validator

    path = contracts_dir() / kind / f"{operation}.json"
    if not path.exists():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=_registry())


@cache
def _response_validators(operation: str) -> dict[str, Any] | None:
    from jsonschema import Draft202012Validator

    path = contracts_dir() / "responses" / f"{operation}.json"
    if not path.exists():
        return None
    doc = discriminate(json.loads(path.read_text(encoding="utf-8")))
    uri = doc.get("$id") or f"{BASE_ID}responses/{operation}.json"
    out = {}
    for status, schema in doc.get("responses", {}).items():
        Draft202012Validator.check_schema(schema)
        out[status] = Draft202012Validator({"$ref": f"{uri}#/responses/{status}"},
                                           registry=_registry())
    return out


def warm_up(operations: list[str]) -> None:
    """Compile every validator now (the first request should not pay for it)."""
    for operation in operations:
        _validator("requests", operation)
        validators = _response_validators(operation)
        for validator in (validators or {}).values():
            validator.is_valid(None)  # resolves the $refs once


# -- requests ---------------------------------------------------------------------------------

def has_request_schema(operation: str) -> bool:
    return _validator("requests", operation) is not None


def validate_request(operation: str, body: Any) -> None:
    validator = _validator("requests", operation)
    if validator is None:
        return
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        raise validation_error([_describe(e) for e in errors])


# -- responses --------------------------------------------------------------------------------

def has_response_schema(operation: str) -> bool:
    return _response_validators(operation) is not None


def response_statuses(operation: str) -> list[str]:
    return list(_response_validators(operation) or {})


def response_problems(operation: str, status: int, payload: Any) -> list[str]:
    """What is wrong with ``payload`` sent with ``status`` for ``operation`` (empty: nothing)."""
    validators = _response_validators(operation)
    if validators is None:
        return [f"no response contract for operation {operation!r}"]
    code = str(status)
    validator = (validators.get(code) or validators.get(f"{code[0]}XX")
                 or (validators.get("default") if status >= 400 else None))
    if validator is None:
        documented = ", ".join(k for k in validators if k != "default")
        return [f"status {status} is not documented for {operation} (documented: "
                f"{documented})"]
    if validator.is_valid(payload):
        return []
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
    ``/_mock``; not the HTML pages and the fake OAuth provider (``flow.*``, ``provider.*``)."""
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


def _describe(error: Any) -> str:
    path = ".".join(str(p) for p in error.absolute_path) or "(body)"
    return f"{path}: {error.message}"
