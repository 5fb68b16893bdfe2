"""A handle on one tenant (project) of a running fake, for arranging and asserting in tests.

Everything here talks to the engine in-process (no HTTP), under the project's lock, so it is
safe while the server thread serves the app's requests. Arrange with ``add_auth_config`` /
``add_account`` (any status), move time with ``clock``, script the end user with ``consent``,
and assert with ``account(s)``, ``requested_scopes`` / ``granted_scopes``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import random
import weakref
from collections.abc import Iterable, Mapping
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from .. import fakedata
from ..clock import to_epoch
from ..domain import auth_configs, connected_accounts, consent, project_config
from ..domain.connected_accounts import Origin
from ..domain.faults import Fault
from ..domain.journal import JournalEntry
from ..domain.journal import select as journal_select
from ..domain.models import (
    ACCOUNT_STATUSES,
    ACTIVE,
    DISABLED,
    ENABLED,
    EXPIRED,
    FAILED,
    INACTIVE,
    INITIALIZING,
    INITIATED,
    REASON_REFRESH_PERMANENT,
    REVOKED,
    AuthConfig,
    ConnectedAccount,
    Link,
    terminal_val,
)
from .consent import ConsentDriver, ConsentResult, HasRedirectUrl, Outcome

if TYPE_CHECKING:
    import aiohttp
    from faker import Faker

    from ..domain.catalogue import Toolkit
    from ..domain.consent import ConsentScript
    from ..domain.project import Project
    from ..engine import Engine
    from .webhooks import TenantWebhooks



def _config_id(auth_config: AuthConfig | str) -> str:
    """Every helper that names an auth config takes the object or its ``ac_...`` id."""
    return auth_config.id if isinstance(auth_config, AuthConfig) else auth_config


def _account_id(account: ConnectedAccount | str) -> str:
    """Every helper that names a connected account takes the object or its ``ca_...`` id."""
    return account.id if isinstance(account, ConnectedAccount) else account


def _forget_handle(handles: dict[int, Any], key: int, _: object) -> None:
    """A Tenant handle died: its project may cache responses again (if it has no other)."""
    handles.pop(key, None)


class TenantClock:
    """The tenant's virtual clock. Moving it applies every expiry that falls due (links after
    10 minutes, access tokens at ``expires_at`` then refresh, ...), without sleeping."""

    def __init__(self, tenant: Tenant) -> None:
        self._tenant = tenant

    def now(self) -> float:
        return self._tenant.project.now()

    def datetime(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.now(), tz=UTC)

    def advance(self, seconds: float | timedelta = 0, *, minutes: float = 0, hours: float = 0,
                days: float = 0) -> float:
        """Move forward; returns the new time (epoch seconds)."""
        if isinstance(seconds, timedelta):
            seconds = seconds.total_seconds()
        return self._tenant.project.advance_clock(
            seconds + 60 * minutes + 3600 * hours + 86400 * days)

    def set(self, when: float | str | _dt.datetime) -> float:
        """Jump to a point in time (forward or back); due expiries are applied.

        ``when``: epoch seconds, a ``datetime`` (naive means UTC) or an ISO-8601 string such
        as ``"2030-01-01T00:00:00Z"`` (what ``POST /_mock/clock`` accepts too)."""
        epoch = to_epoch(when)
        project = self._tenant.project
        with project.lock:
            t = project.clock.set(epoch)
            project.run_due()
            return t

    def freeze(self, at: float | str | _dt.datetime | None = None) -> float:
        """Stop the clock following wall time (it still moves with advance/set); with
        ``at`` (anything :meth:`set` takes), at that moment."""
        project = self._tenant.project
        with project.lock:
            project.clock.freeze()
        if at is not None:
            return self.set(at)
        return project.clock.now()

    def unfreeze(self) -> None:
        project = self._tenant.project
        with project.lock:
            project.clock.unfreeze()

    @property
    def frozen(self) -> bool:
        return self._tenant.project.clock.frozen

    def expire_token(self, account: ConnectedAccount | str) -> ConnectedAccount:
        """Advance just past the account's access-token expiry (Composio then refreshes it,
        or marks the account EXPIRED if the provider refuses). Returns the account after.
        Raises ``ValueError`` for an account whose token never expires (see
        :func:`mockcomposio.expiring_toolkits`)."""
        account_id = _account_id(account)
        account = self._tenant.account(account_id)
        if account.token is None or account.token.expires_at is None:
            raise ValueError(f"{account_id} has no expiring access token "
                             f"(status {account.status}, scheme {account.auth_scheme})")
        self.advance(max(0.0, account.token.expires_at - self.now()) + 1)
        return self._tenant.account(account_id)


class Tenant:
    """One isolated project of the fake: its own API key, accounts, provider and clock."""

    def __init__(self, engine: Engine, api_key: str, base_url: str, *,
                 seed: int | None = None, strict: bool = False) -> None:
        self.engine = engine
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.seed = seed
        self.strict = strict
        # Scripted outcomes live in the project (domain), shared with /_mock/consent. The
        # driver and the clock see this handle through weak references: a cycle would keep a
        # dropped tenant's whole project alive until the cyclic garbage collector runs.
        me = weakref.ref(self)

        def script_source() -> ConsentScript:
            tenant = me()
            return (tenant.project if tenant is not None else engine.project(api_key)).consent

        self.consent = ConsentDriver(self.base_url, script_source=script_source)
        self.clock = TenantClock(weakref.proxy(self))
        self._project: Project | None = None
        self._webhooks: TenantWebhooks | None = None
        self._faker: Faker | None = None
        self._user_rng: random.Random | None = None
        self._user_ids: set[str] = set()

    @property
    def project(self) -> Project:
        project = self.engine.project(self.api_key)
        if project is not self._project:
            self._adopt(project)
        return project

    @property
    def last_consent_mode(self) -> str:
        """The consent mode of the project this handle last used. For failure reports, which
        may run after the fixture dropped the tenant: ``project`` would create it again."""
        return self._project.consent.mode if self._project is not None else "manual"

    def _adopt(self, project: Project) -> None:
        # Scripted flows are completed in-process with this tenant's base URL.
        project.consent.origin = self.base_url
        # Plumbed for the HTTP layer: validate this tenant's responses against the contracts.
        project.strict_contracts = self.strict
        project.handles[id(self)] = weakref.ref(
            self, functools.partial(_forget_handle, project.handles, id(self)))
        self._project = project

    @property
    def webhooks(self) -> TenantWebhooks:
        """Webhook subscription secret, deliveries and the in-process receiver."""
        if self._webhooks is None:
            from .webhooks import TenantWebhooks

            self._webhooks = TenantWebhooks(self)
        return self._webhooks

    @property
    def env(self) -> dict[str, str]:
        return {"COMPOSIO_BASE_URL": self.base_url, "COMPOSIO_API_KEY": self.api_key}

    @property
    def headers(self) -> dict[str, str]:
        """Headers for raw HTTP calls to the API (``x-api-key``)."""
        return {"x-api-key": self.api_key}

    def reset(self, seed: int | None = None) -> None:
        """Forget everything of this tenant (O(1)); scripted outcomes and the toolkits it
        defined (:meth:`add_toolkit`, the marker's ``toolkits``) are kept."""
        old = self.project.consent
        own = list(self.project.own_toolkits)
        self.engine.reset(self.api_key, seed=self.seed if seed is None else seed)
        if own:
            self.project.add_toolkits(own)
        script = self.project.consent
        script.queue.extend(old.queue)
        script.mode, script.default = old.mode, old.default
        script.results = old.results

    def client(self, **kwargs: Any) -> Any:
        """A new official SDK client for this tenant (tracking off)."""
        from composio import Composio

        kwargs.setdefault("allow_tracking", False)
        return Composio(api_key=self.api_key, base_url=self.base_url, **kwargs)

    def http_session(self, **kwargs: Any) -> aiohttp.ClientSession:
        """An ``aiohttp.ClientSession`` on the tenant's base URL with its API key; call it from
        a running event loop and close it (``async with mock_composio.http_session() as s``)."""
        import aiohttp

        headers = {**self.headers, **kwargs.pop("headers", {})}
        return aiohttp.ClientSession(base_url=self.base_url, headers=headers, **kwargs)

    # -- fake data ----------------------------------------------------------------------------
    @property
    def fake(self) -> Faker:
        """A Faker seeded with the tenant's seed (created on first use: faker is slow to load)."""
        if self._faker is None:
            from faker import Faker

            self._faker = Faker()
            if self.seed is not None:
                self._faker.seed_instance(self.seed)
        return self._faker

    def new_user_id(self) -> str:
        """A realistic, unique (per tenant), reproducible end-user id (drawn from the process's
        shared Faker with this tenant's own seeded generator: no Faker built per tenant)."""
        if self._user_rng is None:
            self._user_rng = fakedata.new_random(self.seed)
        with fakedata.drawing_from(self._user_rng) as fake:
            for _ in range(1000):  # as faker's .unique: retry a name this tenant already gave
                name = fake.user_name()
                if name not in self._user_ids:
                    break
            else:
                raise RuntimeError("no fresh fake user name after 1000 draws")
            self._user_ids.add(name)
            return f"{name}-{fake.random_int(100, 999)}"

    # -- callback identity verification ------------------------------------------------------
    def set_callback_verifier(self, url: str | None) -> None:
        """Turn callback identity verification on (the app's verifier URL) or off (None), as
        ``PATCH /api/v3.1/org/project/config {"oauth_callback_verifier_url": ...}`` does: OAuth
        callbacks of custom configs then redirect to ``url?session_uri=...`` and the account
        stays INITIATED until ``complete_auth``."""
        project = self.project
        with project.lock:
            project_config.set_callback_verifier(project, url)

    @property
    def callback_verifier(self) -> str | None:
        return self.project.callback_verifier_url

    # -- time ---------------------------------------------------------------------------------
    def advance(self, seconds: float | timedelta) -> float:
        """Move this tenant's virtual clock forward, applying every expiry that falls due."""
        return self.clock.advance(seconds)

    # -- arranging ----------------------------------------------------------------------------
    def add_toolkits(self, definitions: Iterable[Mapping[str, Any]]) -> list[Toolkit]:
        """Toolkits only this tenant sees, besides the built-in catalogue (same format and
        checks as a seed file's ``toolkits``; see ``contracts/mock/toolkit.schema.json``). All
        or nothing: a bad definition raises :class:`~mockcomposio.domain.catalogue.
        CatalogueError` (a ``ValueError`` naming the field) and adds none."""
        from ..domain.catalogue import parse_definitions

        toolkits = parse_definitions(list(definitions), origin="plugin")
        self.project.add_toolkits(toolkits)
        return toolkits

    def add_toolkit(self, definition: Mapping[str, Any] | None = None, /,
                    **fields: Any) -> Toolkit:
        """One toolkit, as a mapping or keywords: ``add_toolkit(slug="acme_crm",
        auth_schemes=["OAUTH2"])``; schemes given by name get their standard fields (OAuth2:
        a working fake provider, plus the BEARER_TOKEN alternative)."""
        return self.add_toolkits([{**(definition or {}), **fields}])[0]

    def create_auth_config(self, toolkit: str, options: dict[str, Any] | None = None,
                           ) -> AuthConfig:
        """An auth config from the API's ``options`` body (as ``auth_configs.create`` sends)."""
        project = self.project
        with project.lock:
            return auth_configs.create(
                project, toolkit, options,
                default_redirect_uri=f"{self.base_url}{connected_accounts.CALLBACK_PATH_V31}")

    def add_auth_config(self, toolkit: str, *, scopes: Iterable[str] | str | None = None,
                        custom: bool | None = None, auth_scheme: str | None = None,
                        credentials: Mapping[str, Any] | None = None, name: str | None = None,
                        enabled: bool = True) -> AuthConfig:
        """An auth config without writing the API body: Composio-managed when the toolkit has
        managed auth (unless ``custom=True``), else custom with placeholder credentials for
        every required field. ``scopes`` overrides the scopes the provider is asked for."""
        project = self.project
        toolkit_obj = auth_configs.resolve_toolkit(project, toolkit)
        creds: dict[str, Any] = dict(credentials or {})
        if scopes is not None:
            creds["scopes"] = scopes if isinstance(scopes, str) else ",".join(scopes)
        if custom is None:
            custom = not toolkit_obj.managed_schemes or (
                auth_scheme is not None and auth_scheme not in toolkit_obj.managed_schemes)
        options: dict[str, Any] = {"type": auth_configs.CUSTOM if custom else auth_configs.MANAGED}
        if name is not None:
            options["name"] = name
        if custom:
            spec = toolkit_obj.scheme(auth_scheme) if auth_scheme else (
                toolkit_obj.default_scheme or (toolkit_obj.schemes[0] if toolkit_obj.schemes
                                               else None))
            if spec is None:
                raise ValueError(f"toolkit {toolkit!r} has no auth scheme {auth_scheme!r}")
            options["auth_scheme"] = spec.mode
            for f in spec.required_field_names("auth_config_creation"):
                creds.setdefault(f, f"fake-{f.replace('_', '-')}")
        elif auth_scheme is not None:
            options["auth_scheme"] = auth_scheme
        if creds:
            options["credentials"] = creds
        ac = self.create_auth_config(toolkit, options)
        if not enabled:
            self.disable_auth_config(ac.id)
        return ac

    def disable_auth_config(self, auth_config: AuthConfig | str) -> AuthConfig:
        """Disable a config (object or id): new connections are refused, existing accounts
        keep working."""
        project = self.project
        with project.lock:
            return auth_configs.set_status(project, _config_id(auth_config), DISABLED)

    def enable_auth_config(self, auth_config: AuthConfig | str) -> AuthConfig:
        """Enable a disabled config (object or id) again."""
        project = self.project
        with project.lock:
            return auth_configs.set_status(project, _config_id(auth_config), ENABLED)

    def link(self, auth_config: AuthConfig | str, user_id: str, callback_url: str | None = None,
             ) -> tuple[ConnectedAccount, str]:
        """Open a Connect Link as the API would: an INITIATED account and its redirect URL.
        (Links the tenant opens itself never consume scripted consent outcomes.)"""
        project = self.project
        with project.lock:
            project.consent.quiet += 1
            try:
                account, _, redirect = connected_accounts.link(
                    project, Origin(self.base_url), auth_config_id=_config_id(auth_config),
                    user_id=user_id, callback_url=callback_url)
            finally:
                project.consent.quiet -= 1
        return account, redirect

    def connect(self, auth_config: AuthConfig | str, user_id: str, **consent: Any,
                ) -> ConnectedAccount:
        """Link and complete consent over HTTP in one go: an ACTIVE account (unless consent
        says no). ``consent`` takes :meth:`ConsentDriver.complete`'s keywords."""
        account, redirect = self.link(auth_config, user_id)
        self.consent.complete(redirect, **consent)
        return self.account(account.id)

    def complete(self, redirect_url: str | HasRedirectUrl, **kwargs: Any) -> ConsentResult:
        """Shorthand for ``self.consent.complete(...)``."""
        return self.consent.complete(redirect_url, **kwargs)

    def add_account(self, auth_config: AuthConfig | str, user_id: str | None = None, *,
                    status: str = ACTIVE, scopes: Iterable[str] | None = None,
                    fields: Mapping[str, str] | None = None, callback_url: str | None = None,
                    status_reason: str | None = None) -> ConnectedAccount:
        """A connected account in any status, made through the same domain code as the API
        (so tokens, refresh, expiry and scopes behave exactly as for a real flow).

        Args:
            auth_config: an AuthConfig, an ``ac_...`` id, or a toolkit slug (its first usable
                config is reused, else one is added with :meth:`add_auth_config`).
            user_id: default: a fresh realistic id (seeded faker).
            status: ACTIVE, INITIATED, INACTIVE, EXPIRED, FAILED, REVOKED or INITIALIZING.
            scopes: grant only these of the requested scopes (OAuth); default: all.
            fields: credentials for non-OAuth schemes (default: placeholders for required
                fields).
            callback_url: where the flow would send the user back.
            status_reason: overrides the reason the status would get.
        """
        status = status.upper()
        if status not in ACCOUNT_STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {ACCOUNT_STATUSES}")
        ac = self._resolve_config(auth_config)
        if user_id is None:
            user_id = self.new_user_id()
        account, _ = self.link(ac.id, user_id, callback_url)
        project = self.project
        if status in (INITIATED, INITIALIZING):
            if status == INITIALIZING:
                with project.lock:
                    project.set_status(account, INITIALIZING, status_reason)
                    account.val["status"] = INITIALIZING
            return account
        link_obj = project.links[account.link_token or ""]
        outcome = Outcome.deny() if status == FAILED else Outcome.allow(scopes, fields)
        with project.lock:
            result = self._complete_in_process(project, link_obj, outcome)
            if status not in (FAILED,) and account.status != ACTIVE:
                raise ValueError(f"could not connect {ac.toolkit} for {user_id}: "
                                 f"{result.page_text or result.final_url}")
            if status == INACTIVE:
                connected_accounts.set_enabled(project, account.id, False)
            elif status == REVOKED:
                connected_accounts.revoke(project, account.id)
            elif status == EXPIRED:
                project.set_status(account, EXPIRED, status_reason or REASON_REFRESH_PERMANENT,
                                   event="expired (arranged by the test)")
                terminal_val(account, {"status": EXPIRED, "expired_at": project.clock.iso()})
            elif status == FAILED and account.status != FAILED:  # non-OAuth: no consent to deny
                project.set_status(account, FAILED, status_reason or "Arranged by the test")
                terminal_val(account, {"status": FAILED})
            elif status not in (ACTIVE, FAILED):
                project.set_status(account, status, status_reason)
                account.val["status"] = status
            if status_reason is not None and account.status_reason != status_reason:
                account.status_reason = status_reason
        return account

    def _resolve_config(self, auth_config: AuthConfig | str) -> AuthConfig:
        if isinstance(auth_config, AuthConfig):
            return auth_config
        project = self.project
        if auth_config in project.auth_configs:
            return self.auth_config(auth_config)
        for ac in project.auth_configs.values():
            if ac.toolkit == auth_config.lower() and ac.enabled and not ac.deleted:
                return ac
        return self.add_auth_config(auth_config)

    # -- consent, in-process ------------------------------------------------------------------
    def complete_pending(self, outcome: Outcome | str | None = None) -> list[ConsentResult]:
        """Complete every open flow (the app opened the links; nobody visited them) in
        creation order, each with ``outcome`` or else the next scripted outcome, else allow."""
        project = self.project
        results = []
        with project.lock:
            project.run_due()
            for link_obj in list(project.links.values()):
                if link_obj.done:
                    continue
                account = project.accounts.get(link_obj.connected_account_id)
                if account is None or account.link_token != link_obj.token \
                        or account.status not in (INITIATED, INITIALIZING):
                    continue
                scripted = project.consent.pending.pop(link_obj.token, None)
                chosen = Outcome.parse(outcome) if outcome is not None else (
                    scripted or project.consent.next_outcome() or Outcome())
                results.append(self._complete_in_process(project, link_obj, chosen))
        return results

    def _complete_in_process(self, project: Project, link_obj: Link,
                             outcome: Outcome) -> ConsentResult:
        return consent.complete_link(project, Origin(self.base_url), link_obj, outcome)

    # -- faults and the journal --------------------------------------------------------------
    def fault(self, operation: str = "*", preset: str | None = None, *, times: int | None = 1,
              latency_ms: int = 0, retry_after: int = 30) -> Fault:
        """Arm a fault, as ``POST /_mock/faults`` does: the next ``times`` calls of
        ``operation`` (a route-table name such as ``connected_accounts.list``, or ``*``) are
        answered with ``preset`` (``rate_limit``, ``auth_config_not_found``, ``server_error``,
        ``invalid_api_key``) and/or delayed; ``preset="token_refresh_failure"`` makes the
        provider refuse the next refresh instead (``token_refresh_transient``: answer it
        503 temporarily_unavailable; the refresh is retried a minute later and the account
        EXPIRED after 3 failures). ``times=None``: until cleared."""
        return self.project.faults.add(operation, preset=preset, latency_ms=latency_ms,
                                       times=times, retry_after=retry_after)

    def journal(self, *, method: str | None = None, path_prefix: str | None = None,
                status: int | None = None, operation: str | None = None,
                limit: int | None = None) -> list[JournalEntry]:
        """The requests this tenant's app made and what the fake answered (bodies redacted),
        oldest first; filters as ``GET /_mock/journal`` (``status=4``: any 4xx)."""
        return journal_select(self.project.journal.entries(), method=method,
                              path_prefix=path_prefix, status=status, operation=operation,
                              limit=limit)

    # -- asserting ----------------------------------------------------------------------------
    def account(self, account: ConnectedAccount | str) -> ConnectedAccount:
        """The stored account (object or id) as it is now, due expiries applied."""
        project = self.project
        with project.lock:
            project.run_due()
            return connected_accounts.get(project, _account_id(account))

    def accounts(self, **filters: Any) -> list[ConnectedAccount]:
        """Stored accounts, newest first; filters as the API's list (``user_ids=[...]``,
        ``toolkit_slugs``, ``statuses``, ``auth_config_ids`` (objects or ids))."""
        if filters.get("auth_config_ids") is not None:
            filters["auth_config_ids"] = [_config_id(a) for a in filters["auth_config_ids"]]
        project = self.project
        with project.lock:
            project.run_due()
            return connected_accounts.list_accounts(project, **filters)

    def requested_scopes(self, account: ConnectedAccount | str) -> list[str]:
        """The scopes the provider was asked for when the connection started."""
        return list(self.account(account).requested_scopes)

    def granted_scopes(self, account: ConnectedAccount | str) -> list[str] | None:
        """The scopes the user granted (None until consent completes)."""
        granted = self.account(account).granted_scopes
        return None if granted is None else list(granted)

    def auth_config(self, auth_config: AuthConfig | str) -> AuthConfig:
        """The stored auth config (object or id) as it is now."""
        return auth_configs.get(self.project, _config_id(auth_config))

    def auth_configs(self, **filters: Any) -> list[AuthConfig]:
        """Stored auth configs, newest first (``toolkit_slugs=[...]``, ``show_disabled=True``)."""
        project = self.project
        with project.lock:
            return auth_configs.list_configs(project, **filters)

    def __repr__(self) -> str:
        return (f"<Tenant api_key={self.api_key!r} base_url={self.base_url!r} seed={self.seed} "
                f"consent={self.consent.mode}>")
