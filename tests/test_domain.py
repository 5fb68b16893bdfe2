"""Fast unit tests of the engine and its rules, without HTTP."""

from __future__ import annotations

import re

import pytest

from mockcomposio.domain import auth_configs, connected_accounts
from mockcomposio.domain.connected_accounts import Origin
from mockcomposio.domain.project import Project
from mockcomposio.engine import Engine
from mockcomposio.errors import ComposioError

ORIGIN = Origin("http://127.0.0.1:9999")
CALLBACK = ORIGIN.url("/api/v3.1/toolkits/auth/callback")


@pytest.fixture(scope="module")
def shared_engine() -> Engine:
    return Engine()


def project_of(engine: Engine, key: str = "k") -> Project:
    return engine.project(key)


def test_ids_have_the_real_shape_and_are_seedable() -> None:
    a, b = Engine(seed=3), Engine(seed=3)
    ids_a = [auth_configs.create(a.project("k"), "github", None,
                                 default_redirect_uri=CALLBACK).id for _ in range(3)]
    ids_b = [auth_configs.create(b.project("k"), "github", None,
                                 default_redirect_uri=CALLBACK).id for _ in range(3)]
    assert ids_a == ids_b
    assert all(re.fullmatch(r"ac_[A-Za-z0-9_-]{12}", i) for i in ids_a)
    assert len(set(ids_a)) == 3


def test_reset_is_a_fresh_project_and_old_links_stop_resolving(shared_engine: Engine) -> None:
    project = project_of(shared_engine, "reset-me")
    ac = auth_configs.create(project, "github", None, default_redirect_uri=CALLBACK)
    _, link, _ = connected_accounts.link(project, ORIGIN, auth_config_id=ac.id, user_id="u")
    assert shared_engine.find_link(link.token) is not None
    fresh = shared_engine.reset("reset-me")
    assert fresh is not project and fresh.auth_configs == {} and fresh.accounts == {}
    assert shared_engine.find_link(link.token) is None
    assert shared_engine.project_by_id(project.id) is None


def test_disabled_config_refuses_new_connections_only(shared_engine: Engine) -> None:
    project = project_of(shared_engine, "disable")
    ac = auth_configs.create(project, "perplexityai",
                             {"type": "use_custom_auth", "authScheme": "API_KEY"},
                             default_redirect_uri=CALLBACK)
    old, _ = connected_accounts.initiate(
        project, ORIGIN, auth_config_id=ac.id, user_id="u",
        state={"authScheme": "API_KEY", "val": {"generic_api_key": "k-1"}})
    assert old.status == "ACTIVE"
    auth_configs.set_status(project, ac.id, "DISABLED")
    for attempt in (
        lambda: connected_accounts.link(project, ORIGIN, auth_config_id=ac.id, user_id="u"),
        lambda: connected_accounts.initiate(
            project, ORIGIN, auth_config_id=ac.id, user_id="u",
            state={"authScheme": "API_KEY", "val": {"generic_api_key": "k-2"}}),
    ):
        with pytest.raises(ComposioError) as info:
            attempt()
        assert info.value.slug == "Auth_Config_Disabled" and ac.id in info.value.message
    assert connected_accounts.get(project, old.id).status == "ACTIVE"
    assert len(project.accounts) == 1  # refused attempts stored nothing


def test_link_expires_after_ten_minutes_on_the_virtual_clock(shared_engine: Engine) -> None:
    project = project_of(shared_engine, "expiry")
    ac = auth_configs.create(project, "github", None, default_redirect_uri=CALLBACK)
    account, link, _ = connected_accounts.link(project, ORIGIN, auth_config_id=ac.id,
                                               user_id="u")
    project.advance_clock(599)
    assert account.status == "INITIATED"
    project.advance_clock(2)
    assert account.status == "EXPIRED" and account.status_reason.startswith("Connection "
                                                                            "initiation")
    assert link.done


def test_indexes_follow_status_changes_and_deletes(shared_engine: Engine) -> None:
    project = project_of(shared_engine, "index")
    ac = auth_configs.create(project, "perplexityai",
                             {"type": "use_custom_auth", "authScheme": "API_KEY"},
                             default_redirect_uri=CALLBACK)
    made = [connected_accounts.initiate(
        project, ORIGIN, auth_config_id=ac.id, user_id=f"user-{i % 3}",
        state={"authScheme": "API_KEY", "val": {"generic_api_key": f"k{i}"}})[0]
        for i in range(9)]
    connected_accounts.set_enabled(project, made[0].id, False)
    connected_accounts.delete(project, made[1].id)
    for status, bucket in project.index.by_status.items():
        assert all(project.accounts[i].status == status for i in bucket)
    assert sum(len(b) for b in project.index.by_user.values()) == len(project.accounts) == 8
    listed = connected_accounts.list_accounts(project, user_ids=["user-0"], statuses=["ACTIVE"])
    assert [a.id for a in listed] == [made[6].id, made[3].id]


def test_scope_override_fixed_at_connection_start(shared_engine: Engine) -> None:
    project = project_of(shared_engine, "scopes")
    ac = auth_configs.create(project, "github", {"type": "use_composio_managed_auth",
                                                 "credentials": {"scopes": ["repo"]}},
                             default_redirect_uri=CALLBACK)
    first, _, _ = connected_accounts.link(project, ORIGIN, auth_config_id=ac.id, user_id="u")
    auth_configs.update(project, ac.id, {"type": "default", "scopes": "repo,read:user"})
    second, _, _ = connected_accounts.link(project, ORIGIN, auth_config_id=ac.id, user_id="u")
    assert first.requested_scopes == ["repo"]
    assert second.requested_scopes == ["repo", "read:user"]


def test_failed_update_changes_nothing(shared_engine: Engine) -> None:
    project = project_of(shared_engine, "atomic")
    ac = auth_configs.create(project, "github", {
        "type": "use_custom_auth", "authScheme": "OAUTH2",
        "credentials": {"client_id": "a", "client_secret": "b"}}, default_redirect_uri=CALLBACK)
    before = dict(ac.credentials)
    with pytest.raises(ComposioError):
        auth_configs.update(project, ac.id, {"type": "custom",
                                             "credentials": {"client_secret": "",
                                                             "scopes": "repo"}})
    assert ac.credentials == before and ac.scope_override is None


def test_revoke_on_config_delete_covers_every_scheme(shared_engine: Engine) -> None:
    project = project_of(shared_engine, "revoke-on-delete")
    ac = auth_configs.create(project, "perplexityai",
                             {"type": "use_custom_auth", "authScheme": "API_KEY"},
                             default_redirect_uri=CALLBACK)
    account, _ = connected_accounts.initiate(
        project, ORIGIN, auth_config_id=ac.id, user_id="u",
        state={"authScheme": "API_KEY", "val": {"generic_api_key": "k-1"}})
    auth_configs.delete(project, ac.id)
    assert connected_accounts.revoke_for_auth_config(project, ac.id) == 1
    assert account.status == "INACTIVE"  # no tokens to revoke; REVOKED is OAuth-only
    assert account.status_reason == "Revoked as part of connection delete"


def test_engine_sweeps_dropped_tenants_out_of_the_token_indexes() -> None:
    from mockcomposio import engine as engine_module

    engine = Engine(seed=1)
    origin = Origin("http://127.0.0.1:1")

    def open_links(api_key: str, n: int) -> list[str]:
        project = engine.project(api_key)
        ac = auth_configs.create(project, "github", None, default_redirect_uri="http://x/cb")
        return [connected_accounts.link(project, origin, auth_config_id=ac.id,
                                        user_id=f"u{i}")[1].token for i in range(n)]

    dropped = open_links("gone", 50)
    engine.drop("gone")
    assert engine.find_link(dropped[0]) is None  # dead at once, whatever the sweep does
    kept = open_links("live", engine_module._MIN_SWEEP)
    assert not set(dropped) & set(engine._links)  # swept once the index grew
    assert all(engine.find_link(t) is not None for t in kept[:5] + kept[-5:])
