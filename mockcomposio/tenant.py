"""A handle on one tenant (project) of a running fake, for arranging and asserting in tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .domain import auth_configs, connected_accounts
from .domain.connected_accounts import Origin
from .domain.models import AuthConfig, ConnectedAccount
from .testing import ConsentDriver, ConsentResult

if TYPE_CHECKING:
    from .domain.project import Project
    from .engine import Engine


class Tenant:
    def __init__(self, engine: Engine, api_key: str, base_url: str) -> None:
        self.engine = engine
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.consent = ConsentDriver(self.base_url)

    @property
    def project(self) -> Project:
        return self.engine.project(self.api_key)

    @property
    def env(self) -> dict[str, str]:
        return {"COMPOSIO_BASE_URL": self.base_url, "COMPOSIO_API_KEY": self.api_key}

    def reset(self, seed: int | None = None) -> None:
        self.engine.reset(self.api_key, seed=seed)

    # -- time ---------------------------------------------------------------------------------
    def advance(self, seconds: float) -> float:
        """Move this tenant's virtual clock forward, applying every expiry that falls due."""
        return self.project.advance_clock(seconds)

    # -- arranging ----------------------------------------------------------------------------
    def create_auth_config(self, toolkit: str, options: dict[str, Any] | None = None,
                           ) -> AuthConfig:
        project = self.project
        with project.lock:
            return auth_configs.create(
                project, toolkit, options,
                default_redirect_uri=f"{self.base_url}{connected_accounts.CALLBACK_PATH_V31}")

    def link(self, auth_config_id: str, user_id: str, callback_url: str | None = None,
             ) -> tuple[ConnectedAccount, str]:
        project = self.project
        with project.lock:
            account, _, redirect = connected_accounts.link(
                project, Origin(self.base_url), auth_config_id=auth_config_id,
                user_id=user_id, callback_url=callback_url)
        return account, redirect

    def connect(self, auth_config_id: str, user_id: str, **consent: Any) -> ConnectedAccount:
        """Link and complete consent in one go: an ACTIVE account (unless consent says no)."""
        account, redirect = self.link(auth_config_id, user_id)
        self.consent.complete(redirect, **consent)
        return self.account(account.id)

    def complete(self, redirect_url: str, **kwargs: Any) -> ConsentResult:
        return self.consent.complete(redirect_url, **kwargs)

    # -- asserting ----------------------------------------------------------------------------
    def account(self, account_id: str) -> ConnectedAccount:
        project = self.project
        with project.lock:
            project.run_due()
            return connected_accounts.get(project, account_id)

    def accounts(self, **filters: Any) -> list[ConnectedAccount]:
        project = self.project
        with project.lock:
            project.run_due()
            return connected_accounts.list_accounts(project, **filters)

    def auth_config(self, auth_config_id: str) -> AuthConfig:
        return auth_configs.get(self.project, auth_config_id)
