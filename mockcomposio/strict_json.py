"""JSON parsing as RFC 8259 has it, for everything a client or a file hands the fake.

Python's json module accepts NaN and Infinity, turns 1e400 into inf and parses integers of up
to 4,300 digits (and raises past that); stored, such values broke every later render, clock
computation or export. Request bodies, cursors and state files are all read through here.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# JSON integers longer than this are refused (Python's own limit is 4,300 digits; a Composio
# id, count or epoch never comes near, and JavaScript could not even represent them exactly).
MAX_INT_DIGITS = 100
SURROGATE = re.compile("[\ud800-\udfff]")


def _parse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number is out of double range")
    return value


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits is out of range")
    return int(text)


def strict_json_loads(raw: bytes | str) -> Any:
    """JSON as RFC 8259 has it: NaN, Infinity, numbers overflowing a double and integers past
    ``MAX_INT_DIGITS`` digits raise ValueError instead of being stored (they broke every later
    render, clock computation or export)."""
    return json.loads(raw, parse_constant=_parse_constant, parse_float=_parse_float,
                      parse_int=_parse_int)


def body_problem(value: Any, limit: int) -> str | None:
    """What makes a parsed body unusable: nesting past ``limit`` (stored as given, it would break
    every later deep copy, render or export) or a lone UTF-16 surrogate in a string (it cannot
    be encoded as UTF-8, so every page showing it would fail)."""
    stack = [(value, 1)]
    while stack:  # iterative: the body may be deeper than Python's recursion limit
        item, depth = stack.pop()
        if isinstance(item, str):
            if SURROGATE.search(item):
                # the value itself is not echoed: it may be a secret
                return "has a string with a lone UTF-16 surrogate (\\ud800-\\udfff)"
            continue
        if isinstance(item, dict):
            children: Any = item.values()
            if any(SURROGATE.search(k) for k in item):
                return "has a key with a lone UTF-16 surrogate (\\ud800-\\udfff)"
        elif isinstance(item, list):
            children = item
        else:
            continue
        if children and depth > limit:
            return f"nests deeper than {limit} levels"
        stack.extend((child, depth + 1) for child in children)
    return None
