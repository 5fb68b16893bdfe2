"""The test-facing API of mockcomposio: what a test touches.

- :mod:`.consent`: the headless consent driver (``ConsentDriver``) and the ``Outcome`` /
  ``ConsentResult`` types it speaks;
- :mod:`.tenant`: ``Tenant``, the per-test project handle the pytest fixtures hand out;
- :mod:`.webhooks`: ``TenantWebhooks`` (``composio_webhooks``): the subscription's secret, the
  deliveries so far, the in-process receiver, waiting for deliveries and running retries;
- :mod:`.plugin`: the pytest plugin (registered through the ``pytest11`` entry point);
- :mod:`.strategies`: hypothesis strategies drawn from the catalogue.

Only the consent driver is imported eagerly (it is stdlib-only); the rest load on first use so
that importing the plugin stays cheap.
"""

from __future__ import annotations

from .consent import ConsentDriver, ConsentError, ConsentResult, Outcome

__all__ = ["ConsentDriver", "ConsentError", "ConsentResult", "Outcome"]
