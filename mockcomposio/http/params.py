"""Query-string parsing with clear 400s (the SDK comma-joins arrays and sends true/false)."""

from __future__ import annotations

from multidict import MultiMapping

from ..errors import bad_request


def csv_list(query: MultiMapping[str], name: str) -> list[str] | None:
    values = query.getall(name, []) + query.getall(f"{name}[]", [])
    items = [part.strip() for v in values for part in v.split(",") if part.strip()]
    return items or None


def boolean(query: MultiMapping[str], name: str, default: bool | None = None) -> bool | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise bad_request(f"Query parameter {name} must be true or false, got {raw[:50]!r}.",
                      slug="Request_InvalidQuery", errors=[f"{name}: expected a boolean"])


def integer(query: MultiMapping[str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"Query parameter {name} must be a number, got {raw[:50]!r}.",
                          slug="Request_InvalidQuery",
                          errors=[f"{name}: expected an integer"]) from None


def text(query: MultiMapping[str], name: str) -> str | None:
    raw = query.get(name)
    return raw if raw else None
