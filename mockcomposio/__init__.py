"""mockcomposio: an offline, in-memory fake of Composio's auth API for tests.

Everything a test touches is importable from here::

    from mockcomposio import Outcome, ConsentResult, Tenant, ConnectedAccount

Import cost matters (the pytest plugin loads this in every test run), so every name is
imported lazily, on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from . import strategies
    from .domain.faults import Fault
    from .domain.journal import JournalEntry
    from .domain.models import (
        AuthConfig,
        ConnectedAccount,
        Link,
        TimelineEvent,
        TokenState,
    )
    from .engine import Engine
    from .server import LiveServer
    from .testing.consent import ConsentDriver, ConsentError, ConsentResult, Outcome
    from .testing.plugin import TenantFactory
    from .testing.tenant import Tenant, TenantClock
    from .testing.toolkits import ToolkitInfo, expiring_toolkits, toolkits

# name -> module that defines it (relative to this package).
_EXPORTS = {
    # driving consent
    "Outcome": ".testing.consent",
    "ConsentResult": ".testing.consent",
    "ConsentDriver": ".testing.consent",
    "ConsentError": ".testing.consent",
    # the per-test handle and what the fixtures hand out
    "Tenant": ".testing.tenant",
    "TenantClock": ".testing.tenant",
    "TenantFactory": ".testing.plugin",
    # stored objects a test reads
    "AuthConfig": ".domain.models",
    "ConnectedAccount": ".domain.models",
    "TokenState": ".domain.models",
    "TimelineEvent": ".domain.models",
    "Link": ".domain.models",
    "JournalEntry": ".domain.journal",
    "Fault": ".domain.faults",
    # the catalogue, as a test sees it
    "ToolkitInfo": ".testing.toolkits",
    "toolkits": ".testing.toolkits",
    "expiring_toolkits": ".testing.toolkits",
    # running the fake yourself
    "Engine": ".engine",
    "LiveServer": ".server",
}

# Spelled out (not derived from _EXPORTS) so that type checkers and linters see it.
__all__ = [
    "AuthConfig",
    "ConnectedAccount",
    "ConsentDriver",
    "ConsentError",
    "ConsentResult",
    "Engine",
    "Fault",
    "JournalEntry",
    "Link",
    "LiveServer",
    "Outcome",
    "Tenant",
    "TenantClock",
    "TenantFactory",
    "TimelineEvent",
    "TokenState",
    "ToolkitInfo",
    "__version__",
    "expiring_toolkits",
    "strategies",
    "toolkits",
]


def __getattr__(name: str) -> Any:
    if name == "strategies":
        return importlib.import_module(".strategies", __name__)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mockcomposio' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # next time, no __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
