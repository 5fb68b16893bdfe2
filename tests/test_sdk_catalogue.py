"""The full catalogue through the official Python SDK (composio 0.29.0, strict response
validation): toolkits of every auth scheme picked from Composio's 530, the toolkit operations
the SDK has (get, list, categories, get_many, changelog), Gmail's BEARER_TOKEN alternative, and
toolkits a user defines (plugin marker and method, a seed file served by ``mockcomposio
serve``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mockcomposio.testing.tenant import Tenant

from .conftest import require_module
from .serving import serve_subprocess

composio = require_module("composio", "end-to-end tests need: pip install -e '.[sdk]'")
from composio.core.models.connected_accounts import auth_scheme  # noqa: E402

pytestmark = pytest.mark.sdk

ACME = {"slug": "acme_crm", "name": "Acme CRM", "description": "Our in-house CRM",
        "categories": ["crm"], "auth_schemes": ["OAUTH2", "API_KEY"],
        "composio_managed_auth_schemes": ["OAUTH2"]}


def custom(sdk: Any, toolkit: str, scheme: str, credentials: dict[str, Any] | None = None
           ) -> Any:
    return sdk.auth_configs.create(toolkit=toolkit, options={
        "type": "use_custom_auth", "auth_scheme": scheme, "credentials": credentials or {}})


def oauth_via_link(sdk: Any, tenant: Tenant, auth_config_id: str, user_id: str) -> Any:
    request = sdk.connected_accounts.link(user_id=user_id, auth_config_id=auth_config_id)
    result = tenant.consent.complete(request.redirect_url)
    assert result.status_code == 200 and "connected" in result.page_text, result
    return request.wait_for_connection(timeout=5)


# -- toolkit operations -----------------------------------------------------------------------

def test_get_exa_a_toolkit_known_only_from_the_listing(sdk: Any) -> None:
    exa = sdk.toolkits.get("exa")
    assert exa.slug == "exa" and exa.name == "Exa"
    assert exa.meta.description.startswith("Exa")
    assert [d.mode for d in exa.auth_config_details] == ["API_KEY"]
    (detail,) = exa.auth_config_details
    (field,) = detail.fields.connected_account_initiation.required
    assert field.name == "generic_api_key" and field.is_secret is True
    assert sdk.toolkits.get_connected_account_initiation_fields(
        toolkit="exa", auth_scheme="API_KEY", required_only=True)[0].name == "generic_api_key"


def test_list_search_category_and_limit_as_the_sdk_sends_it(sdk: Any) -> None:
    top = sdk.toolkits.get()  # "returns top 20 toolkits by default", most used first
    assert len(top) == 20 and top[0].slug == "gmail"
    everything = sdk.toolkits.list(limit=1000)
    assert everything.total_items >= 530
    slugs = [t.slug for t in everything.items]
    assert len(slugs) == len(set(slugs)) == everything.total_items
    assert {"exa", "tavily", "airtable", "asana", "stripe", "gmail"} <= set(slugs)
    by_name = [t.name.lower() for t in sdk.toolkits.list(limit=1000,
                                                         sort_by="alphabetically").items]
    assert by_name == sorted(by_name)
    first = sdk.toolkits.list(limit=10)  # the client sends limit=10.0
    assert len(first.items) == 10 and first.next_cursor
    second = sdk.toolkits.list(limit=10, cursor=first.next_cursor)
    assert {t.slug for t in first.items}.isdisjoint(t.slug for t in second.items)
    crm = sdk.toolkits.list(category="crm", limit=100)
    assert crm.items and all(any(c.id == "crm" or c.name.lower() == "crm"
                                 for c in t.meta.categories) for t in crm.items)
    found = sdk.client.toolkits.list(search="calendar", limit=50)  # the raw client has search
    assert "googlecalendar" in [t.slug for t in found.items]
    managed = sdk.toolkits.list(managed_by="composio", limit=1000)
    assert all(t.composio_managed_auth_schemes for t in managed.items)
    assert "asana" in [t.slug for t in managed.items]


def test_list_categories(sdk: Any) -> None:
    categories = sdk.toolkits.list_categories()
    ids = [c.id for c in categories]
    assert len(ids) == len(set(ids)) > 100
    assert "crm" in ids
    crm = sdk.toolkits.list(category=next(c.id for c in categories if c.id == "crm"), limit=5)
    assert crm.items


def test_get_many(sdk: Any) -> None:
    got = sdk.toolkits.get_many(["github", "exa", "tavily"])
    assert sorted(t.slug for t in got) == ["exa", "github", "tavily"]
    github = next(t for t in got if t.slug == "github")
    assert github.auth_schemes == ["OAUTH2", "BEARER_TOKEN"]
    assert github.composio_managed_auth_schemes == ["OAUTH2"]
    with pytest.raises(composio.exceptions.ComposioError) as info:
        sdk.toolkits.get_many(["github", "gmial"])
    assert "gmail" in str(info.value)  # did you mean


def test_changelog(sdk: Any) -> None:
    log = sdk.toolkits.changelog()
    gmail = next(item for item in log.items if item.slug == "gmail")
    assert gmail.versions and gmail.versions[0].version


def test_unknown_slug_is_a_404_with_did_you_mean(sdk: Any) -> None:
    with pytest.raises(composio.exceptions.ComposioError) as info:
        sdk.toolkits.get("tavilly")
    assert "Toolkit 'tavilly' not found" in str(info.value) and "tavily" in str(info.value)


def test_a_session_with_a_listing_only_toolkit(sdk: Any) -> None:
    session = sdk.create(user_id="user_1", toolkits=["exa"])
    assert session.session_id


# -- auth configs and connections across schemes ----------------------------------------------

def test_oauth2_managed_listing_toolkit_links_to_active(sdk: Any, mock_composio: Tenant
                                                        ) -> None:
    asana = sdk.auth_configs.create(toolkit="asana",
                                    options={"type": "use_composio_managed_auth"})
    assert asana.is_composio_managed is True and asana.auth_scheme == "OAUTH2"
    account = oauth_via_link(sdk, mock_composio, asana.id, "u-asana")
    assert account.status == "ACTIVE" and account.state.val.access_token
    # the generic provider grants the template's scopes
    assert mock_composio.granted_scopes(account.id) == ["read", "write"]


def test_oauth1_managed_toolkit_goes_through_the_fake_provider(sdk: Any, mock_composio: Tenant
                                                               ) -> None:
    trello = sdk.auth_configs.create(toolkit="trello",
                                     options={"type": "use_composio_managed_auth"})
    assert trello.auth_scheme == "OAUTH1"
    account = oauth_via_link(sdk, mock_composio, trello.id, "u-trello")
    assert account.status == "ACTIVE"


def test_oauth2_custom_only_toolkit(sdk: Any, mock_composio: Tenant) -> None:
    with pytest.raises(composio.exceptions.ComposioError) as info:
        sdk.auth_configs.create(toolkit="accelo", options={"type": "use_composio_managed_auth"})
    assert "managed" in str(info.value)
    accelo = custom(sdk, "accelo", "OAUTH2", {"client_id": "acc-id", "client_secret": "s3"})
    request = sdk.connected_accounts.initiate(user_id="u-accelo", auth_config_id=accelo.id,
                                              callback_url="https://myapp.example/cb")
    assert request.status == "INITIATED"
    assert mock_composio.consent.complete(request.redirect_url).status == "success"
    assert request.wait_for_connection(timeout=5).status == "ACTIVE"


@pytest.mark.parametrize(("toolkit", "scheme", "make", "values"), [
    ("tavily", "API_KEY", "api_key", {"generic_api_key": "tvly-123"}),
    ("stripe", "API_KEY", "api_key", {"generic_api_key": "sk_test_123"}),
    ("sentry", "BEARER_TOKEN", "bearer_token", {"token": "sntrys_123"}),
    ("freshdesk", "BASIC", "basic", {"username": "agent@example.com", "password": "pw"}),
    ("airtable", "BEARER_TOKEN", "bearer_token", {"token": "pat123"}),
])
def test_credential_schemes_are_active_at_once(sdk: Any, mock_composio: Tenant, toolkit: str,
                                               scheme: str, make: str,
                                               values: dict[str, str]) -> None:
    fields = [f.name for f in sdk.toolkits.get_connected_account_initiation_fields(
        toolkit=toolkit, auth_scheme=scheme, required_only=True)]
    assert sorted(fields) == sorted(values)
    ac = custom(sdk, toolkit, scheme)
    request = sdk.connected_accounts.initiate(user_id=f"u-{toolkit}", auth_config_id=ac.id,
                                              config=getattr(auth_scheme, make)(values))
    assert request.status == "ACTIVE" and request.redirect_url is None
    account = mock_composio.account(request.id)
    assert account.auth_scheme == scheme and account.toolkit == toolkit


def test_no_auth_toolkit_takes_no_auth_config(sdk: Any) -> None:
    pdf = sdk.toolkits.get("text_to_pdf")
    assert pdf.no_auth is True
    with pytest.raises(composio.exceptions.ComposioError) as info:
        sdk.auth_configs.create(toolkit="text_to_pdf",
                                options={"type": "use_composio_managed_auth"})
    assert "does not require authentication" in str(info.value)


def test_gmail_bearer_token_config_and_active_connection(sdk: Any, mock_composio: Tenant
                                                         ) -> None:
    gmail = sdk.toolkits.get("gmail")
    assert [d.mode for d in gmail.auth_config_details] == ["OAUTH2", "BEARER_TOKEN"]
    assert gmail.composio_managed_auth_schemes == ["OAUTH2"]  # bearer is custom only
    with pytest.raises(composio.exceptions.ComposioError):
        sdk.auth_configs.create(toolkit="gmail", options={
            "type": "use_composio_managed_auth", "auth_scheme": "BEARER_TOKEN"})
    ac = custom(sdk, "gmail", "BEARER_TOKEN")
    assert ac.auth_scheme == "BEARER_TOKEN" and ac.is_composio_managed is False
    request = sdk.connected_accounts.initiate(
        user_id="u-gmail", auth_config_id=ac.id,
        config=auth_scheme.bearer_token({"token": "ya29.imported-token"}))
    assert request.status == "ACTIVE"
    got = sdk.connected_accounts.get(request.id)
    assert got.status == "ACTIVE" and got.toolkit.slug == "gmail"
    assert mock_composio.account(request.id).auth_scheme == "BEARER_TOKEN"


# -- user-defined toolkits --------------------------------------------------------------------

@pytest.mark.mock_composio(toolkits=[ACME])
def test_user_toolkit_from_the_plugin_marker(sdk: Any, mock_composio: Tenant) -> None:
    acme = sdk.toolkits.get("acme_crm")
    assert acme.name == "Acme CRM"
    assert [d.mode for d in acme.auth_config_details] == ["OAUTH2", "API_KEY", "BEARER_TOKEN"]
    assert "acme_crm" in [t.slug for t in sdk.toolkits.list(managed_by="project").items]
    ac = sdk.auth_configs.create(toolkit="acme_crm",
                                 options={"type": "use_composio_managed_auth"})
    account = oauth_via_link(sdk, mock_composio, ac.id, "u-acme")
    assert account.status == "ACTIVE"


def test_user_toolkit_from_the_plugin_method(sdk: Any, mock_composio: Tenant,
                                             composio_tenant_factory: Any) -> None:
    mock_composio.add_toolkit(slug="inhouse_wiki", name="In-house Wiki",
                              auth_schemes=[{"mode": "API_KEY", "fields": {
                                  "connected_account_initiation": {"required": [
                                      {"name": "wiki_token", "displayName": "Wiki token",
                                       "is_secret": True, "required": True}]}}}])
    ac = custom(sdk, "inhouse_wiki", "API_KEY")
    request = sdk.connected_accounts.initiate(
        user_id="u-wiki", auth_config_id=ac.id, config=auth_scheme.api_key(
            {"wiki_token": "w-123"}))  # type: ignore[typeddict-unknown-key]
    assert request.status == "ACTIVE"
    # only this tenant sees it
    other = composio_tenant_factory().client()
    with pytest.raises(composio.exceptions.ComposioError):
        other.toolkits.get("inhouse_wiki")


@pytest.fixture
def seeded_server(tmp_path: Path) -> Iterator[str]:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({
        "toolkits": [ACME],
        "tenants": [{"api_key": "seeded", "toolkits": [
            {"slug": "private_erp", "auth_schemes": ["BASIC"]}],
            "auth_configs": [{"ref": "acme", "toolkit": "acme_crm"},
                             {"ref": "erp", "toolkit": "private_erp", "type": "custom",
                              "auth_scheme": "BASIC"}],
            "connected_accounts": [{"auth_config": "acme", "user_id": "alice"},
                                   {"auth_config": "erp", "user_id": "alice",
                                    "fields": {"username": "alice", "password": "pw"}}]}]}))
    with serve_subprocess(tmp_path / "server.log", "--strict", "--seed-file",
                          str(seed)) as base_url:
        yield base_url


def test_user_toolkits_from_a_seed_file(seeded_server: str) -> None:
    sdk = composio.Composio(api_key="seeded", base_url=seeded_server, allow_tracking=False)
    sdk.client._strict_response_validation = True
    accounts = sdk.connected_accounts.list(user_ids=["alice"])
    assert sorted(a.toolkit.slug for a in accounts.items) == ["acme_crm", "private_erp"]
    assert all(a.status == "ACTIVE" for a in accounts.items)
    assert sdk.toolkits.get("private_erp").auth_config_details[0].mode == "BASIC"
    # the shared toolkit is there for every tenant, the tenant's own one is not
    other = composio.Composio(api_key="someone-else", base_url=seeded_server,
                              allow_tracking=False)
    assert other.toolkits.get("acme_crm").slug == "acme_crm"
    with pytest.raises(composio.exceptions.ComposioError):
        other.toolkits.get("private_erp")
