"""One project (tenant): all state behind one API key, with its own clock and id sequence.

Resetting a tenant replaces its Project object, which is O(1) whatever it holds.
"""

from __future__ import annotations

import heapq
import itertools
import sys
import threading
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ..clock import VirtualClock
from ..ids import IdFactory
from .catalogue import Catalogue, Toolkit
from .consent import ConsentScript
from .faults import FaultSet
from .journal import Journal
from .models import AuthConfig, AuthSession, ConnectedAccount, Link, TimelineEvent, val_status
from .webhooks import WebhookState

if TYPE_CHECKING:
    from .provider import OAuthProvider


class StateLock:
    """A project's re-entrant lock, counting every take and release. Every change to a
    project's state happens under it, so a project whose count has not moved is unchanged:
    that is what lets the HTTP layer answer a repeated read from its response cache."""

    __slots__ = ("generation", "raw")

    def __init__(self) -> None:
        # Taken directly (not counted) only by reads that change nothing.
        self.raw = threading.RLock()
        self.generation = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        taken = self.raw.acquire(blocking, timeout)
        if taken:
            self.generation += 1
        return taken

    def release(self) -> None:
        # Counted on release too: a read that ran while another thread held the lock is
        # outdated by the time that thread lets go.
        self.generation += 1
        self.raw.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class _Union(Collection[str]):
    """Several disjoint buckets read as one (a toolkit's accounts: those of its configs)."""

    __slots__ = ("_parts",)

    def __init__(self, parts: list[dict[str, None]]) -> None:
        self._parts = parts

    def __len__(self) -> int:
        return sum(len(part) for part in self._parts)

    def __iter__(self) -> Iterator[str]:
        return itertools.chain.from_iterable(self._parts)

    def __contains__(self, account_id: object) -> bool:
        return any(account_id in part for part in self._parts)


class _ByToolkit(Mapping[str, Collection[str]]):
    """``AccountIndex.by_toolkit``, derived rather than stored: an account's toolkit is its auth
    config's, so a toolkit's accounts are the ``by_auth_config`` buckets of its configs (one
    index entry less per account: ~4 MB at 100k accounts). Read-only."""

    __slots__ = ("_index",)

    def __init__(self, index: AccountIndex) -> None:
        self._index = index

    def _parts(self, toolkit: str) -> list[dict[str, None]]:
        by_config = self._index.by_auth_config
        return [bucket for config in self._index.toolkit_configs.get(toolkit, ())
                if (bucket := by_config.get(config))]

    def __getitem__(self, toolkit: str) -> Collection[str]:
        parts = self._parts(toolkit)
        if not parts:
            raise KeyError(toolkit)
        return parts[0] if len(parts) == 1 else _Union(parts)

    def __iter__(self) -> Iterator[str]:
        return (t for t in list(self._index.toolkit_configs) if self._parts(t))

    def __len__(self) -> int:
        return sum(1 for _ in self)


class AccountIndex:
    """Secondary indexes over live (not deleted) connected accounts, so list filters never scan."""

    def __init__(self) -> None:
        self.by_user: dict[str, dict[str, None]] = {}
        self.by_auth_config: dict[str, dict[str, None]] = {}
        self.by_toolkit: Mapping[str, Collection[str]] = _ByToolkit(self)
        self.by_status: dict[str, dict[str, None]] = {}
        # Accounts per (auth config, status): every auth-config render shows its ACTIVE count,
        # and a list filtered by config / toolkit / status is counted from these without
        # visiting its matches.
        self._pairs: dict[tuple[str, str], int] = {}
        self.config_toolkit: dict[str, str] = {}  # auth config id -> toolkit, of indexed accounts
        self.toolkit_configs: dict[str, list[str]] = {}  # and back: toolkit -> its config ids
        # True while accounts were added in created_at order (the clock never went back): then
        # the project's insertion order is the list order, and a page is read off its end.
        self.created_in_order = True
        self._newest = float("-inf")

    @staticmethod
    def _add(index: dict[str, dict[str, None]], key: str, account_id: str) -> None:
        index.setdefault(key, {})[account_id] = None

    @staticmethod
    def _remove(index: dict[str, dict[str, None]], key: str, account_id: str) -> None:
        bucket = index.get(key)
        if bucket is not None:
            bucket.pop(account_id, None)
            if not bucket:
                del index[key]

    def add(self, a: ConnectedAccount) -> None:
        self._add(self.by_user, a.user_id, a.id)
        self._add(self.by_auth_config, a.auth_config_id, a.id)
        self._add(self.by_status, a.status, a.id)
        self._count(a.auth_config_id, a.status, +1)
        old = self.config_toolkit.get(a.auth_config_id)
        if old != a.toolkit:  # a config's first account (a config never changes toolkit)
            if old is not None:
                self.toolkit_configs[old].remove(a.auth_config_id)
            self.toolkit_configs.setdefault(a.toolkit, []).append(a.auth_config_id)
            self.config_toolkit[a.auth_config_id] = a.toolkit
        if a.created_at < self._newest:
            self.created_in_order = False
        self._newest = max(self._newest, a.created_at)

    def remove(self, a: ConnectedAccount) -> None:
        self._remove(self.by_user, a.user_id, a.id)
        self._remove(self.by_auth_config, a.auth_config_id, a.id)
        self._remove(self.by_status, a.status, a.id)
        self._count(a.auth_config_id, a.status, -1)

    def restatus(self, a: ConnectedAccount, old: str) -> None:
        self._remove(self.by_status, old, a.id)
        self._add(self.by_status, a.status, a.id)
        self._count(a.auth_config_id, old, -1)
        self._count(a.auth_config_id, a.status, +1)

    def _count(self, auth_config_id: str, status: str, delta: int) -> None:
        key = (auth_config_id, status)
        n = self._pairs.get(key, 0) + delta
        if n:
            self._pairs[key] = n
        else:
            self._pairs.pop(key, None)

    def count(self, auth_config_id: str, status: str) -> int:
        """Live accounts of one auth config in one status."""
        return self._pairs.get((auth_config_id, status), 0)

    def active_count(self, auth_config_id: str) -> int:
        return self.count(auth_config_id, "ACTIVE")


class EngineHooks(Protocol):
    def link_opened(self, project: Project, link: Link) -> None: ...
    def state_issued(self, project: Project, link: Link) -> None: ...
    def token_taken(self, token: str) -> bool: ...
    base_urls: list[str]


# Spent timers are swept out of the heap once it holds more than this many (see schedule).
MIN_DEADLINE_SWEEP = 1024

# Deleted connected accounts a tenant remembers (issue 19): older ones are forgotten.
MAX_DELETED_ACCOUNTS = 1000


class Project:
    def __init__(self, project_id: str, api_key: str, catalogue: Catalogue,
                 seed: int | None = None) -> None:
        self.id = project_id
        self.api_key = api_key
        self.catalogue = catalogue
        # The shared catalogue this tenant's starts from, and the toolkits it defined itself
        # (seed file, plugin, POST /_mock/toolkits): ``catalogue`` is base + own, built once
        # per change, so the shared data is never copied per tenant.
        self.base_catalogue = catalogue
        self.own_toolkits: list[Toolkit] = []
        self.seed = seed
        self.clock = VirtualClock()
        self.ids = IdFactory(seed)
        self.lock = StateLock()
        self.auth_configs: dict[str, AuthConfig] = {}
        self.accounts: dict[str, ConnectedAccount] = {}
        self.deleted_accounts: dict[str, ConnectedAccount] = {}
        self.index = AccountIndex()
        self.links: dict[str, Link] = {}
        self.links_by_state: dict[str, Link] = {}
        self.sessions: dict[str, Any] = {}
        # Requests and responses of this tenant, redacted (filled by the HTTP layer).
        self.journal = Journal()
        # Scripted end-user outcomes (plugin's composio_consent, POST /_mock/consent) and
        # injected faults (POST /_mock/faults) of this tenant.
        self.consent = ConsentScript()
        self.faults = FaultSet()
        # Webhook subscriptions, the delivery log and the in-process receiver.
        self.webhooks = WebhookState()
        # Strict contract checking for this tenant only (the plugin's strict marker), and the
        # violations it found (each was answered as a 500 instead of being sent).
        self.strict_contracts = False
        self.contract_violations: list[Any] = []
        # Mask secrets in connected-account responses, as the real API does by default.
        self.mask_secrets = True
        # Callback identity verification (project config ``oauth_callback_verifier_url``): when
        # set, OAuth callbacks of custom configs are deferred to ``complete_auth``.
        self.callback_verifier_url: str | None = None
        self.auth_sessions: dict[str, AuthSession] = {}
        # The rest of ``GET /org/project/config`` (stored, echoed; no behaviour behind it).
        self.settings: dict[str, Any] = {"is_2FA_enabled": False,
                                         "log_visibility_setting": "show_all"}
        self._seq = itertools.count()
        self._deadlines: list[tuple[float, int, str, str]] = []
        self._deadline_handlers: dict[str, Callable[[Project, str, float], None]] = {}
        # Per kind, "this timer can no longer do anything" (a finished link's expiry): such
        # timers are swept out of the heap when it doubles (see ``schedule``).
        self._deadline_spent: dict[str, Callable[[Project, str], bool]] = {}
        self._sweep_deadlines_at = MIN_DEADLINE_SWEEP
        self._provider: OAuthProvider | None = None
        # Client ids of OAuth apps the engine registered for custom configs; an app a test
        # registered itself stays under the test's control.
        self.engine_registered_apps: set[str] = set()
        # Set by the Engine so token-addressed objects (links, OAuth states) are findable
        # without an API key.
        self.engine_hooks: EngineHooks | None = None
        # The engine's use counter when this tenant was last reached (LRU eviction).
        self.last_used = 0
        # Owned by the HTTP layer (its response cache); None until a cacheable read.
        self.response_cache: Any = None
        # In-process handles (testing.Tenant) using this project, by id, each removed by its
        # weakref's callback when it dies: they may hand out live domain objects that a test
        # changes without the lock, so nothing is cached then. (A dict, not a WeakSet: the
        # response cache checks it on every read, and a dict's truth is a C call.)
        self.handles: dict[int, weakref.ref[Any]] = {}

    # -- provider ------------------------------------------------------------------------------
    @property
    def provider(self) -> OAuthProvider:
        if self._provider is None:
            from .provider import OAuthProvider

            self.install_provider(OAuthProvider(self.clock, self.ids, faker_seed=self.seed))
            assert self._provider is not None
        return self._provider

    def install_provider(self, provider: OAuthProvider) -> None:
        """Make ``provider`` this tenant's OAuth provider (new, or restored from a snapshot),
        with its refreshes subject to the tenant's token_refresh_failure faults."""
        from .faults import gate_refreshes

        me = weakref.ref(self)  # not self: the provider must not keep the project alive

        def faults() -> FaultSet:
            project = me()
            return project.faults if project is not None else FaultSet()

        gate_refreshes(provider, faults)
        self._provider = provider

    # -- time ----------------------------------------------------------------------------------
    def add_toolkits(self, toolkits: Iterable[Toolkit]) -> None:
        """Make user-defined toolkits visible to this tenant only (a slug it defined before,
        or a built-in one, is replaced)."""
        new = list(toolkits)
        with self.lock:
            slugs = {t.slug for t in new}
            self.own_toolkits = [t for t in self.own_toolkits if t.slug not in slugs] + new
            self.catalogue = self.base_catalogue.extended(self.own_toolkits)

    def rebase_catalogue(self, base: Catalogue) -> None:
        """The shared catalogue changed (``serve --catalogue``, a seed file's toolkits)."""
        with self.lock:
            self.base_catalogue = base
            self.catalogue = base.extended(self.own_toolkits) if self.own_toolkits else base

    def now(self) -> float:
        return self.clock.now()

    def next_seq(self) -> int:
        return next(self._seq)

    def schedule(self, when: float, kind: str, ref: str) -> None:
        heapq.heappush(self._deadlines, (when, self.next_seq(), kind, ref))
        if len(self._deadlines) > self._sweep_deadlines_at:
            self.sweep_deadlines()

    def sweep_deadlines(self) -> None:
        """Drop the timers whose kind says they are spent (every link of a 100k-account tenant
        finished long before it would expire: ~100 bytes each otherwise). Runs when the heap
        has doubled since the last sweep, so it costs O(1) per timer, amortised; the order of
        the timers that stay is unchanged (same entries, same sequence numbers)."""
        spent = self._deadline_spent
        kept = [d for d in self._deadlines
                if (check := spent.get(d[2])) is None or not check(self, d[3])]
        if len(kept) < len(self._deadlines):
            heapq.heapify(kept)
            self._deadlines = kept
        self._sweep_deadlines_at = max(MIN_DEADLINE_SWEEP, 2 * len(kept))

    def on_deadline(self, kind: str, handler: Callable[[Project, str, float], None],
                    spent: Callable[[Project, str], bool] | None = None) -> None:
        """``handler(project, ref, when)`` runs when a timer of ``kind`` is due; ``spent(project,
        ref)`` True means the handler would do nothing any more, now or later (the timer may
        then be dropped early)."""
        self._deadline_handlers[kind] = handler
        if spent is not None:
            self._deadline_spent[kind] = spent

    def run_due(self) -> None:
        """Apply every expiry that is due on the virtual clock (lazy timers; O(log n) each)."""
        now = self.clock.now()
        while self._deadlines and self._deadlines[0][0] <= now:
            when, _, kind, ref = heapq.heappop(self._deadlines)
            handler = self._deadline_handlers.get(kind)
            if handler is not None:
                handler(self, ref, when)

    def timer_due(self) -> bool:
        """True when :meth:`run_due` would apply an expiry now."""
        return bool(self._deadlines) and self._deadlines[0][0] <= self.clock.now()

    def advance_clock(self, seconds: float) -> float:
        with self.lock:
            t = self.clock.advance(seconds)
            self.run_due()
            return t

    # -- accounts ------------------------------------------------------------------------------
    def add_account(self, a: ConnectedAccount) -> None:
        self.accounts[a.id] = a
        self.index.add(a)

    def set_status(self, a: ConnectedAccount, status: str, reason: str | None = None,
                   *, event: str | None = None) -> None:
        old = a.status
        a.status = status
        a.status_reason = reason
        a.updated_at = now = self.now()
        if a.val is not None:
            a.val["status"] = val_status(a.auth_scheme, status, a.val.get("status"))
        if not a.deleted:
            self.index.restatus(a, old)
        self.log(a, event or f"{old} -> {status}", reason or "", at=now)

    def remove_account(self, a: ConnectedAccount) -> None:
        self.index.remove(a)
        del self.accounts[a.id]
        a.deleted = True
        self.deleted_accounts[a.id] = a
        if len(self.deleted_accounts) > MAX_DELETED_ACCOUNTS + MAX_DELETED_ACCOUNTS // 10:
            self._forget_deleted()

    def _forget_deleted(self) -> None:
        """Keep the newest MAX_DELETED_ACCOUNTS deleted accounts (kept at all so their old
        links still say "deleted"): the oldest tenth goes at once, with the links that point
        at them, so the scan of the links runs once per hundred deletions."""
        excess = len(self.deleted_accounts) - MAX_DELETED_ACCOUNTS
        gone = set(list(self.deleted_accounts)[:excess])
        for account_id in gone:
            del self.deleted_accounts[account_id]
        for token in [t for t, link in self.links.items() if link.connected_account_id in gone]:
            link = self.links.pop(token)
            if link.oauth_state is not None:
                self.links_by_state.pop(link.oauth_state, None)

    def log(self, a: ConnectedAccount, event: str, detail: str = "", *,
            at: float | None = None) -> None:
        """``at``: the time the caller already stored for this change (one float object,
        not two equal ones: memory at 100k accounts); default now."""
        # Interned: the same few texts recur on every account (memory at 100k accounts).
        a.timeline.append(TimelineEvent(self.now() if at is None else at, sys.intern(event),
                                        sys.intern(detail)))

    def known_user_id(self, user_id: str) -> str:
        """The user id string an account of this user already holds, else ``user_id``: one
        string per user, not one per account (memory at 100k accounts)."""
        bucket = self.index.by_user.get(user_id)
        if bucket:
            other = self.accounts.get(next(iter(bucket)))
            if other is not None and other.user_id == user_id:
                return other.user_id
        return user_id

    def accounts_of(self, ids: Iterable[str]) -> list[ConnectedAccount]:
        get = self.accounts.get  # one lookup per id (hot: list filters, render counts)
        return [a for i in ids if (a := get(i)) is not None]
