"""Branches the issue-19 audit found no test reaching (each confirmed by coverage): the transient
token-refresh retry path (reachable now through the ``token_refresh_transient`` fault),
``revoke_on_delete`` on OAuth accounts, a refresh without a refresh token, a callback after its
auth config was disabled mid-consent, and pinned-account resolution in sessions. All over HTTP
against the strict app, arranged with the in-process Tenant API where that is shorter.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockcomposio.domain.connected_accounts import MAX_REFRESH_FAILURES, REFRESH_RETRY_SECONDS
from mockcomposio.domain.models import (
    REASON_AUTH_CONFIG_DISABLED,
    REASON_MAX_AUTH_FAILURES,
    REASON_REFRESH_PERMANENT,
    REASON_REVOKED_ON_DELETE,
)
from mockcomposio.engine import Engine
from mockcomposio.tenant import Tenant

from .conftest import KEY
from .test_http_flows import decide, path_of, to_consent

Client = TestClient[Any, Any]
V31 = "/api/v3.1"


@pytest.fixture
def tenant(api: Client, engine: Engine) -> Tenant:
    return Tenant(engine, KEY["x-api-key"], str(api.make_url("")))


async def get_json(api: Client, path: str, status: int = 200) -> Any:
    async with api.get(path, headers=KEY) as resp:
        body = await resp.json()
        assert resp.status == status, body
        return body


async def send(api: Client, method: str, path: str, body: Any = None,
               status: int = 200) -> Any:
    async with api.request(method, path, json=body, headers=KEY) as resp:
        payload = await resp.json()
        assert resp.status == status, payload
        return payload


# -- transient token-refresh failures ----------------------------------------------------------

async def test_transient_refresh_failures_are_retried_then_succeed(api: Client,
                                                                    tenant: Tenant) -> None:
    account = tenant.add_account("gmail", "alice")
    assert account.token is not None
    old_token = account.token.access_token
    await send(api, "POST", "/_mock/faults", {"preset": "token_refresh_transient", "times": 2})
    after = tenant.clock.expire_token(account.id)
    # Refused once: still ACTIVE, the old token kept, a retry scheduled a minute later.
    assert after.status == "ACTIVE" and after.token is not None
    assert after.token.access_token == old_token and after.token.refresh_failures == 1
    tenant.clock.advance(REFRESH_RETRY_SECONDS + 1)  # the retry fails too
    assert tenant.account(account.id).token.refresh_failures == 2  # type: ignore[union-attr]
    tenant.clock.advance(REFRESH_RETRY_SECONDS + 1)  # the third attempt gets through
    healed = tenant.account(account.id)
    assert healed.status == "ACTIVE" and healed.token is not None
    assert healed.token.access_token != old_token
    events = [e.event for e in healed.timeline]
    assert events.count("token refresh failed") == 2 and "access token refreshed" in events
    shown = await get_json(api, f"{V31}/connected_accounts/{account.id}")
    assert shown["status"] == "ACTIVE"


async def test_transient_refresh_failures_expire_the_account_after_the_last_attempt(
        api: Client, tenant: Tenant) -> None:
    account = tenant.add_account("gmail", "bob")
    await send(api, "POST", "/_mock/faults", {"preset": "token_refresh_transient",
                                              "times": None})
    tenant.clock.expire_token(account.id)
    for _ in range(MAX_REFRESH_FAILURES - 1):
        assert tenant.account(account.id).status == "ACTIVE"
        tenant.clock.advance(REFRESH_RETRY_SECONDS + 1)
    gone = tenant.account(account.id)
    assert gone.status == "EXPIRED" and gone.status_reason == REASON_MAX_AUTH_FAILURES
    shown = await get_json(api, f"{V31}/connected_accounts/{account.id}")
    assert shown["status"] == "EXPIRED" and shown["status_reason"] == REASON_MAX_AUTH_FAILURES
    listed = await get_json(api, "/_mock/faults")
    assert "token_refresh_transient" in listed["presets"]


# -- refresh without a refresh token -----------------------------------------------------------

async def test_an_expiring_token_without_a_refresh_token_expires_the_account(
        api: Client, tenant: Tenant) -> None:
    account = tenant.add_account("gmail", "carol")
    assert account.token is not None and account.token.refresh_token
    account.token.refresh_token = None  # as a provider that issues no refresh tokens
    after = tenant.clock.expire_token(account.id)
    assert after.status == "EXPIRED" and after.status_reason == REASON_REFRESH_PERMANENT
    assert any("no refresh token" in e.event for e in after.timeline)
    shown = await get_json(api, f"{V31}/connected_accounts/{account.id}")
    assert shown["status"] == "EXPIRED" and shown["state"]["val"]["status"] == "EXPIRED"


# -- revoke_on_delete on OAuth accounts --------------------------------------------------------

async def test_deleting_an_oauth_config_with_revoke_on_delete_revokes_its_tokens(
        api: Client, tenant: Tenant) -> None:
    ac = tenant.add_auth_config("gmail")
    active = tenant.add_account(ac, "dave")
    pending = tenant.add_account(ac, "erin", status="INITIATED")
    assert active.token is not None
    access = active.token.access_token
    answer = await send(api, "DELETE", f"{V31}/auth_configs/{ac.id}?revoke_on_delete=true")
    assert answer["revoke_job_id"].startswith("rj_")
    revoked = tenant.account(active.id)
    assert revoked.status == "REVOKED" and revoked.status_reason == REASON_REVOKED_ON_DELETE
    assert tenant.account(pending.id).status == "INITIATED"  # only ACTIVE accounts revoke
    # Upstream too: the provider no longer accepts the access token.
    record = tenant.project.provider._access[access]
    assert record.revoked_reason is not None
    shown = await get_json(api, f"{V31}/connected_accounts/{active.id}")
    assert shown["status"] == "REVOKED"


async def test_deleting_an_oauth_account_with_revoke_on_delete_revokes_upstream(
        api: Client, tenant: Tenant) -> None:
    account = tenant.add_account("gmail", "frank")
    kept = tenant.add_account("gmail", "grace")
    assert account.token is not None and kept.token is not None
    await send(api, "DELETE", f"{V31}/connected_accounts/{account.id}?revoke_on_delete=true")
    await get_json(api, f"{V31}/connected_accounts/{account.id}", status=404)
    provider = tenant.project.provider
    assert provider._access[account.token.access_token].revoked_reason is not None
    assert provider._access[kept.token.access_token].revoked_reason is None
    deleted = tenant.project.deleted_accounts[account.id]
    assert deleted.status == "REVOKED" and deleted.status_reason == REASON_REVOKED_ON_DELETE
    # Without the flag the upstream grant is left alone.
    await send(api, "DELETE", f"{V31}/connected_accounts/{kept.id}")
    assert provider._access[kept.token.access_token].revoked_reason is None


# -- a callback after the config was disabled mid-consent --------------------------------------

async def test_a_callback_after_the_config_was_disabled_mid_consent_fails_the_account(
        api: Client, tenant: Tenant) -> None:
    ac = tenant.add_auth_config("gmail")
    link = await send(api, "POST", f"{V31}/connected_accounts/link", {
        "auth_config_id": ac.id, "user_id": "heidi",
        "callback_url": "https://app.example/cb"}, status=201)
    authorize, html = await to_consent(api, link["redirect_url"])
    # The user is on the consent page when the developer disables the config.
    await send(api, "PATCH", f"{V31}/auth_configs/{ac.id}/DISABLED")
    callback = await decide(api, authorize, html)
    async with api.get(path_of(callback), allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        back = resp.headers["Location"]
    assert back.startswith("https://app.example/cb?") and "status=failed" in back
    account = tenant.account(link["connected_account_id"])
    assert account.status == "FAILED" and account.status_reason == REASON_AUTH_CONFIG_DISABLED
    assert account.token is None
    shown = await get_json(api, f"{V31}/connected_accounts/{account.id}")
    assert shown["status"] == "FAILED"


# -- pinned accounts in sessions ---------------------------------------------------------------

async def session_account(api: Client, session_id: str, toolkit: str) -> Any:
    page = await get_json(api, f"{V31}/tool_router/session/{session_id}/toolkits"
                          f"?toolkits={toolkit}")
    (item,) = [i for i in page["items"] if i["slug"] == toolkit]
    return item["connected_account"]


async def test_a_session_uses_its_pinned_account_not_the_newest(api: Client,
                                                               tenant: Tenant) -> None:
    older = tenant.add_account("github", "ivan")
    tenant.clock.advance(5)
    newer = tenant.add_account("github", "ivan")
    free = await send(api, "POST", f"{V31}/tool_router/session", {
        "user_id": "ivan", "toolkits": {"enable": ["github"]}}, status=201)
    pinned = await send(api, "POST", f"{V31}/tool_router/session", {
        "user_id": "ivan", "toolkits": {"enable": ["github"]},
        "connected_accounts": {"github": older.id}}, status=201)
    assert (await session_account(api, free["session_id"], "github"))["id"] == newer.id
    assert (await session_account(api, pinned["session_id"], "github"))["id"] == older.id
    # A pinned account is used whatever its status...
    await send(api, "PATCH", f"{V31}/connected_accounts/{older.id}/status", {"enabled": False})
    shown = await session_account(api, pinned["session_id"], "github")
    assert shown["id"] == older.id and shown["status"] == "INACTIVE"
    # ...and once deleted the session has none (no silent fallback to another account),
    # while a new link for that toolkit is still refused: the session pins it.
    await send(api, "DELETE", f"{V31}/connected_accounts/{older.id}")
    assert await session_account(api, pinned["session_id"], "github") is None
    refused = await send(api, "POST",
                         f"{V31}/tool_router/session/{pinned['session_id']}/link",
                         {"toolkit": "github"}, status=400)
    assert refused["error"]["slug"] == "ToolRouterV2_ConnectedAccountAlreadyDefined"


async def test_pinning_an_account_of_another_user_or_toolkit_is_refused(
        api: Client, tenant: Tenant) -> None:
    theirs = tenant.add_account("github", "judy")
    other_toolkit = tenant.add_account("gmail", "kim")
    for pin, status in (({"github": theirs.id}, 400), ({"github": other_toolkit.id}, 400),
                        ({"github": "ca_doesnotexist"}, 404)):
        refused = await send(api, "POST", f"{V31}/tool_router/session", {
            "user_id": "kim", "toolkits": {"enable": ["github"]},
            "connected_accounts": pin}, status=status)
        assert refused["error"]["message"], refused
