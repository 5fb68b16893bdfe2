"""One Faker for the whole process, drawing from each caller's own ``random.Random``.

Building a ``Faker()`` costs about a millisecond (and importing faker ~100 ms, once): one per
tenant made the first OAuth flow of every test pay for it. Each tenant (provider, test handle)
keeps only a ``random.Random`` seeded with its seed; :func:`drawing_from` lends it the shared
instance with that generator swapped in, so a tenant's fake users depend on its seed alone,
exactly as with its own ``Faker().seed_instance(seed)``, and never on other tenants.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faker import Faker

_lock = threading.Lock()  # the server thread and the test thread both make fake users
_shared: Faker | None = None


def new_random(seed: int | None) -> random.Random:
    """The generator a tenant draws its fake data from (seeded: reproducible)."""
    return random.Random(seed)


@contextmanager
def drawing_from(rng: random.Random) -> Iterator[Faker]:
    """The shared Faker, drawing from ``rng`` until the block ends."""
    global _shared
    with _lock:
        if _shared is None:
            from faker import Faker  # lazy: importing faker is slow

            _shared = Faker()
        fake = _shared
        saved = fake.random  # type: ignore[attr-defined]  # a property the stubs lack
        fake.random = rng  # type: ignore[attr-defined]
        try:
            yield fake
        finally:
            fake.random = saved  # type: ignore[attr-defined]
