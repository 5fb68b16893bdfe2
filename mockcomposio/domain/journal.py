"""The per-tenant request journal: what the fake was asked and what it answered.

Bounded (a ring buffer), so a long-running server never grows without limit. Whatever an
entry gives out is redacted: request bodies are stored redacted, responses (already masked by
the API's own renderers) are kept as the bytes sent and redacted when read.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from .redact import redact

JOURNAL_LIMIT = 2000
# Lists in journaled bodies keep this many items (memory: the journal holds 2000 entries).
MAX_ITEMS = 10
# Bytes: a request or response body above ENTRY_BYTES is kept as a truncation marker (with
# a short preview), and a tenant's journal drops its oldest entries past TENANT_BYTES.
ENTRY_BYTES = 64 * 1024
TENANT_BYTES = 8 * 1024 * 1024
PREVIEW_CHARS = 256
TRUNCATED = "mockcomposio_truncated"
# Fixed cost counted per entry besides its bodies (path, query, ids, the object itself).
_ENTRY_OVERHEAD = 400


def truncated(size: int, preview: str) -> dict[str, Any]:
    """What a journal shows instead of a body over ENTRY_BYTES."""
    return {TRUNCATED: {"bytes": size, "limit": ENTRY_BYTES,
                        "preview": preview[:PREVIEW_CHARS]}}


def body_size(body: Any) -> int:
    """Bytes of a (redacted) request body as JSON; 0 for none."""
    if body is None:
        return 0
    try:
        return len(json.dumps(body, separators=(",", ":"), default=str))
    except (TypeError, ValueError):
        return len(repr(body))


class JournalEntry:
    """One request and its answer. The response is kept as the JSON bytes that were sent (not
    tracked by the garbage collector, no copy per request) and decoded and redacted only when
    read; the request body is kept redacted."""

    __slots__ = ("_response", "_response_raw", "at", "duration_ms", "extra", "fault", "hint",
                 "method", "operation", "path", "query", "request_body", "request_id", "seq",
                 "size", "source", "status", "wall_time")

    def __init__(self, seq: int, at: float, wall_time: float, method: str, path: str,
                 query: str, status: int, duration_ms: float, request_id: str,
                 operation: str | None, request_body: Any = None, response_body: Any = None,
                 hint: str | None = None, fault: str | None = None,
                 extra: dict[str, Any] | None = None, *,
                 response_raw: bytes | None = None, request_size: int | None = None,
                 source: str = "http") -> None:
        self.seq = seq
        self.at = at  # virtual clock of the tenant (seconds since epoch)
        self.wall_time = wall_time  # real time.time()
        self.method = method
        self.path = path
        self.query = query
        self.status = status
        self.duration_ms = duration_ms
        self.request_id = request_id
        self.operation = operation  # route operation name; None when no route matched
        # request_size: the body's size as sent, when known (its Content-Length); the stored,
        # redacted body is about that size or smaller, so a small body is not encoded again
        # just to be measured (the byte budget is approximate anyway).
        if request_body is None:
            request_size = 0
        elif request_size is None or request_size > ENTRY_BYTES:
            request_size = body_size(request_body)
        if request_size > ENTRY_BYTES:
            request_body = truncated(request_size, json.dumps(request_body, default=str)
                                     [:PREVIEW_CHARS])
            request_size = PREVIEW_CHARS
        if response_raw is not None and len(response_raw) > ENTRY_BYTES:
            response_body = truncated(len(response_raw), response_raw[:PREVIEW_CHARS]
                                      .decode("utf-8", "replace"))
            response_raw = None
        self.request_body = request_body  # redacted
        self._response = response_body  # given already decoded (tests, imports)
        self._response_raw = response_raw
        # What this entry costs the tenant's byte budget (approximately).
        self.size = (_ENTRY_OVERHEAD + len(path) + len(query) + request_size
                     + (len(response_raw) if response_raw is not None
                        else body_size(response_body)))
        self.hint = hint  # near-miss hint when no route matched
        self.fault = fault  # name of the injected fault that answered, if any
        self.extra = extra  # unused by the fake itself: no dict allocated per entry
        # "http": a request that reached the server; "in-process": a call the fake's Composio
        # made to its own OAuth provider (code exchange, refresh, revoke) without HTTP.
        self.source = source

    @classmethod
    def from_row(cls, row: AnsweredRow) -> JournalEntry:
        """The entry of a row :meth:`Journal.answered` stored (no request body, hint or fault,
        response within ENTRY_BYTES), built without ``__init__``'s size checks."""
        entry = cls.__new__(cls)
        (entry.seq, entry.at, entry.wall_time, entry.method, entry.path, entry.query,
         entry.status, entry.duration_ms, entry.request_id, entry.operation,
         entry._response_raw, entry.size) = row
        entry.request_body = entry._response = entry.hint = entry.fault = entry.extra = None
        entry.source = "http"
        return entry

    @property
    def response_body(self) -> Any:
        if self._response is None and self._response_raw is not None:
            try:
                decoded = json.loads(self._response_raw)
            except ValueError:
                return None
            return redact(decoded, max_items=MAX_ITEMS)
        return self._response

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "at": self.at, "wall_time": self.wall_time,
            "method": self.method, "path": self.path, "query": self.query,
            "status": self.status, "duration_ms": round(self.duration_ms, 3),
            "request_id": self.request_id, "operation": self.operation,
            "request_body": self.request_body, "response_body": self.response_body,
            "hint": self.hint, "fault": self.fault, "source": self.source,
        }

    def __repr__(self) -> str:
        return (f"JournalEntry(seq={self.seq}, {self.method} {self.path} -> {self.status}, "
                f"operation={self.operation!r}, fault={self.fault!r})")


# What Journal.answered stores: the fields of a JournalEntry without request body, hint or
# fault, ending with its size. A tuple of strings and numbers costs less to build than an
# entry and is not tracked by the garbage collector; entries are made from rows when read.
AnsweredRow = tuple[int, float, float, str, str, str, int, float, str, str | None,
                    bytes | None, int]


class Journal:
    def __init__(self, limit: int = JOURNAL_LIMIT, byte_limit: int = TENANT_BYTES) -> None:
        # Entries, and rows of requests answered on the hot path (materialized when read)
        self._entries: deque[JournalEntry | AnsweredRow] = deque()
        self.limit = limit
        self.byte_limit = byte_limit
        self.bytes = 0
        self.dropped = 0  # oldest entries dropped by either cap
        self._seq = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def append(self, entry: JournalEntry) -> None:
        self._entries.append(entry)
        self.bytes += entry.size
        self._trim()

    def answered(self, at: float, wall_time: float, method: str, path: str, query: str,
                 status: int, duration_ms: float, request_id: str, operation: str | None,
                 response_raw: bytes | None) -> None:
        """Journal the common request (no request body, hint or fault): the per-request path
        of the HTTP layer, so it stores a row, not an entry, and a full journal drops its
        oldest here rather than in the trim loop."""
        size = _ENTRY_OVERHEAD + len(path) + len(query)
        if response_raw is not None:
            if len(response_raw) > ENTRY_BYTES:
                self.append(JournalEntry(self.next_seq(), at, wall_time, method, path, query,
                                         status, duration_ms, request_id, operation,
                                         response_raw=response_raw))
                return
            size += len(response_raw)
        if len(self._entries) >= self.limit:
            self._drop_oldest()
        self._seq = seq = self._seq + 1
        self._entries.append((seq, at, wall_time, method, path, query, status, duration_ms,
                              request_id, operation, response_raw, size))
        self.bytes += size
        if self.bytes > self.byte_limit:
            self._trim()

    def _trim(self) -> None:
        entries = self._entries
        while len(entries) > 1 and (len(entries) > self.limit or self.bytes > self.byte_limit):
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        oldest = self._entries.popleft()
        self.bytes -= oldest[-1] if isinstance(oldest, tuple) else oldest.size
        self.dropped += 1

    def entries(self) -> list[JournalEntry]:
        """The entries, oldest first; rows become entries once, so a reader sees the same
        objects on every read."""
        entries = [e if isinstance(e, JournalEntry) else JournalEntry.from_row(e)
                   for e in self._entries]
        self._entries = deque(entries)
        return entries

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)


def record_in_process(journal: Journal, *, at: float, method: str, path: str,
                      operation: str, status: int, request_body: Any, response_body: Any,
                      duration_ms: float = 0.0) -> JournalEntry:
    """Journal a call Composio makes to the provider server-side (in-process in the fake,
    an HTTP request in the real system), redacted like any other entry."""
    entry = JournalEntry(
        seq=journal.next_seq(), at=at, wall_time=time.time(), method=method, path=path,
        query="", status=status, duration_ms=duration_ms, request_id="in-process",
        operation=operation, request_body=redact(request_body, max_items=MAX_ITEMS),
        response_body=redact(response_body, max_items=MAX_ITEMS), source="in-process")
    journal.append(entry)
    return entry


def select(entries: list[JournalEntry], *, method: str | None = None,
           path_prefix: str | None = None, status: int | None = None,
           operation: str | None = None, limit: int | None = None) -> list[JournalEntry]:
    """Entries matching every given filter, newest last; ``limit`` keeps the newest N.
    ``status`` may be a class given as 4 or 5 (any 4xx / 5xx) or an exact code."""
    out = []
    for e in entries:
        if method is not None and e.method != method.upper():
            continue
        if path_prefix is not None and not e.path.startswith(path_prefix):
            continue
        if status is not None and e.status != status and not (
                status < 10 and e.status // 100 == status):
            continue
        if operation is not None and e.operation != operation:
            continue
        out.append(e)
    if limit is not None:
        out = out[-limit:] if limit > 0 else []
    return out
