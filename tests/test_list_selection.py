"""The connected-accounts list selects its page without sorting every match (index counts,
reading in creation order, heap selection): whatever path it takes, it must answer exactly
what filtering and sorting all accounts answers. Checked against that naive reference."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockcomposio.domain import auth_configs, connected_accounts
from mockcomposio.domain.connected_accounts import Origin
from mockcomposio.domain.models import ACCOUNT_STATUSES
from mockcomposio.domain.pagination import paginate
from mockcomposio.engine import Engine

BASE = "http://127.0.0.1:9"
USERS = ["u0", "u1", "u2", "u3"]


def _build(steps: list[tuple[str, int, int]]) -> Any:
    engine = Engine(seed=1)
    project = engine.project("k")
    origin = Origin(BASE)
    project.clock.freeze()
    configs = [auth_configs.create(project, toolkit, {"type": auth_configs.CUSTOM,
                                                      "auth_scheme": "API_KEY"},
                                   default_redirect_uri=BASE + "/cb")
               for toolkit in ("serpapi", "serpapi", "firecrawl")]
    for op, a, b in steps:
        live = list(project.accounts.values())
        if op == "add":
            account, _ = connected_accounts.initiate(
                project, origin, auth_config_id=configs[a % 3].id, user_id=USERS[b % 4],
                state={"authScheme": "API_KEY", "val": {"generic_api_key": "k",
                                                         "api_key": "k"}})
        elif op == "toggle" and live:
            account = live[a % len(live)]
            connected_accounts.set_enabled(project, account.id, account.status != "ACTIVE")
        elif op == "delete" and live:
            connected_accounts.delete(project, live[a % len(live)].id)
        elif op == "clock":  # forward, or back: then creation order is no longer list order
            project.clock.set(project.clock.now() + (b - 2) * 10)
        elif op == "touch" and live:
            connected_accounts.update(project, live[a % len(live)].id, alias=None)
    return project, [c.id for c in configs]


def _reference(project: Any, f: dict[str, Any]) -> list[str]:
    key = (lambda a: (a.created_at, a.seq)) if f.get("order_by", "created_at") == "created_at" \
        else (lambda a: (a.updated_at, a.seq))
    out = [a for a in project.accounts.values()
           if (not f.get("user_ids") or a.user_id in f["user_ids"])
           and (not f.get("statuses") or a.status in f["statuses"])
           and (not f.get("auth_config_ids") or a.auth_config_id in f["auth_config_ids"])
           and (not f.get("toolkit_slugs") or a.toolkit in f["toolkit_slugs"])
           and (not f.get("connected_account_ids") or a.id in f["connected_account_ids"])]
    out.sort(key=key, reverse=f.get("order_direction", "desc") == "desc")
    return [a.id for a in out]


steps_st = st.lists(st.tuples(st.sampled_from(["add", "add", "add", "toggle", "delete", "clock",
                                                "touch"]),
                              st.integers(0, 50), st.integers(0, 4)), max_size=60)


@st.composite
def filters_st(draw: Any, config_ids: list[str], account_ids: list[str]) -> dict[str, Any]:
    f: dict[str, Any] = {}
    if draw(st.booleans()):
        f["user_ids"] = draw(st.lists(st.sampled_from(USERS), min_size=1, max_size=2))
    if draw(st.booleans()):
        f["statuses"] = draw(st.lists(st.sampled_from(["ACTIVE", "INACTIVE", "FAILED"]),
                                      min_size=1, max_size=2))
    if draw(st.booleans()):
        f["auth_config_ids"] = draw(st.lists(st.sampled_from(config_ids), min_size=1,
                                             max_size=2))
    if draw(st.booleans()):
        f["toolkit_slugs"] = draw(st.lists(st.sampled_from(["serpapi", "firecrawl"]), min_size=1,
                                           max_size=2))
    if account_ids and draw(st.booleans()):
        f["connected_account_ids"] = draw(st.lists(st.sampled_from(account_ids), min_size=1,
                                                   max_size=5))
    f["order_by"] = draw(st.sampled_from(["created_at", "updated_at"]))
    f["order_direction"] = draw(st.sampled_from(["asc", "desc"]))
    return f


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                       HealthCheck.function_scoped_fixture])
@given(steps=steps_st, data=st.data())
def test_selection_equals_filter_then_sort(steps: list[tuple[str, int, int]],
                                           data: Any) -> None:
    project, config_ids = _build(steps)
    f = data.draw(filters_st(config_ids, list(project.accounts)))
    expected = _reference(project, f)
    selection = connected_accounts.select_accounts(project, **f)
    assert len(selection) == len(expected)
    assert [a.id for a in selection] == expected
    limit = data.draw(st.integers(1, 7))
    page = data.draw(st.integers(1, 4))
    start = (page - 1) * limit
    assert [a.id for a in selection[start:start + limit]] == expected[start:start + limit]
    if expected:
        assert selection[-1].id == expected[-1] and selection[0].id == expected[0]
    listed = paginate(selection, limit=limit, cursor=None, render=lambda a: {"id": a.id})
    assert listed["total_items"] == len(expected)
    assert [i["id"] for i in listed["items"]] == expected[:limit]


def test_unknown_status_is_still_a_400() -> None:
    project, _ = _build([])
    with pytest.raises(Exception, match="Unknown status"):
        connected_accounts.select_accounts(project, statuses=["NOPE"])
    assert "NOPE" not in ACCOUNT_STATUSES
