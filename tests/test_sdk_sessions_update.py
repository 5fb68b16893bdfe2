"""Sessions as Composio serves them in late 2026, through the official Python SDK (composio
0.29.0, unmodified) against a live strict server: a new id per create, composio.use(),
session.update() (partial, versioned, conditional), config history, request validation,
per-toolkit account arrays and multi-account selection, and the operations mockcomposio refuses
by name."""

from __future__ import annotations

from typing import Any

import pytest

from mockcomposio.testing.tenant import Tenant

from .conftest import require_module

composio = require_module("composio", "end-to-end tests need: pip install -e '.[sdk]'")
from composio_client import BadRequestError, NotFoundError  # noqa: E402

pytestmark = pytest.mark.sdk
CB = "https://myapp.example/cb"


def test_create_gives_a_new_id_each_time_and_use_reopens(sdk: Any) -> None:
    first = sdk.create(user_id="u1", toolkits=["github"])
    second = sdk.create(user_id="u1", toolkits=["github"])
    assert first.session_id != second.session_id
    reopened = sdk.use(first.session_id)
    assert reopened.session_id == first.session_id
    assert reopened.config.toolkits.enabled == ["github"]
    assert reopened.config_version == first.config_version == 1


def test_update_changes_only_what_is_passed(sdk: Any) -> None:
    session = sdk.create(user_id="u1", toolkits=["github", "gmail"],
                         manage_connections={"enable": True, "callback_url": CB},
                         sandbox={"sandbox_size": "large"})
    config = session.update(toolkits={"enable": ["github"]})
    assert config.toolkits.enabled == ["github"]
    assert session.config_version == 2
    # everything not passed is kept
    assert config.manage_connections.callback_url == CB
    assert config.workbench.sandbox_size == "large"

    # manage_connections merges field by field: callback_url=None drops only the URL
    config = session.update(manage_connections={"callback_url": None})
    assert config.manage_connections.callback_url is None
    assert config.manage_connections.enabled is True
    # None removes a whole block: toolkits=None is the unrestricted default again
    config = session.update(toolkits=None, sandbox={"enable": False})
    assert config.toolkits is None
    assert config.workbench.enable is False and config.workbench.sandbox_size == "large"
    assert session.config_version == 4

    reread = sdk.use(session.session_id)
    assert reread.config_version == 4 and reread.config.toolkits is None
    history = session.list_config_history()
    assert [(i.version, i.is_current) for i in history.items] == [
        (4, True), (3, False), (2, False), (1, False)]
    assert history.items[-1].config.toolkits.enabled == ["github", "gmail"]


def test_maps_are_replaced_whole(sdk: Any, mock_composio: Tenant) -> None:
    gh = mock_composio.add_auth_config("github")
    gm = mock_composio.add_auth_config("gmail")
    session = sdk.create(user_id="u1", auth_configs={"github": gh.id})
    config = session.update(auth_configs={"gmail": gm.id})
    assert config.auth_configs == {"gmail": gm.id}  # github's override is gone
    config = session.update(auth_configs=None)
    assert not config.auth_configs


def test_conditional_update_conflicts_on_a_stale_version(sdk: Any) -> None:
    session = sdk.create(user_id="u1", toolkits=["github"])
    other = sdk.use(session.session_id)
    other.update(toolkits={"enable": ["gmail"]})  # someone else's write: version 2
    with pytest.raises(composio.exceptions.SessionConfigConflictError):
        session.update(toolkits={"enable": ["slack"]}, expected_config_version=1)
    assert session.config_version == 1  # the SDK object is left as it was
    reread = sdk.use(session.session_id)
    assert reread.config.toolkits.enabled == ["gmail"] and reread.config_version == 2
    config = reread.update(toolkits={"enable": ["slack"]},
                           expected_config_version=reread.config_version)
    assert config.toolkits.enabled == ["slack"] and reread.config_version == 3


def test_bad_config_is_a_400_and_changes_nothing(sdk: Any) -> None:
    session = sdk.create(user_id="u1", toolkits=["github"])
    for bad in ({"sandbox": {"auto_offload_threshold": 0}},
                {"multi_account": {"enable": True, "max_accounts_per_toolkit": 11}},
                {"tags": ["readOnly"]},
                {"toolkits": {"enable": ["githb"]}}):
        with pytest.raises(BadRequestError) as err:
            session.update(**bad)
        assert err.value.status_code == 400
    reread = sdk.use(session.session_id)
    assert reread.config_version == 1 and reread.config.toolkits.enabled == ["github"]
    with pytest.raises(BadRequestError, match="auto_offload_threshold"):
        sdk.create(user_id="u1", sandbox={"auto_offload_threshold": -5})


def test_connected_accounts_arrays_and_multi_account(sdk: Any, mock_composio: Tenant) -> None:
    work = mock_composio.add_account("github", "u1")
    personal = mock_composio.add_account("github", "u1")
    # one account per toolkit unless multi-account mode is on
    with pytest.raises(BadRequestError, match="at most 1"):
        sdk.create(user_id="u1", connected_accounts={"github": [work.id, personal.id]})
    single = sdk.create(user_id="u1", connected_accounts={"github": work.id})
    assert single.config.connected_accounts == {"github": [work.id]}
    # without pinning, the session uses the most recently connected ACTIVE account
    default = sdk.create(user_id="u1", toolkits=["github"])
    github = default.toolkits(toolkits=["github"]).items[0]
    assert github.connection.connected_account.id == personal.id

    multi = sdk.create(user_id="u1", toolkits=["github"],
                       multi_account={"enable": True, "max_accounts_per_toolkit": 2},
                       connected_accounts={"github": [work.id, personal.id]})
    assert multi.config.multi_account.enable is True
    # the SDK turns explicit selection on with multi-account mode unless told otherwise
    assert multi.config.multi_account.require_explicit_selection is True
    with pytest.raises(BadRequestError, match="explicit account selection") as err:
        multi.execute("GITHUB_CREATE_AN_ISSUE", arguments={})
    assert work.id in str(err.value) and personal.id in str(err.value)
    with pytest.raises(BadRequestError, match=f"account {work.id} selected"):
        multi.execute("GITHUB_CREATE_AN_ISSUE", arguments={}, account=work.id)
    # an alias selects too (aliases: changelog 2026-04-09)
    sdk.connected_accounts.update(personal.id, alias="personal-github")
    with pytest.raises(BadRequestError, match=f"account {personal.id} selected"):
        multi.execute("GITHUB_CREATE_AN_ISSUE", arguments={}, account="personal-github")
    with pytest.raises(BadRequestError, match="not a github account this session can use"):
        multi.execute("GITHUB_CREATE_AN_ISSUE", arguments={}, account="nobody")
    # the limit holds for new connections too (without pinning: a pinned toolkit refuses links)
    unpinned = sdk.create(user_id="u1", toolkits=["github"],
                          multi_account={"enable": True, "max_accounts_per_toolkit": 2})
    with pytest.raises(BadRequestError, match="max_accounts_per_toolkit"):
        unpinned.authorize("github")
    unpinned.update(multi_account={"max_accounts_per_toolkit": 3})
    assert unpinned.authorize("github").redirect_url.startswith("http://127.0.0.1:")

    # update: pin one account only and leave explicit selection
    config = multi.update(connected_accounts={"github": [work.id]},
                          multi_account={"require_explicit_selection": False})
    assert config.connected_accounts == {"github": [work.id]}
    assert config.multi_account.enable is True
    assert config.multi_account.require_explicit_selection is False
    github = multi.toolkits(toolkits=["github"]).items[0]
    assert github.connection.connected_account.id == work.id


def test_session_operations_not_served_say_so(sdk: Any) -> None:
    session = sdk.create(user_id="u1")
    with pytest.raises(BadRequestError, match="not served by mockcomposio") as err:
        session.proxy_execute(toolkit="github", endpoint="/user", method="GET")
    assert "proxy_execute" in str(err.value)
    with pytest.raises(NotFoundError):
        sdk.use("trs_doesnotexist")
