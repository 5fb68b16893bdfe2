"""mockcomposio: an offline, in-memory fake of Composio's auth API for tests.

Import cost matters (the pytest plugin loads this in every test run), so heavy modules are
imported lazily by the functions that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .engine import Engine
    from .server import LiveServer

__all__ = ["Engine", "LiveServer", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from .engine import Engine

        return Engine
    if name == "LiveServer":
        from .server import LiveServer

        return LiveServer
    raise AttributeError(name)
