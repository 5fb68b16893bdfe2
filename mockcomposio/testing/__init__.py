"""The test-facing API of mockcomposio: what a test touches.

- :mod:`.consent`: the headless consent driver (``ConsentDriver``) and the ``Outcome`` /
  ``ConsentResult`` types it speaks;
- :mod:`.tenant`: ``Tenant``, the per-test project handle the pytest fixtures hand out;
- :mod:`.webhooks`: ``TenantWebhooks`` (``composio_webhooks``): the subscription's secret, the
  deliveries so far, the in-process receiver, waiting for deliveries and running retries;
- :mod:`.plugin`: the pytest plugin (registered through the ``pytest11`` entry point);
- :mod:`.strategies`: hypothesis strategies drawn from the catalogue.

Nothing is imported eagerly: pytest imports :mod:`.plugin` (and so this package) in every
process of a project that installs mockcomposio, and the consent driver's HTTP client
(urllib, asyncio, html.parser) is not free. The names below load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .consent import ConsentDriver, ConsentError, ConsentResult, Outcome

__all__ = ["ConsentDriver", "ConsentError", "ConsentResult", "Outcome"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import consent

        return getattr(consent, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
