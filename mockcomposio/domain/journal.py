"""The per-tenant request journal: what the fake was asked and what it answered.

Bounded (a ring buffer), so a long-running server never grows without limit. Whatever an
entry gives out is redacted: request bodies are stored redacted, responses (already masked by
the API's own renderers) are kept as the bytes sent and redacted when read.
"""

from __future__ import annotations

import json
import struct
import time
import uuid
from array import array
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
# The journal's columns start with this many rows and double as it fills, up to its limit.
_FIRST_CAPACITY = 16
# Distinct (method, path, query, status, operation) a journal keeps one copy of, at most.
MAX_SHARED_TEXTS = 4096


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


# Request ids: 32 hex digits, a random per-process prefix (the high 64 bits) and a counter (the
# low 64). Unique like a uuid4, without a urandom call per request; the journal keeps a
# generated id as its counter and writes it out when read.
REQUEST_ID_BASE = uuid.uuid4().int >> 64 << 64


def request_id_text(number: int) -> str:
    """The request id of a counter drawn for it (see :data:`REQUEST_ID_BASE`)."""
    # %-formatting: half the cost of format() or an f-string, on every request
    return "%032x" % (REQUEST_ID_BASE + number)


# A row's numbers, as doubles in one array: seq, at, wall_time, duration_ms, the request id's
# counter (0: the id was given) and the row's size. All exact: the counters stay below 2**53.
_NUMBERS = struct.Struct("6d")
_ROW_BYTES = _NUMBERS.size
_pack_row = _NUMBERS.pack_into
_WIDTH = 6  # doubles per row
_SIZE_AT = 5  # the size's index within a row
# What a row shares with others of its kind: method, path, query, status, operation.
Texts = tuple[str, str, str, int, str | None]


class Journal:
    """A ring buffer of the tenant's latest requests, bounded by a count and a byte budget.

    Kept in columns rather than one object per request: a row is six numbers in one array, a
    reference to its (method, path, query, status, operation), kept once for all repeats, and
    its response bytes, which a cached read shares with the cache. A repeated cached read thus
    leaves no object of its own behind and writes 64 bytes (441 as a tuple). With one object
    kept per request, a busy server's next requests find less of their own memory in the CPU's
    cache; measured with 2,000 rows that cost a cached read about four times the bare app's
    cache misses (bench/RESULTS.md, rounds 5 and 6).

    A row becomes a :class:`JournalEntry` when first read and stays that object; entries
    appended whole (bodies, hints, faults) are kept as they are. The columns grow with the
    journal, so an idle tenant pays for none of it."""

    def __init__(self, limit: int = JOURNAL_LIMIT, byte_limit: int = TENANT_BYTES) -> None:
        self.limit = limit
        self.byte_limit = byte_limit
        self.dropped = 0  # oldest entries dropped by either cap
        self._seq = 0
        self._empty()

    def _empty(self) -> None:
        """No rows, and no columns until the first one."""
        self.bytes = 0
        self._first = 0  # slot of the oldest row
        self._count = 0
        self._capacity = 0
        self._numbers = array("d")  # _WIDTH per slot
        self._texts: list[Texts | None] = []  # None: the slot holds a whole entry
        self._response_raw: list[bytes | None] = []
        # By slot, only where there is one: the row's JournalEntry (appended whole, or read
        # once), else the request id the caller gave (x-request-id) rather than a drawn one.
        self._extras: dict[int, JournalEntry | str] = {}
        # One copy of each Texts, so that a row refers to a tuple already kept (a repeated
        # request's path is a new string every time). Bounded: starts over when full.
        self._shared: dict[Texts, Texts] = {}

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def append(self, entry: JournalEntry) -> None:
        slot = self._take_slot()
        _pack_row(self._numbers, slot * _ROW_BYTES, entry.seq, entry.at, entry.wall_time,
                  entry.duration_ms, 0, entry.size)
        self._extras[slot] = entry
        # A full journal's slot may still hold the dropped row's references: not needed now.
        self._texts[slot] = self._response_raw[slot] = None
        self.bytes += entry.size
        self._trim()

    def answered(self, at: float, wall_time: float, method: str, path: str, query: str,
                 status: int, duration_ms: float, request_id: str, operation: str | None,
                 response_raw: bytes | None, request_number: int = 0) -> None:
        """Journal the common request (no request body, hint or fault): the per-request path
        of the HTTP layer, so it fills a row rather than building an entry.
        ``request_number``: the counter ``request_id`` was made from (0 if it was given)."""
        size = _ENTRY_OVERHEAD + len(path) + len(query)
        if response_raw is not None:
            if len(response_raw) > ENTRY_BYTES:
                self.append(JournalEntry(self.next_seq(), at, wall_time, method, path, query,
                                         status, duration_ms, request_id, operation,
                                         response_raw=response_raw))
                return
            size += len(response_raw)
        slot = self._take_slot()
        self._seq = seq = self._seq + 1
        _pack_row(self._numbers, slot * _ROW_BYTES, seq, at, wall_time, duration_ms,
                  request_number, size)
        texts = (method, path, query, status, operation)
        shared = self._shared.get(texts)
        if shared is None:
            if len(self._shared) >= MAX_SHARED_TEXTS:
                self._shared.clear()
            shared = self._shared[texts] = texts
        self._texts[slot] = shared
        self._response_raw[slot] = response_raw
        if not request_number:
            self._extras[slot] = request_id
        self.bytes += size
        if self.bytes > self.byte_limit:
            self._trim()

    def _take_slot(self) -> int:
        """The slot for a new row, counted in: the oldest row's, dropped, when the journal is
        at its count limit, else the one after the newest (the columns grown if need be)."""
        slot = self._first
        if self._count and self._count == self._capacity == self.limit:
            # Full, as a busy tenant's journal is: _drop_oldest's bookkeeping without its
            # release of the slot, which the caller writes at once (2k instructions a request).
            self._first = (slot + 1) % self._capacity
            self.bytes -= int(self._numbers[slot * _WIDTH + _SIZE_AT])
            self.dropped += 1
            if self._extras:
                self._extras.pop(slot, None)
            return slot
        if self._count >= self.limit and self._count:
            self._drop_oldest()
        if self._count == self._capacity:
            self._grow()
        self._count += 1
        return (self._first + self._count - 1) % self._capacity

    def _grow(self) -> None:
        """Double the columns, up to the count limit (the oldest row moves to slot 0)."""
        old, first = self._capacity, self._first
        new = min(max(old * 2, _FIRST_CAPACITY), max(self.limit, old + 1))
        numbers = self._numbers[first * _WIDTH:] + self._numbers[:first * _WIDTH]
        numbers.frombytes(bytes((new - old) * _ROW_BYTES))
        self._numbers = numbers
        self._texts = self._texts[first:] + self._texts[:first]
        self._texts.extend([None] * (new - old))
        self._response_raw = self._response_raw[first:] + self._response_raw[:first]
        self._response_raw.extend([None] * (new - old))
        self._extras = {(slot - first) % old: kept for slot, kept in self._extras.items()}
        self._first, self._capacity = 0, new

    def _trim(self) -> None:
        while self._count > 1 and (self._count > self.limit or self.bytes > self.byte_limit):
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        slot = self._first
        self.bytes -= int(self._numbers[slot * _WIDTH + _SIZE_AT])
        self.dropped += 1
        self._count -= 1
        self._first = (slot + 1) % self._capacity
        # Released now: a journal trimmed by bytes may not write this slot again for long.
        self._texts[slot] = self._response_raw[slot] = None
        if self._extras:
            self._extras.pop(slot, None)

    def _entry_at(self, slot: int) -> JournalEntry:
        """The entry of a row, made once: a reader gets the same object on every read."""
        kept = self._extras.get(slot)
        if isinstance(kept, JournalEntry):
            return kept
        texts = self._texts[slot]
        assert texts is not None  # a slot without an entry is a row
        seq, at, wall_time, duration_ms, number, size = _NUMBERS.unpack_from(
            self._numbers, slot * _ROW_BYTES)
        entry = JournalEntry.__new__(JournalEntry)
        entry.method, entry.path, entry.query, entry.status, entry.operation = texts
        entry.seq, entry.size = int(seq), int(size)
        entry.at, entry.wall_time, entry.duration_ms = at, wall_time, duration_ms
        entry.request_id = kept if kept is not None else request_id_text(int(number))
        entry._response_raw = self._response_raw[slot]
        entry.request_body = entry._response = entry.hint = entry.fault = None
        entry.extra = None
        entry.source = "http"
        self._extras[slot] = entry
        return entry

    def entries(self) -> list[JournalEntry]:
        """The entries, oldest first."""
        capacity, first = self._capacity, self._first
        return [self._entry_at((first + i) % capacity) for i in range(self._count)]

    def clear(self) -> None:
        self._empty()  # seq and dropped go on counting

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return self._count


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
