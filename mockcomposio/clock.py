"""The virtual clock: every timestamp and expiry in the engine comes from here.

By default it follows wall-clock time; tests move it with :meth:`advance` or pin it with
:meth:`set` / :meth:`freeze`, which is how links, codes and tokens are expired without sleeping.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from typing import Any


class VirtualClock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._frozen_at: float | None = None

    def now(self) -> float:
        """Seconds since the epoch, on the virtual timeline."""
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward; use set() to jump to a given time")
        if self._frozen_at is not None:
            self._frozen_at += seconds
        else:
            self._offset += seconds
        return self.now()

    def set(self, epoch_seconds: float) -> float:
        if self._frozen_at is not None:
            self._frozen_at = epoch_seconds
        else:
            self._offset = epoch_seconds - time.time()
        return self.now()

    def freeze(self) -> None:
        self._frozen_at = self.now()

    def unfreeze(self) -> None:
        if self._frozen_at is not None:
            self._offset = self._frozen_at - time.time()
            self._frozen_at = None

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def iso(self, epoch_seconds: float | None = None) -> str:
        return iso(self.now() if epoch_seconds is None else epoch_seconds)


@functools.lru_cache(maxsize=8192)  # every render formats the same few timestamps again
def iso(epoch_seconds: float) -> str:
    """ISO-8601 with milliseconds and a Z, the way Composio writes timestamps."""
    dt = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def to_epoch(when: Any) -> float:
    """Epoch seconds from any way a test names a moment: epoch seconds (int or float), a
    ``datetime`` (naive means UTC), or an ISO-8601 string (``"2030-01-01T00:00:00Z"``,
    ``"2030-01-01"``). Raises ``ValueError`` naming the value otherwise."""
    if isinstance(when, int | float) and not isinstance(when, bool):
        return float(when)
    if isinstance(when, datetime):
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    if isinstance(when, str):
        text = when.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            pass
        else:
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    raise ValueError(f"{when!r} is neither epoch seconds, a datetime nor an ISO-8601 time "
                     "(e.g. \"2030-01-01T00:00:00Z\")")
