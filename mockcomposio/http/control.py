"""The reserved control plane under ``/_mock/`` (never a Composio path)."""

from __future__ import annotations

from .. import __version__
from .app import Call, HandlerResult


def health(c: Call) -> HandlerResult:
    return 200, {"status": "ok", "projects": len(c.engine.projects)}


def version(c: Call) -> HandlerResult:
    return 200, {"name": "mockcomposio", "version": __version__,
                 "toolkits": len(c.engine.catalogue)}
