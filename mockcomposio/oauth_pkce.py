"""PKCE (RFC 7636) helper for the client side of the flow that the engine plays."""

from __future__ import annotations

import base64
import hashlib


def challenge_s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
