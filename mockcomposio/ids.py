"""Prefixed nanoid ids (``ac_``, ``ca_``, ``lk_``, ``trs_`` + 12 chars), seedable.

Real Composio ids are a prefix plus 12 characters from ``[A-Za-z0-9_-]``. A seeded factory
produces the same sequence every run, so tests can assert on ids.
"""

from __future__ import annotations

import random
import secrets
import uuid

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
SUFFIX_LENGTH = 12
_SYMBOLS = bytes(ord(ALPHABET[b & 63]) for b in range(256))  # byte -> symbol, for translate()


class IdFactory:
    def __init__(self, seed: int | None = None) -> None:
        # Seeding a Random is done on first use: most per-test tenants draw few ids, some none.
        self._seed = seed
        self._rng: random.Random | None = None

    def reseed(self, seed: int | None) -> None:
        self._seed, self._rng = seed, None

    def _seeded(self) -> random.Random | None:
        if self._rng is None and self._seed is not None:
            self._rng = random.Random(self._seed)
        return self._rng

    def generator(self) -> random.Random | None:
        """The seeded generator (its state goes into snapshots); None when unseeded."""
        return self._seeded()

    def restore(self, rng: random.Random | None) -> None:
        """Continue from a snapshot's generator (None: unseeded from now on)."""
        self._seed, self._rng = None, rng

    def _choice(self, n: int) -> str:
        # n random bytes in one call (secrets: one urandom syscall; seeded: one getrandbits),
        # each mapped to a symbol by its low 6 bits: 64 symbols, so without bias.
        rng = self._seeded()
        raw = secrets.token_bytes(n) if rng is None else rng.randbytes(n)
        return raw.translate(_SYMBOLS).decode("ascii")

    def new(self, prefix: str) -> str:
        return f"{prefix}_{self._choice(SUFFIX_LENGTH)}"

    def secret(self, prefix: str, length: int = 32) -> str:
        """An opaque token (access token, code, secret). Seeded too, for reproducible journals."""
        return f"{prefix}{self._choice(length)}"

    def uuid(self) -> str:
        rng = self._seeded()
        if rng is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
