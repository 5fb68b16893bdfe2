"""The engine: every project (tenant) of one running fake, keyed by API key.

Both front doors (the HTTP app and the pytest plugin) drive one Engine. It knows nothing of
HTTP. Objects reached without an API key (Connect Link pages, the provider's callback) are
found through engine-wide indexes keyed by unguessable tokens; those indexes are checked
against the live project, so a reset tenant's old links simply stop resolving.
"""

from __future__ import annotations

import threading

from .domain.catalogue import Catalogue
from .domain.models import Link
from .domain.project import Project
from .ids import IdFactory

# Entries below which the token indexes are never swept.
_MIN_SWEEP = 4096


class Engine:
    def __init__(self, catalogue: Catalogue | None = None, *, seed: int | None = None) -> None:
        self.catalogue = catalogue or Catalogue.load()
        self.seed = seed
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

    # -- tenants -------------------------------------------------------------------------------
    def project(self, api_key: str) -> Project:
        """The project of an API key, created on first use (any non-empty key is valid)."""
        project = self._projects.get(api_key)
        if project is None:
            with self.lock:
                project = self._projects.get(api_key)
                if project is None:
                    project = self._new_project(api_key, self.seed)
        return project

    def _new_project(self, api_key: str, seed: int | None) -> Project:
        project = Project(self._project_ids.new("pr"), api_key, self.catalogue, seed=seed)
        self.install(project)
        return project

    def install(self, project: Project) -> None:
        """Make ``project`` the live tenant of its API key (replacing any other), with its
        timers wired (link expiry, token refresh, scripted consent) and its token-addressed
        links findable. Used for new tenants and restored snapshots."""
        from .domain import connected_accounts, consent

        connected_accounts.install(project)
        project.on_deadline(consent.AUTO_CONSENT, consent.auto_consent)
        project.engine_hooks = self
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

    def find_link(self, token: str) -> tuple[Project, Link] | None:
        project = self.project_by_id(self._links.get(token, ""))
        link = project.links.get(token) if project is not None else None
        return (project, link) if project is not None and link is not None else None

    def find_state(self, state: str) -> tuple[Project, Link] | None:
        project = self.project_by_id(self._states.get(state, ""))
        link = project.links_by_state.get(state) if project is not None else None
        return (project, link) if project is not None and link is not None else None
