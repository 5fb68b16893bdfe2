"""Memory of many accounts (issue 21): structure checks, not timings. What 100k OAuth accounts
would otherwise each hold once more (empty dicts, timers of finished links, ...) is shared or
dropped, and sharing never lets one account's change reach another."""

from __future__ import annotations

import pytest

from mockcomposio import snapshot
from mockcomposio.domain import models, v1
from mockcomposio.domain import project as project_module
from mockcomposio.domain.connected_accounts import Origin
from mockcomposio.domain.models import EMPTY
from mockcomposio.engine import Engine
from mockcomposio.testing.consent import Outcome
from mockcomposio.testing.tenant import Tenant

BASE = "http://127.0.0.1:9"


def _tenant(seed: int = 3) -> Tenant:
    return Tenant(Engine(seed=seed), "memory-key", BASE)


# -- one shared, read-only empty dict ----------------------------------------------------------

def test_accounts_without_data_or_fields_share_one_empty_dict() -> None:
    tenant = _tenant()
    github = tenant.add_auth_config("github")
    accounts = [tenant.add_account(github, "u1"), tenant.add_account(github, "u2"),
                tenant.add_account(github, "u3", status="INITIATED"),
                tenant.add_account(github, "u4", status="INACTIVE"),
                tenant.add_account(github, "u5", status="FAILED"),
                tenant.add_account("serpapi", "u6")]
    for account in accounts:
        assert account.data is EMPTY and account.connection_fields is EMPTY, account.id
    assert EMPTY == {} and not EMPTY


def test_the_shared_empty_dict_refuses_every_change_in_place() -> None:
    for change in (lambda d: d.__setitem__("k", 1), lambda d: d.update(k=1),
                   lambda d: d.setdefault("k", 1), lambda d: d.pop("k"), lambda d: d.popitem(),
                   lambda d: d.clear(), lambda d: d.__delitem__("k"),
                   lambda d: d.__ior__({"k": 1})):
        with pytest.raises(TypeError, match="assign a new dict"):
            change(EMPTY)
    assert EMPTY == {}
    # copies are ordinary dicts
    copy = {**EMPTY, "k": 1}
    assert type(copy) is dict and type(dict(EMPTY)) is dict and EMPTY == {}


def test_fields_and_labels_get_their_own_dict_and_change_no_other_account() -> None:
    tenant = _tenant()
    zendesk = tenant.add_auth_config("zendesk")
    account, _ = tenant.link(zendesk.id, "u1")
    assert account.connection_fields is EMPTY  # nothing entered yet
    tenant.complete_pending(Outcome.allow(fields={"subdomain": "acme"}))
    assert account.status == "ACTIVE"
    assert account.connection_fields == {"subdomain": "acme"}
    assert account.connection_fields is not EMPTY
    github = tenant.add_auth_config("github")
    plain = tenant.add_account(github, "u2")
    project = tenant.project
    with project.lock:
        labelled, _ = v1.initiate(project, Origin(BASE), {
            "integrationId": github.id, "userUuid": "u3", "labels": ["beta"]})
    assert labelled.data == {"labels": ["beta"]} and labelled.data is not EMPTY
    assert plain.data is EMPTY and EMPTY == {}


def test_a_snapshot_round_trip_keeps_the_shared_empty_dict() -> None:
    tenant = _tenant()
    tenant.clock.freeze()  # the export shows "now": the same in both exports
    account = tenant.add_account("github", "u1")
    engine = Engine(seed=3)
    with tenant.project.lock:
        data = snapshot.export_project(tenant.project)
    restored = snapshot.build_project(engine, data, "tenant").accounts[account.id]
    assert restored.data is EMPTY and restored.connection_fields is EMPTY
    assert snapshot.export_project(snapshot.build_project(engine, data, "tenant")) == data
    assert models.EMPTY == {}


# -- timers of finished links leave the heap ---------------------------------------------------

def _link_timers(tenant: Tenant) -> list[str]:
    return [ref for _, _, kind, ref in tenant.project._deadlines if kind == "link"]


def test_finished_links_leave_no_timer_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(project_module, "MIN_DEADLINE_SWEEP", 16)
    tenant = _tenant()
    github = tenant.add_auth_config("github")
    done = [tenant.add_account(github, f"done-{i}") for i in range(60)]
    # swept whenever the heap doubled: never more than the threshold of spent timers
    assert len(tenant.project._deadlines) <= 2 * 16
    tenant.project.sweep_deadlines()
    assert _link_timers(tenant) == []
    assert all(a.link_token not in _link_timers(tenant) for a in done)


def test_pending_links_still_expire_after_sweeps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(project_module, "MIN_DEADLINE_SWEEP", 16)
    tenant = _tenant()
    tenant.clock.freeze()
    github = tenant.add_auth_config("github")
    pending, finished = [], []
    for i in range(40):  # interleaved, so sweeps run with pending timers in the heap
        pending.append(tenant.link(github.id, f"pending-{i}")[0])
        finished.append(tenant.add_account(github, f"finished-{i}"))
    timers = _link_timers(tenant)
    assert {a.link_token for a in pending} <= set(timers)
    heap = tenant.project._deadlines
    assert sorted(heap) == sorted(set(heap)), "a sweep never duplicates a timer"
    tenant.clock.advance(601)
    assert {a.status for a in pending} == {"EXPIRED"}
    assert all(a.timeline[-1].event == "link expired" for a in pending)
    assert {a.status for a in finished} == {"ACTIVE"}
    assert _link_timers(tenant) == []


def test_a_sweep_keeps_the_order_of_the_timers_that_stay() -> None:
    tenant = _tenant()
    project = tenant.project
    github = tenant.add_auth_config("github")
    tenant.link(github.id, "a")
    tenant.add_account(github, "b")
    tenant.link(github.id, "c")
    live = [d for d in project._deadlines if d[3] in {a.link_token for a in tenant.accounts()
                                                       if a.status == "INITIATED"}]
    project.sweep_deadlines()
    assert sorted(project._deadlines) == sorted(live) and len(live) == 2


# -- one object where equal ones were stored twice ---------------------------------------------

def test_accounts_of_one_user_share_the_user_id_string() -> None:
    tenant = _tenant()
    github = tenant.add_auth_config("github")
    ids = ["".join(["user", "-", "7"]) for _ in range(3)]  # equal, distinct objects
    assert ids[0] is not ids[1]
    accounts = [tenant.add_account(github, user_id) for user_id in ids]
    assert all(a.user_id is accounts[0].user_id for a in accounts)
    other = tenant.add_account(github, "user-8")
    assert other.user_id == "user-8"
    assert [a.id for a in tenant.accounts(user_ids=["user-7"])] == \
        [a.id for a in reversed(accounts)]


def test_one_change_stores_one_time_object() -> None:
    tenant = _tenant()  # the live clock: every now() is a new float
    github = tenant.add_auth_config("github")
    account, _ = tenant.link(github.id, "u1")
    link = tenant.project.links[account.link_token or ""]
    created = account.timeline[0]
    assert created.event == "created INITIATED" and created.at is account.created_at
    assert link.created_at is account.created_at
    assert link.expires_at == account.created_at + models.LINK_LIFETIME_SECONDS
    tenant.complete_pending(Outcome.allow())
    stored = account.timeline[-1]
    assert stored.event == "tokens stored, ACTIVE" and stored.at is account.updated_at
    assert account.updated_at > account.created_at


def test_provider_grants_are_bare_tuples_of_their_tokens() -> None:
    tenant = _tenant()
    tenant.add_account("github", "u1")  # an access token only
    gmail = tenant.add_account("gmail", "u2")  # access and refresh tokens
    provider = tenant.project.provider
    grants = provider._grants
    assert sorted(len(g) for g in grants.values()) == [1, 2]
    for gid, grant in grants.items():
        assert type(grant) is tuple and all(r.grant_id == gid for r in grant)
    # a refresh adds to the family; revoking the refresh token revokes all of it
    assert gmail.token is not None and gmail.token.refresh_token is not None
    from mockcomposio.domain import connected_accounts
    with tenant.project.lock:
        assert connected_accounts.refresh_tokens(tenant.project, gmail)
    assert gmail.token.refresh_token is not None
    [family] = [g for g in grants.values() if len(g) > 1]
    assert len(family) == 4 and family[-1].token == gmail.token.refresh_token
    live = sum(r.revoked_reason is None for r in family)  # the rotated refresh token is not
    assert live == 3
    assert provider.revoke_user_grants(refresh_token=gmail.token.refresh_token) == live
    assert all(r.revoked_reason is not None for r in family)
    assert provider.revoke_user_grants(client_id=family[0].client_id) == 0  # none left


# -- the account's end user is the provider's, not a copy --------------------------------------

def test_the_account_end_user_is_the_provider_user_read_as_a_mapping() -> None:
    tenant = _tenant()
    tenant.clock.freeze()
    account = tenant.add_account("github", "u1")
    token = account.token
    assert token is not None
    record = tenant.project.provider._access[token.access_token]
    assert account.end_user is record.user  # shared, not a dict copy
    status, info = tenant.project.provider.userinfo(f"Bearer {token.access_token}")
    assert status == 200
    expected = {"id": info["sub"], "email": info["email"], "name": info["name"],
                "login": info["login"]}
    assert dict(account.end_user) == expected and account.end_user == expected
    assert expected == account.end_user and account.end_user["email"] == info["email"]
    assert list(account.end_user) == ["id", "email", "name", "login"]
    with pytest.raises(KeyError):
        account.end_user["password"]
    with pytest.raises(TypeError):
        account.end_user["email"] = "x@example.com"  # type: ignore[index]
    engine = Engine(seed=3)
    with tenant.project.lock:
        data = snapshot.export_project(tenant.project)
    [raw] = [a for a in data["accounts"] if a["id"] == account.id]
    assert raw["end_user"] == expected  # exported as before: a plain object
    restored = snapshot.build_project(engine, data, "tenant").accounts[account.id]
    assert restored.end_user == expected
    assert snapshot.export_project(snapshot.build_project(engine, data, "tenant")) == data


# -- the toolkit index is derived from the auth-config index ---------------------------------

def test_the_toolkit_index_is_derived_from_the_config_index() -> None:
    tenant = _tenant()
    project = tenant.project
    first, second = tenant.add_auth_config("github"), tenant.add_auth_config("github")
    gmail = tenant.add_auth_config("gmail")
    made = [tenant.add_account(ac, f"u{i}") for i, ac in enumerate([first, second, gmail,
                                                                    first, second])]
    index = project.index
    assert not isinstance(index.by_toolkit, dict)  # no per-account entries of its own
    github_ids = {a.id for a in made if a.toolkit == "github"}
    assert set(index.by_toolkit["github"]) == github_ids
    assert len(index.by_toolkit["github"]) == 4 and made[0].id in index.by_toolkit["github"]
    assert {t: set(b) for t, b in index.by_toolkit.items()} == {
        "github": github_ids, "gmail": {made[2].id}}
    assert "slack" not in index.by_toolkit and index.by_toolkit.get("slack") is None
    listed = [a.id for a in tenant.accounts(toolkit_slugs=["github"], statuses=["ACTIVE"])]
    assert sorted(listed) == sorted(github_ids)
    from mockcomposio.domain import connected_accounts
    with project.lock:
        connected_accounts.delete(project, made[2].id)
    assert "gmail" not in index.by_toolkit and len(index.by_toolkit) == 1
    assert tenant.accounts(toolkit_slugs=["gmail"]) == []
