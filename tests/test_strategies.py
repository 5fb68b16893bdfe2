"""The exported hypothesis strategies (mockcomposio.strategies) produce what the fake, and
Composio, accept: every generated body creates an auth config, every user id links and is
found again by the list filter, every scope set is a subset in catalogue order."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockcomposio import strategies as mcs
from mockcomposio.domain.catalogue import Catalogue
from mockcomposio.tenant import Tenant

FIXTURE_OK = settings(max_examples=60, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


def call(tenant: Tenant, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{tenant.base_url}{path}", data=data, method=method,
                                     headers={**tenant.headers,
                                              "content-type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


@FIXTURE_OK
@given(body=mcs.auth_config_bodies())
def test_every_generated_auth_config_body_is_created(mock_composio: Tenant,
                                                     body: dict[str, Any]) -> None:
    status, created = call(mock_composio, "POST", "/api/v3.1/auth_configs", body)
    assert status == 201, created
    stored = mock_composio.auth_config(created["auth_config"]["id"])
    assert stored.toolkit == body["toolkit"]["slug"]
    options = body["auth_config"]
    assert stored.is_composio_managed == (options["type"] == mcs.MANAGED)
    scopes = options.get("credentials", {}).get("scopes")
    if scopes:
        wanted = scopes.split(",") if isinstance(scopes, str) else scopes
        assert stored.scope_override == wanted


@FIXTURE_OK
@given(user_id=mcs.user_ids())
def test_every_generated_user_id_links_and_is_found_again(mock_composio: Tenant,
                                                          user_id: str) -> None:
    ac = mock_composio.add_auth_config("github")
    status, link = call(mock_composio, "POST", "/api/v3.1/connected_accounts/link",
                        {"auth_config_id": ac.id, "user_id": user_id})
    assert status == 201, link
    status, page = call(mock_composio, "GET", "/api/v3.1/connected_accounts?"
                        + urlencode({"user_ids": user_id}))
    assert status == 200
    assert link["connected_account_id"] in [item["id"] for item in page["items"]]
    assert {item["user_id"] for item in page["items"]} == {user_id}


@pytest.mark.parametrize("toolkit", ["gmail", "github", "hubspot", "salesforce"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_scope_sets_are_ordered_subsets_of_the_defaults(toolkit: str, data: Any) -> None:
    defaults = list(Catalogue.load().get(toolkit).default_scheme.default_scopes)  # type: ignore[union-attr]
    scopes = data.draw(mcs.scope_sets(toolkit))
    assert scopes and len(set(scopes)) == len(scopes)
    assert scopes == [s for s in defaults if s in scopes]


@settings(max_examples=30, deadline=None)
@given(slug=mcs.toolkit_slugs(scheme="API_KEY"), data=st.data())
def test_initiation_fields_fill_every_required_field(slug: str, data: Any) -> None:
    spec = Catalogue.load().get(slug).scheme("API_KEY")  # type: ignore[union-attr]
    fields = data.draw(mcs.initiation_fields(slug, "API_KEY"))
    assert spec is not None
    assert sorted(fields) == sorted(spec.required_field_names("connected_account_initiation"))
    assert all(isinstance(v, str) and v for v in fields.values())


@pytest.mark.parametrize("toolkit", ["jira", "zendesk", "github"])
@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_initiation_fields_complete_a_managed_oauth_connection(
        mock_composio: Tenant, composio_consent: Any, toolkit: str, data: Any) -> None:
    """The details some OAuth toolkits ask for before sign-in (Jira's and Zendesk's
    subdomain; none for GitHub) are drawn too, and the flow completes with them, as
    docs/property-tests.md does for any managed toolkit."""
    mock_composio.reset()
    ac = mock_composio.add_auth_config(toolkit)
    fields = data.draw(mcs.initiation_fields(toolkit, ac.auth_scheme))
    assert sorted(fields) == ([] if toolkit == "github" else ["subdomain"])
    account, url = mock_composio.link(ac, "user_1", "https://myapp.example/cb")
    result = composio_consent.complete(url, fields=fields)
    assert result.status == "success", result.page_text
    assert mock_composio.account(account).status == "ACTIVE"


def test_strategies_refuse_impossible_requests() -> None:
    with pytest.raises(ValueError, match="unknown toolkit"):
        mcs.scope_sets("nope")
    with pytest.raises(ValueError, match="no toolkit matches"):
        mcs.toolkit_slugs(managed=True, scheme="NO_SUCH")
    with pytest.raises(ValueError, match="no auth config body"):
        mcs.auth_config_bodies("openai", managed=True)
