"""The virtual clock: every timestamp and expiry in the engine comes from here.

By default it follows wall-clock time; tests move it with :meth:`advance` or pin it with
:meth:`set` / :meth:`freeze`, which is how links, codes and tokens are expired without sleeping.
"""

from __future__ import annotations

import functools
import math
import time
from datetime import UTC, datetime
from typing import Any

# The range the virtual clock may be moved within: the Unix epoch to 9000-01-01. Every time the
# engine derives from "now" (link, code and token expiries, retry timers) then stays far inside
# what datetime can render (years 1-9999), so no later list, page or export can fail on it.
MIN_EPOCH = 0.0
MAX_EPOCH = 221845392000.0  # 9000-01-01T00:00:00Z
# Times the engine stores (expiries, retry timers) are "now" plus a bounded lifetime, so they may
# run past MAX_EPOCH; they stay below this, still renderable.
MAX_STORED_EPOCH = 253370764800.0  # 9999-01-01T00:00:00Z


class ClockRangeError(ValueError):
    """A clock move that would leave the supported range (or is not a finite number)."""


def check_epoch(epoch_seconds: float, what: str = "time", *, stored: bool = False) -> float:
    """``epoch_seconds`` as a float if it is a time the clock can show (``stored``: a time the
    engine may store, up to MAX_STORED_EPOCH), else ClockRangeError."""
    if isinstance(epoch_seconds, bool) or not isinstance(epoch_seconds, int | float):
        raise ClockRangeError(f"{what} must be a number of epoch seconds")
    try:
        value = float(epoch_seconds)
    except OverflowError:  # an int beyond double range
        raise ClockRangeError(f"{what} is out of range") from None
    top, year = (MAX_STORED_EPOCH, 9999) if stored else (MAX_EPOCH, 9000)
    if not math.isfinite(value) or not MIN_EPOCH <= value <= top:
        raise ClockRangeError(
            f"{what} must be between {MIN_EPOCH:.0f} (1970-01-01) and {top:.0f} "
            f"({year}-01-01) epoch seconds")
    return value


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
        """Validated before anything moves: a refused advance leaves the clock as it was."""
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) \
                or not math.isfinite(seconds) or abs(seconds) > MAX_EPOCH:
            raise ClockRangeError("advance must be a finite number of seconds, at most "
                                  f"{MAX_EPOCH:.0f}")
        if seconds < 0:
            raise ClockRangeError("the clock only moves forward; use set() to jump to a given "
                                  "time")
        check_epoch(self.now() + seconds, "the advanced clock")
        if self._frozen_at is not None:
            self._frozen_at += seconds
        else:
            self._offset += seconds
        return self.now()

    def set(self, epoch_seconds: float) -> float:
        epoch_seconds = check_epoch(epoch_seconds, "the clock")
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
