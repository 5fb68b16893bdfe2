"""Secrets: client secrets, API keys, access and refresh tokens, authorization codes and PKCE
verifiers never appear in clear in API responses (masked as the real API masks them: the first
4 characters + ``...``, ``REDACTED`` when shorter), in the request log, in the journal, in the
inspector or in a state export without ``?secrets=true``.

Every GET route of the route table is read, so routes added later are covered too; the one
place secrets are meant to appear (``GET /_mock/state?secrets=true``, for re-import) is checked
to contain them, which also proves the detector sees secrets when they are there.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from mockcomposio.engine import Engine
from mockcomposio.http.app import Route, create_app
from mockcomposio.http.routes import ROUTES
from mockcomposio.http.sessions_api import is_not_served

from .test_http_flows import decide, path_of
from .test_rel_bad_input import (
    API_KEY_VALUE,
    SECRET,
    V31,
    World,
    build_world,
    fill_path,
    post_json,
    route_id,
)


@pytest.fixture
async def world(aiohttp_client: Any) -> World:
    engine = Engine(seed=13)
    return await build_world(await aiohttp_client(create_app(engine, strict=True)), engine)


def raw_secrets(world: World) -> set[str]:
    """Every secret value the tenant holds, in clear."""
    project = world.project
    provider = project.provider
    secrets = {SECRET, API_KEY_VALUE}
    secrets |= set(provider._access) | set(provider._refresh) | set(provider._codes) \
        | set(provider._spent_codes)
    secrets |= {app.client_secret for app in provider._apps.values()}
    secrets |= {link.code_verifier for link in project.links.values() if link.code_verifier}
    for account in project.accounts.values():
        if account.token is not None:
            secrets.add(account.token.access_token)
            if account.token.refresh_token:
                secrets.add(account.token.refresh_token)
    return {s for s in secrets if len(s) > 4}


def found(secrets: set[str], text: str) -> list[str]:
    return sorted(s[:8] + "…" for s in secrets if s in text)


def as_text(payload: Any) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload)


# Operations refused by design (sessions_api.not_served) read no data: nothing to sweep.
GET_ROUTES = [r for r in ROUTES if r.method == "GET" and not is_not_served(r.handler)]


async def reading_request(route: Route, world: World) -> tuple[str, dict[str, str]]:
    """A GET of ``route`` that gets past its checks and reads the tenant's data (a request
    refused up front would pass the sweep without showing anything)."""
    ids, headers = world.ids, dict(world.headers)
    path = fill_path(route, ids, name="github")
    if route.path.endswith("/authorize"):
        path = path_of(ids["authorize"])
    elif route.path.endswith("/toolkits/auth/callback"):
        # The pending link's consent, allowed: the callback then reads link, code and tokens.
        consent = await world.client.get(path_of(ids["authorize"]))
        path = path_of(await decide(world.client, path_of(ids["authorize"]),
                                    await consent.text()))
        path = path.replace("/api/v3.1/", route.path.split("/toolkits/")[0] + "/")
        assert path.split("?")[0] == route.path, path
    elif route.path.endswith("/webhook_subscriptions/{id}"):
        # A subscription of the tenant's own, so the GET reads it (and its secret).
        created = await world.client.post(
            route.path.replace("/{id}", ""), headers=headers,
            json={"webhook_url": "http://127.0.0.1:9/hooks",
                  "enabled_events": ["composio.connected_account.expired"]})
        assert created.status == 201, await created.text()
        path = route.path.replace("{id}", (await created.json())["id"])
    elif route.path.endswith("/userinfo"):
        token = world.project.accounts[ids["ca"]].token
        assert token is not None
        headers["authorization"] = f"Bearer {token.access_token}"
    return path, headers


@pytest.mark.parametrize("route", GET_ROUTES, ids=route_id)
async def test_no_get_route_shows_a_secret(world: World, route: Route) -> None:
    secrets = raw_secrets(world)
    assert len(secrets) >= 6
    path, headers = await reading_request(route, world)
    status, payload, _ = await world.request("GET", path, headers=headers)
    assert status < 400, (route_id(route), status, str(payload)[:300])
    assert found(secrets, as_text(payload)) == [], (route_id(route), status)


async def test_secrets_are_masked_the_way_the_real_api_masks_them(world: World) -> None:
    _, config, _ = await world.request("GET", f"{V31}/auth_configs/{world.ids['ac_custom']}",
                                       headers=world.headers)
    assert config["credentials"]["client_secret"] == SECRET[:4] + "..."
    assert config["credentials"]["client_id"] == "my-client-id"  # not a secret: shown
    short = await post_json(world, "/auth_configs", {
        "toolkit": {"slug": "github"}, "auth_config": {
            "type": "use_custom_auth", "authScheme": "OAUTH2",
            "credentials": {"client_id": "c", "client_secret": "abc"}}})
    _, got, _ = await world.request("GET", f"{V31}/auth_configs/{short['auth_config']['id']}",
                                    headers=world.headers)
    assert got["credentials"]["client_secret"] == "REDACTED"
    _, oauth, _ = await world.request("GET", f"{V31}/connected_accounts/{world.ids['ca']}",
                                      headers=world.headers)
    token = world.project.accounts[world.ids["ca"]].token
    assert token is not None and token.refresh_token
    for view in (oauth["state"]["val"], oauth["data"], oauth["params"]):
        assert view["access_token"] == token.access_token[:4] + "..."
        assert view["refresh_token"] == token.refresh_token[:4] + "..."
    _, key, _ = await world.request("GET", f"{V31}/connected_accounts/{world.ids['ca_key']}",
                                    headers=world.headers)
    assert key["state"]["val"]["generic_api_key"] == API_KEY_VALUE[:4] + "..."
    _, listing, _ = await world.request("GET", f"{V31}/connected_accounts",
                                        headers=world.headers)
    shown = {a["id"]: a for a in listing["items"]}
    assert shown[world.ids["ca_key"]]["data"]["generic_api_key"] == API_KEY_VALUE[:4] + "..."


async def test_mutation_responses_show_no_secret(world: World) -> None:
    """What the write endpoints answer (initiate with a key, update, refresh, revoke)."""
    ids = world.ids
    answers = [await post_json(world, "/connected_accounts", {
        "auth_config": {"id": ids["ac_key"]}, "connection": {"user_id": "u", "state": {
            "authScheme": "API_KEY", "val": {"generic_api_key": API_KEY_VALUE}}}})]
    for method, path, body in [
        ("PATCH", f"/auth_configs/{ids['ac_custom']}",
         {"type": "custom", "credentials": {"client_secret": SECRET}}),
        ("PATCH", f"/connected_accounts/{ids['ca']}", {"alias": "work"}),
        ("POST", f"/connected_accounts/{ids['ca']}/revoke", None),
        ("POST", f"/connected_accounts/{ids['ca']}/refresh", {}),
    ]:
        status, payload, _ = await world.request(method, V31 + path, json=body,
                                                 headers=world.headers)
        assert status < 300, payload
        answers.append(payload)
    assert answers[0]["connectionData"]["val"]["generic_api_key"] == API_KEY_VALUE[:4] + "..."
    assert found(raw_secrets(world), as_text(answers)) == []


async def test_log_journal_inspector_and_export_show_no_secret(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    """A whole flow again, with the request log captured; then the journal, the inspector and
    a state export are read."""
    with caplog.at_level(logging.DEBUG, logger="mockcomposio"):
        logged = await build_world(world.client, world.engine, "key-a-logged")
    secrets = raw_secrets(logged)
    assert logged.project.provider._spent_codes  # the flow's codes went through the callback URL
    log_text = "\n".join(r.getMessage() for r in caplog.records)
    assert "toolkits/auth/callback" in log_text  # the log did record the callback
    assert found(secrets, log_text) == []
    journal = json.dumps([e.as_json() for e in logged.project.journal], default=str)
    assert "toolkits/auth/callback" in journal
    assert found(secrets, journal) == []
    for path in ("/_mock/journal", "/_mock/inspector/data", "/_mock/state"):
        status, payload, _ = await logged.request("GET", path, headers=logged.headers)
        assert status == 200, (path, payload)
        assert found(secrets, as_text(payload)) == [], path
    # The explicit opt-in export carries them (so a restore works): the detector sees them.
    status, payload, _ = await logged.request("GET", "/_mock/state?secrets=true",
                                              headers=logged.headers)
    assert status == 200 and found(secrets, as_text(payload)) != []


# -- issue 19, findings 14 and 15 -------------------------------------------------------------

NON_STRING_SECRETS: list[Any] = [[SECRET], {"nested": SECRET}, [[SECRET]], 31415926535897,
                                 True]


async def everything_shown(world: World) -> str:
    """The API's views, the journal, the inspector and a redacted export, as one text."""
    texts = []
    for path in (f"{V31}/auth_configs", f"{V31}/connected_accounts", "/_mock/journal",
                 "/_mock/inspector/data", "/_mock/state"):
        status, payload, _ = await world.request("GET", path, headers=world.headers)
        assert status == 200, (path, payload)
        texts.append(as_text(payload))
    return "\n".join(texts)


@pytest.mark.parametrize("value", NON_STRING_SECRETS, ids=lambda v: type(v).__name__)
async def test_secrets_sent_as_lists_or_objects_are_refused(world: World, value: Any) -> None:
    """Finding 14: a client_secret (or API key) sent as a list or an object was stored and then
    shown in clear by the API and the inspector (masking only knew strings)."""
    ids = world.ids
    attempts = [
        ("POST", "/auth_configs", {"toolkit": {"slug": "linear"}, "auth_config": {
            "type": "use_custom_auth", "authScheme": "OAUTH2",
            "credentials": {"client_id": "c", "client_secret": value}}}),
        ("PATCH", f"/auth_configs/{ids['ac_custom']}",
         {"type": "custom", "credentials": {"client_secret": value}}),
        ("POST", "/connected_accounts", {"auth_config": {"id": ids["ac_key"]}, "connection": {
            "user_id": "u", "state": {"authScheme": "API_KEY", "val": {
                "status": "ACTIVE", "generic_api_key": value}}}}),
    ]
    before = len(world.project.auth_configs), len(world.project.accounts)
    for method, path, body in attempts:
        status, payload, _ = await world.request(method, V31 + path, json=body,
                                                 headers=world.headers)
        assert status == 400, (path, payload)
        assert payload["error"]["slug"] == "Validation_Error", payload
        assert "must be a string" in payload["error"]["message"], payload
    assert (len(world.project.auth_configs), len(world.project.accounts)) == before
    assert world.project.auth_configs[ids["ac_custom"]].credentials["client_secret"] == SECRET
    shown = await everything_shown(world)
    assert SECRET not in shown and "31415926535897" not in shown


def test_masking_hides_non_string_values_too() -> None:
    """Defence in depth (objects from a snapshot or the in-process API): masking a list or an
    object under a secret key shows nothing of it."""
    from mockcomposio.domain.render import mask

    assert mask([SECRET]) == "REDACTED" and mask({"k": SECRET}) == "REDACTED"
    assert mask(SECRET) == SECRET[:4] + "..." and mask(None) is None


@pytest.mark.parametrize("body", [
    {"toolkit": {"slug": "linear"}, "auth_config": {
        "type": "use_custom_auth", "authScheme": "OAUTH2", "credentials": SECRET}},
    {"toolkit": {"slug": "linear"}, "auth_config": {"type": SECRET}},
    {"toolkit": {"slug": "linear"}, "auth_config": {
        "type": "use_custom_auth", "authScheme": "OAUTH2", "credentials": [SECRET]}},
    {"toolkit": {"slug": "linear"}, "auth_config": {
        "type": "use_custom_auth", "authScheme": "OAUTH2",
        "credentials": {"client_id": "c", "client_secret": SECRET, "scopes": {"a": SECRET}}}},
], ids=["credentials-as-string", "type", "credentials-as-list", "scopes"])
async def test_validation_messages_never_echo_the_value(world: World, body: Any) -> None:
    """Finding 15: request-validation messages quoted the offending value (jsonschema opens
    its messages with it) into the envelope, the journal and the inspector; when that value
    was a secret sent in the wrong place, it was shown in clear. (Names the caller chose, such
    as an unknown toolkit slug, are still quoted back: they are what the caller must fix.)"""
    status, payload, _ = await world.request("POST", f"{V31}/auth_configs", json=body,
                                             headers=world.headers)
    assert 400 <= status < 500, payload
    assert payload["error"]["message"] and SECRET not in as_text(payload), payload
    # What the journal (and the inspector, which shows it) recorded as the answer. (The
    # request body is recorded as sent, with the values of secret keys redacted.)
    answers = [e.as_json().get("response_body") for e in world.project.journal]
    assert answers and SECRET not in json.dumps(answers)
