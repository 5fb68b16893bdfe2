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
    return whole_number(raw, name)


def whole_number(raw: object, name: str) -> int:
    """An integer from a query value or JSON number; ``10.0`` counts (the Python client types
    ``limit`` as a float and sends ``limit=10.0``), ``10.5``, ``nan`` or ``ten`` do not."""
    if isinstance(raw, bool):
        raw = str(raw)
    try:
        if isinstance(raw, int):
            return raw
        number = float(raw) if isinstance(raw, float | str) else float("nan")
        if number.is_integer():
            return int(number)
    except ValueError:
        pass
    shown = repr(raw[:50]) if isinstance(raw, str) else repr(raw)
    raise bad_request(f"Parameter {name} must be a whole number, got {shown}.",
                      slug="Request_InvalidQuery",
                      errors=[f"{name}: expected an integer"])


def text(query: MultiMapping[str], name: str) -> str | None:
    raw = query.get(name)
    return raw if raw else None
