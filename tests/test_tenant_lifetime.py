"""A dropped tenant is freed by refcounting alone, at teardown: no reference cycle keeps its
project (accounts, provider, links, journal) alive until the cyclic garbage collector runs.
And fake users come from one shared Faker, yet each tenant's draws depend on its seed only."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from mockcomposio.engine import Engine
from mockcomposio.testing.tenant import Tenant

BASE = "http://127.0.0.1:9"


@pytest.fixture
def no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize("toolkit", ["serpapi", "github"])  # API key; OAuth (provider, links)
def test_a_dropped_tenant_is_freed_without_a_gc_pass(no_gc: None, toolkit: str) -> None:
    engine = Engine()
    tenant = Tenant(engine, "t-1", BASE, seed=1)
    ac = tenant.add_auth_config(toolkit)
    account = tenant.add_account(ac, "user-1")
    tenant.add_account(ac)  # a fake user id (the shared Faker)
    assert tenant.account(account.id).status == "ACTIVE"
    tenant.consent.script("allow")
    tenant.clock.advance(minutes=1)
    project = weakref.ref(tenant.project)
    handle = weakref.ref(tenant)
    provider = weakref.ref(tenant.project.provider)
    engine.drop(tenant.api_key)
    del tenant, ac, account
    assert handle() is None
    assert project() is None
    assert provider() is None


def test_a_reset_tenant_frees_its_old_project_without_a_gc_pass(no_gc: None) -> None:
    engine = Engine()
    tenant = Tenant(engine, "t-1", BASE, seed=1)
    tenant.add_account(tenant.add_auth_config("github"), "user-1")
    old = weakref.ref(tenant.project)
    tenant.reset()
    _ = tenant.project
    assert old() is None


def test_fake_users_depend_on_the_tenant_seed_only() -> None:
    engine = Engine()
    for key, seed in (("a1", 7), ("b", 8), ("a2", 7)):
        engine.reset(key, seed=seed)  # as the plugin does: the project is seeded too
    a1 = Tenant(engine, "a1", BASE, seed=7)
    b = Tenant(engine, "b", BASE, seed=8)
    a2 = Tenant(engine, "a2", BASE, seed=7)
    first = [a1.new_user_id(), b.new_user_id(), a1.new_user_id()]
    second = [a2.new_user_id(), a2.new_user_id()]
    assert [first[0], first[2]] == second  # b's draws in between changed nothing for a1
    assert len(set(first)) == 3
    ac1, ac2 = a1.add_auth_config("github"), a2.add_auth_config("github")
    u1 = a1.account(a1.add_account(ac1, "u").id).end_user
    u2 = a2.account(a2.add_account(ac2, "u").id).end_user
    assert u1 == u2 and u1 is not None and u1["email"]


def test_a_tenant_handle_keeps_working_while_referenced() -> None:
    engine = Engine()
    tenant = Tenant(engine, "t", BASE, seed=3)
    clock, driver = tenant.clock, tenant.consent
    before = clock.now()
    assert clock.advance(60) >= before + 60
    driver.script("deny")
    assert tenant.project.consent.queue[0].decision == "deny"
