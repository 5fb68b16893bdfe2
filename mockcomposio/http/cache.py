"""The response cache of repeatable reads (one auth config, toolkit or connected account, and
their lists): a repeated GET is answered with the bytes sent last time, as long as nothing
could have changed them.

Validity, without tracking what each response depends on: an entry is used only while the
tenant's state lock (:class:`~mockcomposio.domain.project.StateLock`) has not been taken since
it was stored, the engine's control-plane epoch has not moved, no timer of the tenant is due
(links and tokens expire lazily, on the next locked request), no fault is armed, and no
in-process handle (``testing.Tenant``) is using the tenant, since a test may change domain
objects through one without the lock. The lock's count moves on every change, so any write
clears the tenant's whole cache: simple, and always right.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..domain.project import Project

# Per tenant. A full cache starts over rather than keeping LRU order, so a hit costs one dict
# lookup; large bodies (big pages) are not worth keeping.
MAX_BYTES = 4 * 1024 * 1024
MAX_ENTRIES = 1024
MAX_BODY_BYTES = 256 * 1024
# The test suite sets this: every hit is rendered again and compared (a difference is a 500).
AUDIT_ENV = "MOCKCOMPOSIO_CACHE_AUDIT"

CacheKey = tuple[str, str, bool]  # raw path with query, Host, strict contracts


def audit_enabled() -> bool:
    return os.environ.get(AUDIT_ENV, "") not in ("", "0")


class ResponseCache:
    __slots__ = ("bodies", "epoch", "generation", "size")

    def __init__(self) -> None:
        self.bodies: dict[CacheKey, bytes] = {}
        self.generation = -1
        self.epoch = -1
        self.size = 0

    def get(self, generation: int, epoch: int, key: CacheKey) -> bytes | None:
        if generation != self.generation or epoch != self.epoch:
            return None
        return self.bodies.get(key)

    def put(self, generation: int, epoch: int, key: CacheKey, body: bytes) -> None:
        if generation != self.generation or epoch != self.epoch:
            self._clear()
            self.generation, self.epoch = generation, epoch
        if len(body) > MAX_BODY_BYTES:
            return
        if self.size + len(body) > MAX_BYTES or len(self.bodies) >= MAX_ENTRIES:
            self._clear()
        old = self.bodies.get(key)
        self.size += len(body) - (len(old) if old is not None else 0)
        self.bodies[key] = body

    def _clear(self) -> None:
        self.bodies.clear()
        self.size = 0


def usable(project: Project) -> ResponseCache | None:
    """The tenant's cache, or None when its responses may not be cached right now."""
    if project.handles or project.faults or project.timer_due():
        return None
    cache = project.response_cache
    if cache is None:
        cache = project.response_cache = ResponseCache()
    return cache  # type: ignore[no-any-return]
