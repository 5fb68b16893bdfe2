"""Memory soak (issue 19): a real ``mockcomposio serve`` takes >= 50,000 requests over
>= 20,000 API keys (one request per key, as many stray keys on unrouted paths), 300 refused
900 KB bodies and 3,000 connected accounts created and deleted; its RSS must stay bounded
(before the fixes: +172 MB for the keys alone, +260 MB for the bodies) and no response may be
a 5xx. The same run, with its figures, is ``python -m bench.hardening soak``."""

from __future__ import annotations

import pytest

from bench.hardening import soak

# Growth allowed over the run: the default tenant cap (10,000 live tenants at ~8 KB each),
# every journal at its byte cap for the few tenants that got big bodies, and allocator slack.
MAX_GROWTH_MB = 160


@pytest.mark.slow
def test_soak_keeps_memory_bounded() -> None:
    out = soak(keys=20_000, stray=20_000, big=300, churn=3_000, extra=4_000)
    print(out)  # the figures, for bench/RESULTS.md
    assert out["requests"] >= 50_000 and out["keys"] >= 20_000
    assert out["5xx"] == 0
    assert out["tenants_live"] <= 10_000  # the default --max-tenants
    assert out["rss_growth_mb"] < MAX_GROWTH_MB, out
