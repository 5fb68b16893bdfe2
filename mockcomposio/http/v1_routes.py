"""The legacy v1 API (``/api/v1``) for ``composio-core`` 0.7.x ToolSet users (issue 11)."""

from __future__ import annotations

from .app import Route

V1_ROUTES: list[Route] = []
