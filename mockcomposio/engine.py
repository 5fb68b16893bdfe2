"""The engine: every project (tenant) of one running fake, keyed by API key.

Both front doors (the HTTP app and the pytest plugin) drive one Engine. It knows nothing of
HTTP. Objects reached without an API key (Connect Link pages, the provider's callback) are
found through engine-wide indexes keyed by unguessable tokens; those indexes are checked
against the live project, so a reset tenant's old links simply stop resolving.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from .domain.catalogue import Catalogue, Toolkit
from .domain.models import Link
from .domain.project import Project
from .ids import IdFactory

# Entries below which the token indexes are never swept.
_MIN_SWEEP = 4096
# Live tenants kept by default; past it the least recently used are forgotten (issue 19).
DEFAULT_MAX_TENANTS = 10_000


class Engine:
    def __init__(self, catalogue: Catalogue | None = None, *, seed: int | None = None,
                 max_tenants: int | None = DEFAULT_MAX_TENANTS) -> None:
        self.catalogue = Catalogue.load() if catalogue is None else catalogue
        self.seed = seed
        # None or 0: unbounded. Otherwise creating a tenant past the cap evicts the least
        # recently used idle ones (see _evict).
        self.max_tenants = max_tenants or None
        self.evicted = 0
        self._tick = itertools.count(1)
        # The server's own base URLs (set once bound): the only redirect URIs of managed
        # OAuth apps, so no Host header can register another one. Empty in-process.
        self.base_urls: list[str] = []
        self.lock = threading.RLock()
        self._projects: dict[str, Project] = {}
        self._projects_by_id: dict[str, Project] = {}
        self._project_ids = IdFactory(seed)
        # Token / OAuth state -> id of the project holding the link. Ids, not objects: these
        # indexes must not keep a dropped tenant alive (it is freed at once, by refcounting).
        self._links: dict[str, str] = {}
        self._states: dict[str, str] = {}
        # Reset and drop leave a tenant's entries in the two indexes above (so they stay O(1));
        # lookups ignore them, and an insert sweeps them out once the index has doubled since
        # the last sweep: amortised O(1), and memory bounded by twice the live entries.
        self._sweep_at = _MIN_SWEEP
        # Webhook deliveries: set by the running app (mockcomposio.webhook_delivery); None
        # keeps them pending in the log. allow_any_host: serve --webhook-allow-any-host.
        self.webhook_sink: Callable[[Project, Any], None] | None = None
        self.webhook_allow_any_host = False
        # Moved by every control-plane change (reset, import, seeding, ...), which may reach
        # any tenant: cached HTTP responses older than its value are not used.
        self.epoch = 0

    def extend_catalogue(self, toolkits: list[Toolkit], *, replace: bool = False) -> None:
        """Add toolkits to the catalogue every tenant shares (or, with ``replace``, serve only
        these); tenants that exist already see them too, keeping their own additions."""
        with self.lock:
            self.catalogue = self.catalogue.extended(toolkits, replace=replace)
            for project in self._projects.values():
                project.rebase_catalogue(self.catalogue)

    # -- tenants -------------------------------------------------------------------------------
    def project(self, api_key: str) -> Project:
        """The project of an API key, created on first use (any non-empty key is valid)."""
        project = self._projects.get(api_key)
        if project is None:
            with self.lock:
                project = self._projects.get(api_key)
                if project is None:
                    project = self._new_project(api_key, self.seed)
        project.last_used = next(self._tick)
        return project

    def existing(self, api_key: str) -> Project | None:
        """The live project of an API key, or None: never creates one."""
        return self._projects.get(api_key)

    def touch(self, project: Project) -> None:
        """Mark a tenant as just used (for LRU eviction) when reached without its API key."""
        project.last_used = next(self._tick)

    def _new_project(self, api_key: str, seed: int | None) -> Project:
        with self.lock:
            # Unique among live tenants: an imported snapshot may have rewound the generator
            # to ids handed out since (issue 19, finding 1).
            project_id = self._project_ids.new("pr")
            while project_id in self._projects_by_id:
                project_id = self._project_ids.new("pr")
            project = Project(project_id, api_key, self.catalogue, seed=seed)
            self.install(project)
            if self.max_tenants is not None and len(self._projects) > self.max_tenants:
                self._evict(keep=project)
        return project

    def _evict(self, keep: Project) -> None:
        """Forget the least recently used tenants down to 90% of the cap (in one batch, so
        the O(n log n) pass runs once per cap/10 new tenants), skipping any in use."""
        target = max(1, self.max_tenants * 9 // 10) if self.max_tenants else len(self._projects)
        excess = len(self._projects) - target
        if excess <= 0:
            return
        oldest = sorted(self._projects.values(), key=attrgetter("last_used"))
        for project in oldest:
            if excess <= 0:
                break
            if project is keep or not project.lock.acquire(blocking=False):
                continue  # a request (or an export) is using it right now
            try:
                self.drop(project.api_key)
            finally:
                project.lock.release()
            self.evicted += 1
            excess -= 1

    def install(self, project: Project) -> None:
        """Make ``project`` the live tenant of its API key (replacing any other), with its
        timers wired (link expiry, token refresh, scripted consent) and its token-addressed
        links findable. Used for new tenants and restored snapshots."""
        from .domain import connected_accounts, consent, webhooks

        connected_accounts.install(project)
        webhooks.install(project)
        project.on_deadline(consent.AUTO_CONSENT, consent.auto_consent)
        project.engine_hooks = self
        project.last_used = next(self._tick)
        with self.lock:
            old = self._projects.get(project.api_key)
            if old is not None:
                self._projects_by_id.pop(old.id, None)
            self._projects[project.api_key] = project
            self._projects_by_id[project.id] = project
            for link in project.links.values():
                self._links[link.token] = project.id
                if link.oauth_state:
                    self._states[link.oauth_state] = project.id

    def project_by_id(self, project_id: str) -> Project | None:
        project = self._projects_by_id.get(project_id)
        if project is None or self._projects.get(project.api_key) is not project:
            return None
        return project

    def reset(self, api_key: str, *, seed: int | None = None) -> Project:
        """Forget everything of one tenant in O(1): a fresh Project replaces the old one."""
        # install() replaces the old project of the key, and its id
        return self._new_project(api_key, self.seed if seed is None else seed)

    def drop(self, api_key: str) -> None:
        with self.lock:
            old = self._projects.pop(api_key, None)
            if old is not None:
                self._projects_by_id.pop(old.id, None)

    @property
    def projects(self) -> dict[str, Project]:
        return self._projects

    # -- token-addressed objects ---------------------------------------------------------------
    def link_opened(self, project: Project, link: Link) -> None:
        self._links[link.token] = project.id
        self._maybe_sweep()
        project.consent.link_opened(project, link)

    def state_issued(self, project: Project, link: Link) -> None:
        if link.oauth_state:
            self._states[link.oauth_state] = project.id
            self._maybe_sweep()

    def _maybe_sweep(self) -> None:
        if len(self._links) + len(self._states) < self._sweep_at:
            return
        with self.lock:
            for index in (self._links, self._states):
                dead = [key for key, pid in index.items() if self.project_by_id(pid) is None]
                for key in dead:
                    del index[key]
            self._sweep_at = max(_MIN_SWEEP, 2 * (len(self._links) + len(self._states)))

    def token_taken(self, token: str) -> bool:
        """A live link token or OAuth state of any tenant (new ones must differ)."""
        return self.find_link(token) is not None or self.find_state(token) is not None

    def find_link(self, token: str) -> tuple[Project, Link] | None:
        project = self.project_by_id(self._links.get(token, ""))
        link = project.links.get(token) if project is not None else None
        return (project, link) if project is not None and link is not None else None

    def find_state(self, state: str) -> tuple[Project, Link] | None:
        project = self.project_by_id(self._states.get(state, ""))
        link = project.links_by_state.get(state) if project is not None else None
        return (project, link) if project is not None and link is not None else None
