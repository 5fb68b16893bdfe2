"""The pytest plugin's fixtures, used the way a downstream suite uses them."""

from __future__ import annotations

import os
import socket
import threading
import urllib.request
from datetime import timedelta
from typing import Any

import pytest

from mockcomposio import netguard
from mockcomposio.tenant import Tenant
from mockcomposio.testing import ConsentDriver, Outcome

APP_CALLBACK = "https://myapp.example/cb"


# -- tenant isolation --------------------------------------------------------------------------

_seen: dict[str, Any] = {}


@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_gets_a_fresh_tenant(mock_composio: Tenant, round_: int) -> None:
    assert mock_composio.accounts() == [] and mock_composio.auth_configs() == []
    assert mock_composio.api_key not in _seen.values()
    previous = _seen.get("key")
    if previous is not None:  # the other round's tenant was dropped after its test
        assert previous not in mock_composio.engine.projects
    _seen["key"] = mock_composio.api_key
    mock_composio.add_account("github", "u1")
    assert len(mock_composio.accounts()) == 1


def test_tenants_of_one_server_are_isolated(mock_composio: Tenant,
                                            composio_tenant_factory: Any) -> None:
    other = composio_tenant_factory()
    assert other.base_url == mock_composio.base_url and other.api_key != mock_composio.api_key
    mine = mock_composio.add_account("github", "shared-user")
    assert other.accounts() == []
    theirs = other.add_account("github", "shared-user")
    assert [a.id for a in mock_composio.accounts()] == [mine.id]
    assert [a.id for a in other.accounts()] == [theirs.id]


def test_default_seed_is_stable_per_test(mock_composio: Tenant, request: Any) -> None:
    from mockcomposio.pytest_plugin import _SETTINGS

    settings = request.config.stash[_SETTINGS]
    assert mock_composio.seed == settings.seed_for(request.node.nodeid)


@pytest.mark.mock_composio(seed=1234)
def test_marker_seed_makes_ids_reproducible(mock_composio: Tenant,
                                            composio_tenant_factory: Any) -> None:
    twin = composio_tenant_factory(seed=1234)
    a = mock_composio.add_auth_config("github")
    b = twin.add_auth_config("github")
    assert mock_composio.seed == twin.seed == 1234
    assert a.id == b.id
    assert mock_composio.new_user_id() == twin.new_user_id()


# -- arranging state directly ------------------------------------------------------------------

@pytest.mark.parametrize("status", ["ACTIVE", "INITIATED", "INACTIVE", "EXPIRED", "FAILED",
                                    "REVOKED", "INITIALIZING"])
def test_add_account_in_any_status(composio_client: Any, mock_composio: Tenant,
                                   status: str) -> None:
    account = mock_composio.add_account("gmail", "alice", status=status)
    assert account.status == status
    got = composio_client.connected_accounts.get(account.id)
    assert got.status == status and got.user_id == "alice"


def test_add_account_with_fewer_scopes_is_visible_through_the_api(composio_client: Any,
                                                                  mock_composio: Tenant) -> None:
    ac = mock_composio.add_auth_config("github", scopes=["repo", "read:org", "read:user"])
    account = mock_composio.add_account(ac, "bob", scopes=["repo"])
    assert mock_composio.requested_scopes(account.id) == ["repo", "read:org", "read:user"]
    assert mock_composio.granted_scopes(account.id) == ["repo"]
    raw = composio_client.client.get(f"/api/v3.1/connected_accounts/{account.id}",
                                     cast_to=object)
    assert raw["granted_scopes"] == ["repo"]
    listed = composio_client.connected_accounts.list(user_ids=["bob"], statuses=["ACTIVE"])
    assert [a.id for a in listed.items] == [account.id]


def test_add_account_non_oauth_and_custom_config(mock_composio: Tenant) -> None:
    account = mock_composio.add_account("perplexityai", "carol",
                                        fields={"generic_api_key": "pplx-123"})
    assert account.status == "ACTIVE" and account.val["generic_api_key"] == "pplx-123"
    custom = mock_composio.add_auth_config("notion", custom=True)
    assert not custom.is_composio_managed and custom.credentials["client_id"]
    assert mock_composio.add_account(custom, "carol").status == "ACTIVE"


def test_add_account_generates_realistic_user_ids(mock_composio: Tenant) -> None:
    a = mock_composio.add_account("github")
    b = mock_composio.add_account("github")
    assert a.user_id != b.user_id and a.user_id.strip()


def test_disabled_auth_config_refuses_new_links(composio_client: Any,
                                                mock_composio: Tenant) -> None:
    import composio

    ac = mock_composio.add_auth_config("slack", enabled=False)
    with pytest.raises(composio.exceptions.ComposioError, match="disabled"):
        composio_client.connected_accounts.link(user_id="u", auth_config_id=ac.id)
    mock_composio.enable_auth_config(ac.id)
    assert composio_client.connected_accounts.link(user_id="u", auth_config_id=ac.id).id


# -- consent ---------------------------------------------------------------------------------

def test_composio_consent_is_the_tenant_driver(composio_consent: ConsentDriver,
                                               mock_composio: Tenant) -> None:
    assert composio_consent is mock_composio.consent


def test_consent_driver_outcomes(composio_client: Any, mock_composio: Tenant,
                                 composio_consent: ConsentDriver) -> None:
    ac = mock_composio.add_auth_config("github", scopes="repo,read:org")
    allowed = composio_client.connected_accounts.link(user_id="a", auth_config_id=ac.id,
                                                      callback_url=APP_CALLBACK)
    result = composio_consent.complete(allowed.redirect_url, outcome="scopes:repo")
    assert result.left_fake and result.status == "success"
    assert mock_composio.granted_scopes(allowed.id) == ["repo"]
    failed = composio_client.connected_accounts.link(user_id="b", auth_config_id=ac.id,
                                                     callback_url=APP_CALLBACK)
    result = composio_consent.complete(failed.redirect_url, outcome=Outcome.error("server_error"))
    assert result.status == "failed" and "server_error" in (result.error or "")
    assert mock_composio.account(failed.id).status == "FAILED"


def test_scripted_outcomes_apply_to_flows_the_app_starts(composio_client: Any,
                                                         mock_composio: Tenant) -> None:
    import composio

    ac = mock_composio.add_auth_config("github", scopes="repo,read:org")
    mock_composio.consent.script("allow", "deny", Outcome.allow(scopes=["read:org"]))
    first = composio_client.connected_accounts.link(user_id="u1", auth_config_id=ac.id,
                                                    callback_url=APP_CALLBACK)
    second = composio_client.connected_accounts.link(user_id="u2", auth_config_id=ac.id)
    third = composio_client.connected_accounts.link(user_id="u3", auth_config_id=ac.id)
    # Nobody opened the pages: the scripted user did, before the app's next call.
    assert first.wait_for_connection(timeout=5).status == "ACTIVE"
    with pytest.raises(composio.exceptions.SDKError):
        second.wait_for_connection(timeout=5)
    assert third.wait_for_connection(timeout=5).status == "ACTIVE"
    assert mock_composio.granted_scopes(third.id) == ["read:org"]
    assert mock_composio.consent.scripted == []
    results = mock_composio.consent.results
    assert [r.status for r in results] == ["success", None, None]
    assert results[0].final_url.startswith(APP_CALLBACK) and results[0].left_fake
    # Unscripted flows in manual mode are left alone.
    fourth = composio_client.connected_accounts.link(user_id="u4", auth_config_id=ac.id)
    assert mock_composio.account(fourth.id).status == "INITIATED"
    done = mock_composio.complete_pending("deny")
    assert len(done) == 1 and mock_composio.account(fourth.id).status == "FAILED"


@pytest.mark.mock_composio(consent="allow")
def test_consent_marker_auto_allows(composio_client: Any, mock_composio: Tenant) -> None:
    assert mock_composio.consent.mode == "auto"
    ac = mock_composio.add_auth_config("gmail")
    request = composio_client.connected_accounts.link(user_id="u", auth_config_id=ac.id)
    assert request.wait_for_connection(timeout=5).status == "ACTIVE"


@pytest.mark.mock_composio(consent="error:temporarily_unavailable")
def test_consent_marker_provider_error(composio_client: Any, mock_composio: Tenant) -> None:
    ac = mock_composio.add_auth_config("gmail")
    request = composio_client.connected_accounts.link(user_id="u", auth_config_id=ac.id)
    account = mock_composio.account(request.id)
    assert account.status == "FAILED" and "temporarily_unavailable" in (account.status_reason
                                                                         or "")


def test_outcome_parse_rejects_nonsense() -> None:
    assert Outcome.parse("partial:a, b") == Outcome.allow(["a", "b"])
    assert Outcome.parse("deny").decision == "deny"
    with pytest.raises(ValueError, match="unknown consent outcome"):
        Outcome.parse("maybe")


# -- clock -----------------------------------------------------------------------------------

def test_clock_expires_links_and_refreshes_tokens(composio_client: Any, mock_composio: Tenant,
                                                  composio_clock: Any) -> None:
    assert composio_clock is mock_composio.clock
    ac = mock_composio.add_auth_config("gmail")
    pending = composio_client.connected_accounts.link(user_id="u", auth_config_id=ac.id)
    composio_clock.advance(minutes=10, seconds=1)
    assert composio_client.connected_accounts.get(pending.id).status == "EXPIRED"
    account = mock_composio.add_account(ac, "v")
    token = account.token
    assert token is not None
    after = composio_clock.expire_token(account.id)
    assert after.status == "ACTIVE" and after.token is not None
    assert after.token.access_token != token.access_token
    mock_composio.project.provider.revoke_user_grants(refresh_token=after.token.refresh_token)
    assert composio_clock.expire_token(account.id).status == "EXPIRED"


def test_clock_freeze_set_and_timedelta(composio_clock: Any) -> None:
    t0 = composio_clock.freeze()
    assert composio_clock.frozen and composio_clock.now() == t0
    assert composio_clock.advance(timedelta(hours=1)) == t0 + 3600
    assert composio_clock.set(t0 + 7200) == t0 + 7200
    assert composio_clock.datetime().timestamp() == pytest.approx(t0 + 7200)
    composio_clock.unfreeze()
    assert not composio_clock.frozen


# -- env and clients -------------------------------------------------------------------------

def test_composio_env_for_code_that_builds_its_own_client(composio_env: dict[str, str],
                                                          mock_composio: Tenant) -> None:
    from composio import Composio

    assert os.environ["COMPOSIO_BASE_URL"] == mock_composio.base_url
    assert os.environ["COMPOSIO_API_KEY"] == mock_composio.api_key
    assert "COMPOSIO_USER_API_KEY" not in os.environ
    client = Composio(allow_tracking=False)  # the app's own construction: env only
    ac = client.auth_configs.create(toolkit="github",
                                    options={"type": "use_composio_managed_auth"})
    assert mock_composio.auth_config(ac.id).toolkit == "github"


async def test_async_app_with_aiohttp(mock_composio: Tenant) -> None:
    async with mock_composio.http_session() as http:
        async with http.post("/api/v3.1/auth_configs", json={
                "toolkit": {"slug": "github"},
                "auth_config": {"type": "use_composio_managed_auth"}}) as resp:
            assert resp.status == 201, await resp.text()
            ac_id = (await resp.json())["auth_config"]["id"]
        async with http.post("/api/v3.1/connected_accounts/link", json={
                "auth_config_id": ac_id, "user_id": "async-user",
                "callback_url": APP_CALLBACK}) as resp:
            assert resp.status in (200, 201), await resp.text()
            body = await resp.json()
        result = await mock_composio.consent.acomplete(body["redirect_url"])
        assert result.status == "success"
        async with http.get(f"/api/v3.1/connected_accounts/{body['connected_account_id']}") \
                as resp:
            assert (await resp.json())["status"] == "ACTIVE"


# -- network guard ---------------------------------------------------------------------------

def test_guard_is_on_and_loopback_still_works(mock_composio: Tenant) -> None:
    assert netguard.active()
    with urllib.request.urlopen(mock_composio.base_url + "/_mock/health", timeout=5) as resp:
        assert resp.status == 200
    with pytest.raises(netguard.ComposioNetworkBlocked, match="composio_client fixture"):
        socket.getaddrinfo("backend.composio.dev", 443)
    # Tell the plugin this attempt was expected, so the test doesn't fail for it.
    assert [a.host for a in netguard.take_attempts()] == ["backend.composio.dev"]


def test_guard_swallows_sdk_telemetry_from_worker_threads() -> None:
    before = netguard.telemetry_blocked()
    errors: list[BaseException] = []

    def post() -> None:
        try:
            socket.getaddrinfo("telemetry.composio.dev", 443)
        except OSError as exc:
            errors.append(exc)

    thread = threading.Thread(target=post)
    thread.start()
    thread.join()
    assert isinstance(errors[0], netguard.ComposioNetworkBlocked)
    assert netguard.telemetry_blocked() == before + 1
    assert netguard.take_attempts() == []  # telemetry never fails the test


def test_is_composio_host() -> None:
    assert netguard.is_composio_host("backend.composio.dev")
    assert netguard.is_composio_host(b"Telemetry.Composio.Dev.")
    assert netguard.is_composio_host("composio.io")
    assert not netguard.is_composio_host("notcomposio.dev")
    assert not netguard.is_composio_host("127.0.0.1")


def test_guard_blocks_real_sdk_telemetry_from_a_thread_pool(composio_client: Any) -> None:
    """The SDK's documented leak: allow_tracking=False is a ContextVar, so a call made from a
    worker thread queues telemetry again. The guard refuses it without failing the test."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    before = netguard.telemetry_blocked()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(composio_client.auth_configs.list).result(timeout=10)
    deadline = time.monotonic() + 5
    while netguard.telemetry_blocked() == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert netguard.telemetry_blocked() > before
    assert netguard.take_attempts() == []


# -- journal and faults ----------------------------------------------------------------------

def test_journal_records_what_the_app_asked_with_secrets_redacted(composio_client: Any,
                                                                  mock_composio: Tenant) -> None:
    ac = composio_client.auth_configs.create(toolkit="github", options={
        "type": "use_custom_auth", "auth_scheme": "OAUTH2",
        "credentials": {"client_id": "gh-client", "client_secret": "very-secret-value"}})
    from composio.exceptions import ComposioError

    with pytest.raises(ComposioError):
        composio_client.auth_configs.get("ac_doesnotexist")

    created = mock_composio.journal(operation="auth_configs.create")
    assert len(created) == 1 and created[0].status == 201
    assert created[0].request_body["auth_config"]["credentials"]["client_secret"] == "REDACTED"
    assert "very-secret-value" not in repr(mock_composio.journal())
    misses = mock_composio.journal(status=4)
    assert [(e.method, e.operation, e.status) for e in misses] == [
        ("GET", "auth_configs.get", 404)]
    assert ac.id in {e.response_body.get("auth_config", {}).get("id") for e in created}


def test_fault_rate_limits_the_next_call_only(composio_client: Any,
                                              mock_composio: Tenant) -> None:
    mock_composio.add_auth_config("github")
    from composio.exceptions import ComposioError

    mock_composio.fault("auth_configs.list", "rate_limit", retry_after=7)
    with pytest.raises(ComposioError) as info:
        composio_client.auth_configs.list()
    assert "rate limit" in str(info.value).lower()
    assert len(composio_client.auth_configs.list().items) == 1  # one-shot: served again
    faulted = mock_composio.journal(operation="auth_configs.list")
    assert [e.status for e in faulted] == [429, 200]
    assert faulted[0].fault is not None and faulted[0].fault.startswith("rate_limit")
    assert faulted[1].fault is None


def test_token_refresh_failure_fault_expires_the_account(mock_composio: Tenant,
                                                         composio_clock: Any) -> None:
    account = mock_composio.add_account("gmail")
    mock_composio.fault(preset="token_refresh_failure")
    assert composio_clock.expire_token(account.id).status == "EXPIRED"


def test_failure_report_does_not_bring_a_dropped_tenant_back(mock_composio_server: Any) -> None:
    # A teardown failure (e.g. a strict-mode violation) is reported after the fixture dropped
    # the tenant; describing it must not create the project again.
    engine = mock_composio_server.engine
    tenant = Tenant(engine, "report-after-drop", mock_composio_server.base_url)
    tenant.consent.set_mode("deny")
    engine.drop(tenant.api_key)
    assert tenant.last_consent_mode == "auto"
    assert tenant.api_key not in engine.projects
