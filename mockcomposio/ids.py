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


class IdFactory:
    def __init__(self, seed: int | None = None) -> None:
        self._rng: random.Random | None = random.Random(seed) if seed is not None else None

    def reseed(self, seed: int | None) -> None:
        self._rng = random.Random(seed) if seed is not None else None

    def _choice(self, n: int) -> str:
        if self._rng is None:
            return "".join(secrets.choice(ALPHABET) for _ in range(n))
        return "".join(self._rng.choice(ALPHABET) for _ in range(n))

    def new(self, prefix: str) -> str:
        return f"{prefix}_{self._choice(SUFFIX_LENGTH)}"

    def secret(self, prefix: str, length: int = 32) -> str:
        """An opaque token (access token, code, secret). Seeded too, for reproducible journals."""
        return f"{prefix}{self._choice(length)}"

    def uuid(self) -> str:
        if self._rng is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
