"""The public test API (issue 20): one import surface, ids or objects everywhere, any way of
naming a moment, the journal showing in-process provider calls, truthful reasons."""

from __future__ import annotations

import datetime as dt
import importlib.resources
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mockcomposio
from mockcomposio import (
    AuthConfig,
    ConnectedAccount,
    ConsentResult,
    JournalEntry,
    Outcome,
    Tenant,
    TenantFactory,
    expiring_toolkits,
    toolkits,
)

CALENDAR = "googlecalendar"  # its fake tokens expire after an hour


def test_every_public_name_imports_from_the_top() -> None:
    for name in mockcomposio.__all__:
        assert getattr(mockcomposio, name) is not None, name
    assert mockcomposio.Outcome.allow(["a"]).scopes == ("a",)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = mockcomposio.Nope  # type: ignore[attr-defined]


def test_top_level_import_stays_lazy() -> None:
    code = ("import sys, mockcomposio; "
            "print(sorted(m for m in ('aiohttp', 'faker', 'jsonschema', 'mockcomposio.engine') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_package_ships_py_typed() -> None:
    assert importlib.resources.files("mockcomposio").joinpath("py.typed").is_file()


def test_old_import_paths_still_work() -> None:
    from mockcomposio.tenant import Tenant as OldTenant
    from mockcomposio.testing import Outcome as OldOutcome

    assert OldTenant is Tenant and OldOutcome is Outcome


# -- ids or objects ----------------------------------------------------------------------------

def test_config_helpers_take_the_object_or_its_id(mock_composio: Tenant) -> None:
    ac = mock_composio.add_auth_config("github")
    assert isinstance(ac, AuthConfig)
    assert mock_composio.disable_auth_config(ac).status == "DISABLED"
    assert mock_composio.auth_config(ac).status == "DISABLED"
    assert mock_composio.enable_auth_config(ac).status == "ENABLED"
    assert mock_composio.disable_auth_config(ac.id).status == "DISABLED"
    assert mock_composio.enable_auth_config(ac.id).status == "ENABLED"
    account, redirect = mock_composio.link(ac, "u1")
    assert account.status == "INITIATED" and "/link/" in redirect
    connected = mock_composio.connect(ac, "u2")
    assert connected.status == "ACTIVE"


def test_account_helpers_take_the_object_or_its_id(mock_composio: Tenant) -> None:
    ac = mock_composio.add_auth_config("github", scopes=["repo", "user"])
    account = mock_composio.add_account(ac, "u1", scopes=["repo"])
    assert isinstance(account, ConnectedAccount)
    assert mock_composio.account(account).id == mock_composio.account(account.id).id
    assert mock_composio.granted_scopes(account) == ["repo"] == mock_composio.granted_scopes(
        account.id)
    assert mock_composio.requested_scopes(account) == ["repo", "user"]


def test_expire_token_takes_the_object(mock_composio: Tenant) -> None:
    account = mock_composio.add_account(CALENDAR, "u1")
    before = account.token.access_token if account.token else None
    after = mock_composio.clock.expire_token(account)
    assert after.status == "ACTIVE" and after.token is not None
    assert after.token.access_token != before


def test_expire_token_on_a_toolkit_whose_tokens_never_expire_says_so(
        mock_composio: Tenant) -> None:
    account = mock_composio.add_account("github", "u1")
    with pytest.raises(ValueError, match="no expiring access token"):
        mock_composio.clock.expire_token(account)


# -- the clock ---------------------------------------------------------------------------------

@pytest.mark.parametrize("when", [
    "2030-01-01T00:00:00Z", "2030-01-01T00:00:00+00:00", "2030-01-01T01:00:00+01:00",
    "2030-01-01", dt.datetime(2030, 1, 1, tzinfo=dt.UTC), dt.datetime(2030, 1, 1),
    1893456000, 1893456000.0, "1893456000"])
def test_clock_set_takes_iso_datetimes_and_epochs(mock_composio: Tenant, when: object) -> None:
    mock_composio.clock.freeze()
    assert mock_composio.clock.set(when) == 1893456000.0  # type: ignore[arg-type]
    assert mock_composio.clock.datetime() == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("when", ["next tuesday", "", None, True, [1]])
def test_clock_set_refuses_what_is_not_a_time(mock_composio: Tenant, when: object) -> None:
    with pytest.raises(ValueError, match="ISO-8601"):
        mock_composio.clock.set(when)  # type: ignore[arg-type]


def test_clock_set_runs_due_expiries(composio_clock, mock_composio: Tenant) -> None:  # type: ignore[no-untyped-def]
    account, _ = mock_composio.link(mock_composio.add_auth_config("github"), "u1")
    composio_clock.set(composio_clock.datetime() + dt.timedelta(minutes=11))
    assert mock_composio.account(account).status == "EXPIRED"


# -- the journal -------------------------------------------------------------------------------

def test_refresh_is_journaled_as_a_provider_token_call(mock_composio: Tenant) -> None:
    account = mock_composio.add_account(CALENDAR, "u1")
    exchanges = mock_composio.journal(operation="provider.token")
    assert [e.request_body["grant_type"] for e in exchanges] == ["authorization_code"]
    mock_composio.clock.expire_token(account)
    entries = mock_composio.journal(operation="provider.token")
    assert len(entries) == 2
    refresh = entries[-1]
    assert isinstance(refresh, JournalEntry)
    assert refresh.source == "in-process" and refresh.status == 200
    assert refresh.method == "POST" and refresh.path.endswith(f"/{CALENDAR}/token")
    assert refresh.request_body["grant_type"] == "refresh_token"
    assert refresh.request_body["refresh_token"] == "REDACTED"
    assert refresh.request_body["client_secret"] == "REDACTED"
    assert refresh.response_body["access_token"] == "REDACTED"
    assert refresh.as_json()["source"] == "in-process"


def test_refused_refresh_is_journaled_with_the_provider_error(mock_composio: Tenant) -> None:
    account = mock_composio.add_account(CALENDAR, "u1")
    mock_composio.fault(preset="token_refresh_failure")
    assert mock_composio.clock.expire_token(account).status == "EXPIRED"
    last = mock_composio.journal(operation="provider.token")[-1]
    assert last.status == 400 and last.response_body["error"] == "invalid_grant"


def test_http_consent_journals_the_exchange_between_the_http_requests(
        mock_composio: Tenant) -> None:
    ac = mock_composio.add_auth_config("github")
    mock_composio.connect(ac, "u1")
    ops = [(e.operation, e.source) for e in mock_composio.journal()]
    assert ("provider.token", "in-process") in ops
    assert all(src == "http" for op, src in ops if op != "provider.token")


# -- status reasons ----------------------------------------------------------------------------

def test_denied_consent_says_the_user_denied(mock_composio: Tenant) -> None:
    ac = mock_composio.add_auth_config("github")
    account, redirect = mock_composio.link(ac, "u1", "https://app.example/cb")
    result = mock_composio.consent.complete(redirect, decision="deny")
    assert isinstance(result, ConsentResult) and result.status == "failed"
    reason = mock_composio.account(account).status_reason or ""
    assert reason.startswith("User denied consent at the provider"), reason
    assert "token exchange" not in reason


def test_provider_error_says_the_authorization_failed(mock_composio: Tenant) -> None:
    ac = mock_composio.add_auth_config("github")
    account, redirect = mock_composio.link(ac, "u1")
    mock_composio.consent.complete(redirect, provider_error="server_error")
    reason = mock_composio.account(account).status_reason or ""
    assert reason.startswith("OAuth authorization failed at the provider: server_error"), reason


# -- the factory -------------------------------------------------------------------------------

def test_tenant_factory_make_and_call(composio_tenant_factory: TenantFactory,
                                      mock_composio: Tenant) -> None:
    a = composio_tenant_factory.make(seed=5)
    b = composio_tenant_factory(seed=5)
    assert isinstance(a, Tenant) and a.api_key != b.api_key != mock_composio.api_key
    assert composio_tenant_factory.made == [a, b]
    with pytest.raises(TypeError, match="unknown tenant option"):
        composio_tenant_factory.make(colour="red")


# -- which toolkits expire -----------------------------------------------------------------------

def test_expiring_toolkits_lists_exactly_those_whose_tokens_expire(mock_composio: Tenant) -> None:
    expiring = expiring_toolkits()
    assert "github" not in expiring and expiring[CALENDAR] == 3600
    for info in toolkits():
        if "OAUTH2" not in info.auth_schemes:
            assert not info.expires, info.slug
            continue
        account = mock_composio.add_account(mock_composio.add_auth_config(
            info.slug, custom=not info.managed, auth_scheme="OAUTH2"), f"user-{info.slug}")
        assert account.token is not None
        if info.slug in expiring:
            assert account.token.expires_at == pytest.approx(
                mock_composio.clock.now() + expiring[info.slug], abs=5)
            refreshed = mock_composio.clock.expire_token(account)
            assert refreshed.status == "ACTIVE", info.slug
        else:
            assert account.token.expires_at is None, info.slug
            mock_composio.clock.advance(days=30)
            assert mock_composio.account(account).status == "ACTIVE", info.slug


def test_revoke_is_journaled_as_a_provider_revoke_call(composio_client: object,
                                                       mock_composio: Tenant) -> None:
    account = mock_composio.add_account("github", "u1")
    composio_client.connected_accounts.revoke(account.id)  # type: ignore[attr-defined]
    [entry] = mock_composio.journal(operation="provider.revoke")
    assert entry.source == "in-process" and entry.status == 200
    assert entry.request_body["token"] == "REDACTED"
    assert mock_composio.account(account).status == "REVOKED"


USER_CODE = '''
import datetime as dt

from mockcomposio import ConnectedAccount, ConsentResult, Outcome, Tenant, TenantClock


def check(tenant: Tenant, clock: TenantClock) -> None:
    ac = tenant.add_auth_config("github", scopes=["repo"])
    account: ConnectedAccount = tenant.add_account(ac, "alice")
    tenant.disable_auth_config(ac)
    result: ConsentResult = tenant.consent.complete("http://x/link/lk_1", outcome=Outcome.deny())
    status: str | None = result.status
    clock.set("2030-01-01T00:00:00Z")
    clock.set(dt.datetime(2030, 1, 1))
    when: float = clock.advance(dt.timedelta(hours=1))
    print(account.status_reason, status, when, [e.event for e in account.timeline])
'''


@pytest.mark.slow  # a full mypy --strict run of the package (~30 s)
def test_user_code_type_checks_against_the_package(tmp_path: Path) -> None:
    """The package is typed for its users (py.typed): a strictly typed test module that uses
    the public API passes mypy --strict."""
    user = tmp_path / "test_user_typed.py"
    user.write_text(USER_CODE, encoding="utf-8")
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--follow-imports=silent", str(user)], cwd=tmp_path,
                          env={**os.environ, "MYPYPATH": str(root)},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_consent_takes_the_request_object(composio_client: object,
                                          mock_composio: Tenant) -> None:
    ac = mock_composio.add_auth_config("github")
    request = composio_client.connected_accounts.link(  # type: ignore[attr-defined]
        user_id="u1", auth_config_id=ac.id, callback_url="https://app.example/cb")
    assert mock_composio.consent.complete(request).status == "success"
    with pytest.raises(TypeError, match="redirect_url"):
        mock_composio.consent.complete(object())  # type: ignore[arg-type]


def test_accounts_filter_takes_config_objects(mock_composio: Tenant) -> None:
    gh, cal = mock_composio.add_auth_config("github"), mock_composio.add_auth_config(CALENDAR)
    mine = mock_composio.add_account(gh, "u1")
    mock_composio.add_account(cal, "u1")
    assert [a.id for a in mock_composio.accounts(auth_config_ids=[gh])] == [mine.id]
    assert [a.id for a in mock_composio.accounts(auth_config_ids=[gh.id])] == [mine.id]


def test_freeze_at_a_moment(mock_composio: Tenant) -> None:
    assert mock_composio.clock.freeze(at="2031-06-01T12:00:00Z") == dt.datetime(
        2031, 6, 1, 12, tzinfo=dt.UTC).timestamp()
    assert mock_composio.clock.frozen
    assert mock_composio.clock.now() == mock_composio.clock.now()
