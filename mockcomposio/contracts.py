"""Request validation against the JSON Schemas in ``contracts/`` (compiled once, cached).

Each operation of the route table names its schema file; the server checks incoming bodies
with it and answers 400 with the failing field paths in Composio's envelope.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from .errors import validation_error
from .resources import contracts_dir


@cache
def _validator(kind: str, operation: str) -> Any:
    from jsonschema import Draft202012Validator

    path = contracts_dir() / kind / f"{operation}.json"
    if not path.exists():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def has_request_schema(operation: str) -> bool:
    return _validator("requests", operation) is not None


def validate_request(operation: str, body: Any) -> None:
    validator = _validator("requests", operation)
    if validator is None:
        return
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        raise validation_error([_describe(e) for e in errors])


def _describe(error: Any) -> str:
    path = ".".join(str(p) for p in error.absolute_path) or "(body)"
    return f"{path}: {error.message}"
