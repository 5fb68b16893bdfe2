"""Scope lists are shared, not copied, across the links, accounts, token states and provider
records that hold the same scopes (a memory structure check, not a timing), and sharing never
lets one account's scopes leak into another's."""

from __future__ import annotations

from mockcomposio.domain import models
from mockcomposio.domain.models import MAX_SHARED_SCOPE_LISTS, shared_scopes
from mockcomposio.engine import Engine
from mockcomposio.testing.tenant import Tenant


def _tenant() -> Tenant:
    return Tenant(Engine(seed=3), "scopes-key", "http://127.0.0.1:9")


def test_accounts_of_one_config_share_one_scope_list() -> None:
    tenant = _tenant()
    ac = tenant.add_auth_config("github")
    first = tenant.add_account(ac, "user-1")
    second = tenant.add_account(ac, "user-2")
    assert first.requested_scopes, "github asks for default scopes"
    assert first.requested_scopes is second.requested_scopes
    # everything granted: the granted list is the requested one, not a copy
    assert first.granted_scopes is first.requested_scopes
    records = [r for r in tenant.project.provider._access.values()]
    assert records and all(r.scopes is first.requested_scopes for r in records)


def test_a_narrower_grant_gets_its_own_list_and_changes_no_other() -> None:
    tenant = _tenant()
    ac = tenant.add_auth_config("github")
    full = tenant.add_account(ac, "user-1")
    requested = list(full.requested_scopes)
    narrow = tenant.add_account(ac, "user-2", scopes=requested[:1])
    assert narrow.granted_scopes == requested[:1]
    assert full.granted_scopes == requested
    assert narrow.requested_scopes == requested
    # rendered lists are copies: changing one never reaches the stored, shared list
    from mockcomposio.domain import render
    out = render.auth_config(tenant.project, ac)
    out["scopes"].append("injected")
    assert "injected" not in full.requested_scopes


def test_the_table_of_shared_lists_is_bounded() -> None:
    table = models._shared_scope_lists
    kept = dict(table)
    try:
        _fill_past_the_cap()
    finally:  # other tests in this process share lists again
        table.clear()
        table.update(kept)


def _fill_past_the_cap() -> None:
    for i in range(MAX_SHARED_SCOPE_LISTS + 10):
        shared_scopes([f"bounded-scope-{i}"])
    assert len(models._shared_scope_lists) == MAX_SHARED_SCOPE_LISTS
    fresh = shared_scopes(["bounded-scope-past-the-cap", "x"])
    assert fresh == ["bounded-scope-past-the-cap", "x"]
    assert len(models._shared_scope_lists) == MAX_SHARED_SCOPE_LISTS
    assert shared_scopes(("a", "b")) == ["a", "b"]
