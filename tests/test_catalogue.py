"""The catalogue: generated data (fresh, valid, with provenance), expansion from the scheme
templates, indexes, the toolkit routes over HTTP, and user-defined toolkits from every door
(control plane, seed file, ``serve --catalogue``) with their all-or-nothing validation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from mockcomposio import catalogue_gen
from mockcomposio.domain.catalogue import (
    Catalogue,
    CatalogueError,
    parse_definitions,
    search_rank,
    usage_key,
    validate_definitions,
)
from mockcomposio.engine import Engine
from mockcomposio.resources import fixture_path

V31 = "/api/v3.1"
KEY = {"x-api-key": "catalogue-tests"}
LISTING = catalogue_gen.DEFAULT_LISTING

Client = TestClient[Any, Any]


async def ok(resp: Any, status: int = 200) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


# -- the generated data -----------------------------------------------------------------------

def test_committed_catalogue_is_what_the_generator_writes() -> None:
    text, doc = catalogue_gen.build(LISTING, fixture_path("toolkits.json"))
    assert fixture_path("catalogue.json").read_text(encoding="utf-8") == text, (
        "fixtures/catalogue.json is stale: run python -m mockcomposio.catalogue_gen")
    assert catalogue_gen.main([str(LISTING), "--check"]) == 0
    assert doc["counts"]["toolkits"] == 530 and doc["counts"]["curated"] == 22


def test_every_entry_passes_the_user_definition_checks_and_has_provenance() -> None:
    data = json.loads(fixture_path("catalogue.json").read_text(encoding="utf-8"))
    validate_definitions(data["toolkits"], "catalogue")  # the same checks as user toolkits
    listing = {catalogue_gen.clean_slug(t["slug"]): t
               for t in json.loads(LISTING.read_text(encoding="utf-8"))}
    for entry in data["toolkits"]:
        prov = entry["provenance"]
        assert prov["listing"] == "toolkits-api-2025-07" and entry["slug"] in listing
        modes = [s["mode"] for s in entry["auth_schemes"]]
        assert list(prov["schemes"]) == modes
        for s in entry["auth_schemes"]:
            # template-filled schemes carry no fields of their own: the data says which is which
            assert ("fields" in s) == (prov["schemes"][s["mode"]] == "curated")
        assert set(listing[entry["slug"]]["auth_schemes"]) <= set(modes)


def test_the_21risk_slug_and_name_are_cleaned() -> None:
    toolkit = Catalogue.load().get("_21risk")
    assert toolkit is not None and toolkit.name == "21risk"


def test_every_oauth2_toolkit_also_takes_a_custom_bearer_token() -> None:
    catalogue = Catalogue.load()
    oauth2 = [t for t in catalogue if t.scheme("OAUTH2")]
    assert len(oauth2) >= 150
    for t in oauth2:
        bearer = t.scheme("BEARER_TOKEN")
        assert bearer is not None and "BEARER_TOKEN" not in t.managed_schemes, t.slug
        assert bearer.required_field_names("connected_account_initiation") == ["token"]


def test_curated_detail_is_kept_and_listing_schemes_get_template_fields() -> None:
    catalogue = Catalogue.load()
    gmail = catalogue.get("gmail")
    assert gmail is not None
    oauth = gmail.scheme("OAUTH2")
    assert oauth is not None and oauth.access_token_lifetime == 3600
    assert "https://mail.google.com/" in oauth.default_scopes
    jira = catalogue.get("jira")  # curated OAUTH2 + BASIC; the listing adds API_KEY
    assert jira is not None and [s.mode for s in jira.schemes] == [
        "OAUTH2", "BASIC", "API_KEY", "BEARER_TOKEN"]
    assert jira.raw["provenance"]["schemes"]["API_KEY"] == "listing+template"
    front = catalogue.get("front")  # managed OAUTH2 the listing forgot to list
    assert front is not None and front.scheme("OAUTH2") is not None
    assert front.raw["provenance"]["schemes"]["OAUTH2"] == "managed+template"


@pytest.mark.parametrize(("slug", "mode", "required"), [
    ("exa", "API_KEY", ["generic_api_key"]),
    ("sentry", "BEARER_TOKEN", ["token"]),
    ("freshdesk", "BASIC", ["username", "password"]),
    ("zoominfo", "BASIC_WITH_JWT", ["username", "password"]),
    ("googlebigquery", "GOOGLE_SERVICE_ACCOUNT", ["credentials_json"]),
    ("text_to_pdf", "NO_AUTH", []),
])
def test_generic_fields_per_scheme(slug: str, mode: str, required: list[str]) -> None:
    toolkit = Catalogue.load().get(slug)
    assert toolkit is not None
    spec = toolkit.scheme(mode)
    assert spec is not None
    assert spec.required_field_names("connected_account_initiation") == required
    assert spec.name.startswith(f"{slug}_")  # the template's "{slug}_..." name


def test_generic_oauth2_toolkit_has_a_provider_setup() -> None:
    asana = Catalogue.load().get("asana")
    assert asana is not None and asana.managed_schemes == ("OAUTH2",)
    spec = asana.default_scheme
    assert spec is not None and spec.default_scopes == ("read", "write")
    assert spec.required_field_names("auth_config_creation") == ["client_id", "client_secret"]
    assert "client_secret" in spec.secret_field_names()


def test_the_catalogue_is_shared_not_copied_per_tenant() -> None:
    engine = Engine()
    assert engine.catalogue is Catalogue.load()  # one per process
    a, b = engine.project("a"), engine.project("b")
    assert a.catalogue is b.catalogue is engine.catalogue


def test_filters_use_the_indexes_and_are_cached() -> None:
    catalogue = Catalogue.load()
    crm = catalogue.filter(category="crm")
    assert crm and all("crm" in {cid for cid, _ in t.categories} for t in crm)
    assert catalogue.filter(category="CRM") == crm  # ids and names, any case
    assert catalogue.filter(category="crm") is crm  # cached per query
    managed = catalogue.filter(managed_by="composio")
    assert all(t.managed_schemes for t in managed) and len(managed) >= 90
    usage = catalogue.filter()  # Composio's default order: the popular (curated) ones first
    assert [t.slug for t in usage[:4]] == ["gmail", "googlecalendar", "googledrive", "github"]
    assert [t.slug for t in usage[22:]] == sorted(t.slug for t in usage[22:])
    by_name = catalogue.filter(sort_by="alphabetically")
    assert [t.name.lower() for t in by_name] == sorted(t.name.lower() for t in by_name)
    assert [t.slug for t in catalogue.filter(search="gmail")][:1] == ["gmail"]
    assert catalogue.filter(search="zzz-nothing") == ()
    picked = catalogue.filter(slugs=("tavily", "EXA", "nope", "exa"))
    assert [t.slug for t in picked] == ["exa", "tavily"]
    assert [t.slug for t in catalogue.filter(slugs=("gmail", "github"), category="email")] == [
        "gmail"]
    assert [t.slug for t in catalogue.filter(slugs=("slack", "asana"),
                                             sort_by="alphabetically")] == ["asana", "slack"]


@settings(max_examples=40, deadline=None)
@given(search=st.text(alphabet="abcdefghilmnorstu ", max_size=6),
       category=st.sampled_from(["", "crm", "productivity", "email", "nope"]),
       managed=st.sampled_from(["", "all", "composio"]),
       sort=st.sampled_from(["", "usage", "alphabetically"]))
def test_filter_matches_a_plain_scan(search: str, category: str, managed: str,
                                     sort: str) -> None:
    catalogue = Catalogue.load()
    got = catalogue.filter(search=search, category=category, managed_by=managed, sort_by=sort)
    needle = search.strip().lower()
    expected = [t for t in catalogue
                if (not needle or needle in t.search_text)
                and (not category or any(category in (cid.lower(), cname.lower())
                                         for cid, cname in t.categories))
                and (managed != "composio" or t.managed_schemes)]
    if sort == "alphabetically":
        expected.sort(key=lambda t: (t.name.lower(), t.slug))
    else:  # "usage", Composio's default
        expected.sort(key=usage_key)
    if needle:
        expected.sort(key=lambda t: search_rank(t, needle))
    assert list(got) == expected


# -- user-defined toolkits: validation ----------------------------------------------------------

@pytest.mark.parametrize(("definition", "message"), [
    ({"name": "x", "auth_schemes": ["API_KEY"]}, "toolkits[0]: 'slug' is a required property"),
    ({"slug": "x y", "auth_schemes": ["API_KEY"]}, "toolkits[0].slug: 'x y' does not match"),
    ({"slug": "x", "auth_schemes": []}, "toolkits[0].auth_schemes: [] should be non-empty"),
    ({"slug": "x", "auth_schemes": ["OAUTH3"]}, "toolkits[0].auth_schemes[0]: 'OAUTH3' is not"),
    ({"slug": "x", "auth_schemes": [{"mode": "OAUTH2", "default_scopes": "read"}]},
     "toolkits[0].auth_schemes[0].default_scopes: 'read' is not of type 'array'"),
    ({"slug": "x", "auth_schemes": [{"mode": "OAUTH2", "defualt_scopes": ["a"]}]},
     "toolkits[0].auth_schemes[0].defualt_scopes: unknown key; did you mean 'default_scopes'"),
    ({"slug": "x", "auth_schemes": ["API_KEY", "API_KEY"]},
     "toolkits[0].auth_schemes[1]: scheme API_KEY is listed twice"),
    ({"slug": "x", "auth_schemes": ["API_KEY"], "composio_managed_auth_schemes": ["OAUTH2"]},
     "toolkits[0].composio_managed_auth_schemes[0]: 'OAUTH2' is not one of this toolkit's"),
    ({"slug": "x", "auth_schemes": ["API_KEY"], "no_auth": True}, "toolkits[0].no_auth"),
    ({"slug": "x", "auth_schemes": [{"mode": "OAUTH2", "default_scopes": ["a", "b"],
                                     "available_scopes": ["a"]}]},
     "toolkits[0].auth_schemes[0].default_scopes: ['b'] not in available_scopes"),
    ({"slug": "x", "auth_schemes": [{"mode": "API_KEY", "fields": {
        "connected_account_initiation": {"required": [{"name": "k"}], "optional": [
            {"name": "k"}]}}}]},
     "toolkits[0].auth_schemes[0].fields.connected_account_initiation.optional[0].name"),
])
def test_bad_definitions_name_the_field(definition: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogueError) as info:
        parse_definitions([definition], origin="test")
    assert message in str(info.value)


def test_duplicate_slugs_and_non_lists_are_refused() -> None:
    with pytest.raises(CatalogueError, match=r"toolkits\[1\]\.slug: 'a' is already defined"):
        parse_definitions([{"slug": "a", "auth_schemes": ["API_KEY"]},
                           {"slug": "A", "auth_schemes": ["BASIC"]}], origin="test")
    with pytest.raises(CatalogueError, match="expected a list"):
        parse_definitions({"slug": "a"}, origin="test")


def test_a_minimal_definition_is_expanded_like_the_built_in_data() -> None:
    (t,) = parse_definitions([{"slug": "Acme", "auth_schemes": ["OAUTH2"],
                               "composio_managed_auth_schemes": ["OAUTH2"]}], origin="test")
    assert t.slug == "acme" and t.name == "acme" and t.user_defined
    assert [s.mode for s in t.schemes] == ["OAUTH2", "BEARER_TOKEN"]
    assert t.raw["provenance"]["schemes"] == {"OAUTH2": "user+template",
                                              "BEARER_TOKEN": "rule+template"}
    extra_key_kept = parse_definitions([{"slug": "b", "auth_schemes": ["API_KEY"],
                                         "connection_fields": {"x": 1}}], origin="test")
    assert extra_key_kept[0].raw["connection_fields"] == {"x": 1}  # the format is open


# -- HTTP ---------------------------------------------------------------------------------------

async def test_categories_is_not_a_toolkit_slug(api: Client) -> None:
    body = await ok(await api.get(f"{V31}/toolkits/categories", headers=KEY))
    assert "crm" in [c["id"] for c in body["items"]]
    assert body["total_items"] == len(body["items"]) and body["next_cursor"] is None
    page = await ok(await api.get(f"{V31}/toolkits/categories?limit=5.0", headers=KEY))
    assert len(page["items"]) == 5 and page["next_cursor"]


async def test_limit_accepts_floats_everywhere_and_refuses_fractions(api: Client) -> None:
    for path in ("/toolkits", "/auth_configs", "/connected_accounts"):
        for prefix in ("/api/v3", V31):
            await ok(await api.get(f"{prefix}{path}?limit=10.0", headers=KEY))
    await ok(await api.get("/_mock/journal?limit=2.0", headers=KEY))  # the control plane too
    bad = await api.get(f"{V31}/toolkits?limit=2.5", headers=KEY)
    err = (await ok(bad, 400))["error"]
    assert "limit" in err["message"] and "2.5" in err["message"]
    default = await ok(await api.get(f"{V31}/toolkits", headers=KEY))
    assert len(default["items"]) == 20 and default["items"][0]["slug"] == "gmail"
    multi = await ok(await api.post(f"{V31}/toolkits/multi", headers=KEY,
                                    json={"limit": 2.0, "sort_by": "alphabetically"}))
    assert len(multi["items"]) == 2 and multi["total_items"] >= 530


async def test_unknown_slug_404_with_did_you_mean_on_both_versions(api: Client) -> None:
    for prefix in ("/api/v3", V31):
        err = (await ok(await api.get(f"{prefix}/toolkits/stirpe", headers=KEY), 404))["error"]
        assert err["slug"] == "Toolkit_NotFound" and err["code"] == 402
        assert err["message"].startswith("Toolkit 'stirpe' not found. Did you mean: stripe")


async def test_changelog_and_bad_filters(api: Client) -> None:
    log = await ok(await api.get("/api/v3/toolkits/changelog", headers=KEY))
    assert len(log["items"]) >= 530
    err = await ok(await api.get(f"{V31}/toolkits?sort_by=random", headers=KEY), 400)
    assert "sort_by" in err["error"]["message"]


async def test_control_plane_toolkits_all_or_nothing(api: Client, engine: Engine) -> None:
    good = {"slug": "acme_crm", "auth_schemes": ["API_KEY"]}
    bad = {"slug": "broken", "auth_schemes": [{"mode": "OAUTH2", "scope_separator": ";"}]}
    resp = await api.post("/_mock/toolkits", headers=KEY, json={"toolkits": [good, bad]})
    err = (await ok(resp, 400))["error"]
    assert err["slug"] == "Mock_InvalidToolkit"
    assert "toolkits[1].auth_schemes[0].scope_separator" in err["message"]
    await ok(await api.get(f"{V31}/toolkits/acme_crm", headers=KEY), 404)  # nothing added
    added = await ok(await api.post("/_mock/toolkits", headers=KEY, json={"toolkits": [good]}))
    assert added["toolkits"] == ["acme_crm"] and added["total"] == len(engine.catalogue) + 1
    got = await ok(await api.get(f"{V31}/toolkits/acme_crm", headers=KEY))
    assert got["auth_config_details"][0]["mode"] == "API_KEY"
    listed = await ok(await api.get("/_mock/toolkits", headers=KEY))
    assert [t["slug"] for t in listed["items"]] == ["acme_crm"]
    # other tenants and the shared catalogue are untouched
    await ok(await api.get(f"{V31}/toolkits/acme_crm", headers={"x-api-key": "other"}), 404)
    assert engine.catalogue.get("acme_crm") is None
    # ... and a reset forgets them
    await ok(await api.post("/_mock/reset", headers=KEY, json={}))
    await ok(await api.get(f"{V31}/toolkits/acme_crm", headers=KEY), 404)


async def test_seed_route_toolkits_then_configs_all_or_nothing(api: Client) -> None:
    body = {"toolkits": [{"slug": "erp", "auth_schemes": ["BASIC"]}],
            "auth_configs": [{"ref": "e", "toolkit": "erp", "type": "custom",
                              "auth_scheme": "BASIC"}],
            "connected_accounts": [{"auth_config": "e", "user_id": "u",
                                    "fields": {"username": "u", "password": "p"}}]}
    created = await ok(await api.post("/_mock/seed", headers=KEY, json=body))
    assert created["connected_accounts"][0]["status"] == "ACTIVE"
    # a config for an unknown toolkit: refused, and the tenant keeps what it had
    broken = {"toolkits": [{"slug": "crm2", "auth_schemes": ["API_KEY"]}],
              "auth_configs": [{"toolkit": "nope_toolkit"}]}
    err = (await ok(await api.post("/_mock/seed", headers=KEY, json=broken), 400))["error"]
    assert "body.auth_configs[0].toolkit" in err["message"]
    await ok(await api.get(f"{V31}/toolkits/crm2", headers=KEY), 404)
    await ok(await api.get(f"{V31}/toolkits/erp", headers=KEY))
    bad_schema = {"toolkits": [{"slug": "x", "auth_schemes": ["NOPE"]}]}
    err = (await ok(await api.post("/_mock/seed", headers=KEY, json=bad_schema), 400))["error"]
    assert "toolkits" in err["message"]


async def test_state_export_import_keeps_a_tenants_toolkits(api: Client, engine: Engine
                                                            ) -> None:
    await ok(await api.post("/_mock/toolkits", headers=KEY, json={"toolkits": [
        {"slug": "keepme", "auth_schemes": ["OAUTH2"]}]}))
    await ok(await api.post(f"{V31}/auth_configs", headers=KEY, json={
        "toolkit": {"slug": "keepme"}, "auth_config": {
            "type": "use_custom_auth", "authScheme": "BEARER_TOKEN", "credentials": {}}}), 201)
    state = await ok(await api.get("/_mock/state?secrets=true", headers=KEY))
    await ok(await api.post("/_mock/reset", headers=KEY, json={}))
    await ok(await api.post("/_mock/state", headers=KEY, json=state))
    configs = await ok(await api.get(f"{V31}/auth_configs", headers=KEY))
    assert [c["toolkit"]["slug"] for c in configs["items"]] == ["keepme"]
    await ok(await api.get(f"{V31}/toolkits/keepme", headers=KEY))


# -- the command line ---------------------------------------------------------------------------

def _serve_fails(tmp_path: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "mockcomposio", "serve", "--port", "0", *args],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""  # never started serving
    return proc.stderr


def test_serve_catalogue_refuses_a_bad_file_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "mine.yaml"
    bad.write_text("toolkits:\n  - slug: acme\n    auth_schemes: [API_KEY]\n"
                   "    composio_managed_auth_schemes: [OAUTH2]\n")
    err = _serve_fails(tmp_path, "--catalogue", str(bad))
    assert "toolkits[0].composio_managed_auth_schemes[0]" in err
    unparsable = tmp_path / "x.json"
    unparsable.write_text("[{")
    assert "does not parse" in _serve_fails(tmp_path, "--catalogue", str(unparsable))
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"toolkits": [{"slug": "a", "auth_schemes": ["API_KEY"],
                                              "no_auth": True}], "tenants": []}))
    assert "toolkits[0].no_auth" in _serve_fails(tmp_path, "--seed-file", str(seed))


def test_serve_catalogue_replace(tmp_path: Path) -> None:
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps([{"slug": "only_one", "auth_schemes": ["API_KEY"]}]))
    proc = subprocess.Popen([sys.executable, "-m", "mockcomposio", "serve", "--port", "0",
                             "--catalogue", str(mine), "--catalogue-replace"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        import urllib.request

        req = urllib.request.Request(f"{base}{V31}/toolkits", headers=KEY)
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = json.loads(resp.read())
        assert [t["slug"] for t in body["items"]] == ["only_one"]
    finally:
        proc.terminate()
        proc.wait(15)
