"""Cursor pagination as Composio does it: ``limit`` + an opaque base64 cursor of page and limit."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..errors import bad_request
from ..strict_json import strict_json_loads

T = TypeVar("T")


def encode_cursor(page: int, limit: int) -> str:
    raw = json.dumps({"page": page, "limit": limit}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Pages and limits a cursor may carry: far past any list the fake holds, small enough that
# every offset computed from them stays an ordinary int.
MAX_CURSOR_VALUE = 2**31 - 1


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = strict_json_loads(base64.urlsafe_b64decode(padded.encode()))
        page, limit = data["page"], data["limit"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError,
            RecursionError) as exc:
        raise bad_request(
            f"Invalid cursor {cursor[:40]!r}: pass back the next_cursor of a previous response "
            "unchanged.", slug="Pagination_InvalidCursor") from exc
    # Only what encode_cursor writes: ints (a float page, Infinity or 1e400 is no page).
    if not all(type(v) is int and 1 <= v <= MAX_CURSOR_VALUE for v in (page, limit)):
        raise bad_request(f"Invalid cursor {cursor[:40]!r}: page and limit must be positive "
                          "integers.", slug="Pagination_InvalidCursor")
    return page, limit


def paginate(items: Sequence[T], *, limit: int | None, cursor: str | None,
             render: Callable[[T], dict[str, Any]], default_limit: int = 20,
             max_limit: int = 1000) -> dict[str, Any]:
    if cursor:
        page, cursor_limit = decode_cursor(cursor)
        limit = cursor_limit if limit is None else limit
    else:
        page = 1
    limit = default_limit if limit is None else limit
    if not 1 <= limit <= max_limit:
        raise bad_request(f"limit must be between 1 and {max_limit}, got {limit}.",
                          slug="Pagination_InvalidLimit")
    total = len(items)
    total_pages = max(1, math.ceil(total / limit))
    start = (page - 1) * limit
    window = items[start:start + limit]
    has_more = start + limit < total
    return {
        "items": [render(x) for x in window],
        "next_cursor": encode_cursor(page + 1, limit) if has_more else None,
        "total_pages": total_pages,
        "current_page": page,
        "total_items": total,
    }
