"""The per-tenant request journal: what the fake was asked and what it answered.

Bounded (a ring buffer), so a long-running server never grows without limit. Entries hold
bodies already redacted: nothing secret is ever stored here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

JOURNAL_LIMIT = 2000


@dataclass
class JournalEntry:
    seq: int
    at: float  # virtual clock of the tenant (seconds since epoch)
    wall_time: float  # real time.time()
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    request_id: str
    operation: str | None  # route operation name; None when no route matched
    request_body: Any = None  # redacted
    response_body: Any = None  # redacted
    hint: str | None = None  # near-miss hint when no route matched
    fault: str | None = None  # name of the injected fault that answered, if any
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "at": self.at, "wall_time": self.wall_time,
            "method": self.method, "path": self.path, "query": self.query,
            "status": self.status, "duration_ms": round(self.duration_ms, 3),
            "request_id": self.request_id, "operation": self.operation,
            "request_body": self.request_body, "response_body": self.response_body,
            "hint": self.hint, "fault": self.fault,
        }


class Journal:
    def __init__(self, limit: int = JOURNAL_LIMIT) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=limit)
        self._seq = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def append(self, entry: JournalEntry) -> None:
        self._entries.append(entry)

    def entries(self) -> list[JournalEntry]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)


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
