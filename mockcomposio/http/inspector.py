"""The inspector page at ``/_mock/`` (issue 7): a human view of every tenant."""

from __future__ import annotations

from .app import Route

INSPECTOR_ROUTES: list[Route] = []
