"""Webhooks: the subscriptions API, signed connection-expired deliveries, retries on the
virtual clock, target rules, and the official SDK verifying what the app receives."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from mockcomposio import contracts
from mockcomposio.domain import webhooks
from mockcomposio.engine import Engine
from mockcomposio.errors import ComposioError
from mockcomposio.http import webhook_delivery
from mockcomposio.server import LiveServer
from mockcomposio.tenant import Tenant

from .conftest import KEY, OTHER

V3, V31 = "/api/v3", "/api/v3.1"
EXPIRED = "composio.connected_account.expired"


def expected_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


async def subscribe(api: TestClient[Any, Any], url: str, *, headers: dict[str, str] = KEY,
                    prefix: str = V31, events: list[str] | None = None) -> dict[str, Any]:
    r = await api.post(f"{prefix}/webhook_subscriptions", headers=headers, json={
        "webhook_url": url, "enabled_events": events or [EXPIRED]})
    assert r.status == 201, await r.text()
    return dict(await r.json())


def receiver_url(api: TestClient[Any, Any], engine: Engine, key: str = "key-a") -> str:
    return str(api.make_url(f"/_mock/webhooks/receiver/{engine.project(key).id}"))


def active_account(engine: Engine, key: str = "key-a") -> str:
    """An ACTIVE github account with tokens, made through the domain as a real flow would."""
    from mockcomposio.tenant import Tenant as T

    tenant = T(engine, key, "http://127.0.0.1:9")
    return tenant.add_account("gmail", "user-1").id


def expire(engine: Engine, account_id: str, key: str = "key-a") -> None:
    """The provider refuses the next refresh (token_refresh_failure), then the clock passes
    the access token's expiry: Composio marks the account EXPIRED."""
    project = engine.project(key)
    project.faults.add("*", preset="token_refresh_failure", times=1)
    token = project.accounts[account_id].token
    assert token is not None and token.expires_at is not None
    project.advance_clock(token.expires_at - project.now() + 1)
    assert project.accounts[account_id].status == "EXPIRED"


async def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


# -- the subscriptions API -------------------------------------------------------------------

@pytest.mark.parametrize("prefix", [V3, V31])
async def test_subscription_lifecycle(api: TestClient[Any, Any], prefix: str) -> None:
    created = await subscribe(api, "http://127.0.0.1:8080/hooks", prefix=prefix,
                              events=["composio.trigger.message", EXPIRED])
    sid, secret = created["id"], created["secret"]
    assert sid.startswith("whs_") and secret.startswith("whsec_")
    assert created["version"] == "V3"
    assert created["enabled_events"] == ["composio.trigger.message", EXPIRED]
    r = await api.post(f"{prefix}/webhook_subscriptions", headers=KEY, json={
        "webhook_url": "http://127.0.0.1:8080/other", "enabled_events": [EXPIRED]})
    assert r.status == 409  # one per project
    assert (await r.json())["error"]["slug"] == "WebhookSubscription_AlreadyExists"
    listed = await (await api.get(f"{prefix}/webhook_subscriptions", headers=KEY)).json()
    assert [s["id"] for s in listed["items"]] == [sid] and listed["total_items"] == 1
    got = await (await api.get(f"{prefix}/webhook_subscriptions/{sid}", headers=KEY)).json()
    # v3 masks the secret after creation; v3.1 (what the SDKs call) returns it every time
    shown = secret if prefix == V31 else secret[:4] + "..."
    assert got == {**created, "secret": shown}
    assert listed["items"][0]["secret"] == shown
    r = await api.patch(f"{prefix}/webhook_subscriptions/{sid}", headers=KEY,
                        json={"enabled_events": [EXPIRED]})
    assert r.status == 200 and (await r.json())["enabled_events"] == [EXPIRED]
    rotated = await (await api.post(f"{prefix}/webhook_subscriptions/{sid}/rotate_secret",
                                    headers=KEY)).json()
    assert rotated["id"] == sid and rotated["secret"] != secret
    assert rotated["secret"].startswith("whsec_")
    types = await (await api.get(f"{prefix}/webhook_subscriptions/event_types",
                                 headers=KEY)).json()
    by_type = {t["event_type"]: t for t in types["items"]}
    assert by_type[EXPIRED]["supported_versions"] == ["V3"]
    assert "composio.trigger.message" in by_type
    # another tenant sees nothing of it
    other = await (await api.get(f"{prefix}/webhook_subscriptions", headers=OTHER)).json()
    assert other["items"] == []
    assert (await api.get(f"{prefix}/webhook_subscriptions/{sid}", headers=OTHER)).status == 404
    r = await api.delete(f"{prefix}/webhook_subscriptions/{sid}", headers=KEY)
    assert r.status == 200 and await r.json() == {"success": True}
    r = await api.get(f"{prefix}/webhook_subscriptions/{sid}", headers=KEY)
    assert r.status == 404
    assert (await r.json())["error"]["slug"] == "WebhookSubscription_NotFound"


BAD_CREATES: list[tuple[dict[str, Any], str]] = [
    ({"webhook_url": "not a url", "enabled_events": [EXPIRED]}, "whitespace"),
    ({"webhook_url": "notaurl", "enabled_events": [EXPIRED]}, "http or https"),
    ({"webhook_url": "http://127.0.0.1:8080/x", "enabled_events": ["composio.nope"]},
     "Unknown event type"),
    ({"webhook_url": "http://127.0.0.1:8080/x", "enabled_events": []}, "enabled_events"),
    ({"webhook_url": "http://127.0.0.1/" + "a" * 3000, "enabled_events": [EXPIRED]},
     "webhook_url"),
    ({"webhook_url": "https://example.com/hook", "enabled_events": [EXPIRED]},
     "not a loopback"),
    ({"webhook_url": "http://10.0.0.7/hook", "enabled_events": [EXPIRED]}, "not a loopback"),
    ({"webhook_url": "http://169.254.169.254/latest/meta-data", "enabled_events": [EXPIRED]},
     "not a loopback"),
    ({"webhook_url": "https://backend.composio.dev/hook", "enabled_events": [EXPIRED]},
     "Composio's own host"),
    ({"webhook_url": "ftp://127.0.0.1/hook", "enabled_events": [EXPIRED]}, "http or https"),
    ({"webhook_url": "file:///etc/passwd", "enabled_events": [EXPIRED]}, "http or https"),
    ({"webhook_url": "javascript:alert(1)", "enabled_events": [EXPIRED]}, "http or https"),
    ({"webhook_url": "http://user:pw@127.0.0.1/hook", "enabled_events": [EXPIRED]},
     "credentials"),
    ({"webhook_url": "http://127.0.0.1:99999/hook", "enabled_events": [EXPIRED]},
     "not a valid URL"),
    ({"webhook_url": "http://127.0.0.1/hook\r\nx-evil: 1", "enabled_events": [EXPIRED]},
     "control characters"),
    ({"webhook_url": "http://127.0.0.1/hook", "enabled_events": [EXPIRED], "version": "V2"},
     "not available with V2"),
    ({"webhook_url": "http://127.0.0.1/hook", "enabled_events": [EXPIRED], "version": "V9"},
     "version"),
    ({"enabled_events": [EXPIRED]}, "webhook_url"),
]


@pytest.mark.parametrize(("body", "says"), BAD_CREATES)
async def test_bad_subscription_input_is_a_4xx_and_changes_nothing(
        api: TestClient[Any, Any], engine: Engine, body: dict[str, Any], says: str) -> None:
    r = await api.post(f"{V31}/webhook_subscriptions", headers=KEY, json=body)
    assert r.status == 400, await r.text()
    error = (await r.json())["error"]
    assert says in error["message"] + " ".join(error["errors"])
    assert error["suggested_fix"]
    assert engine.project("key-a").webhooks.subscriptions == {}


async def test_bad_update_changes_nothing(api: TestClient[Any, Any]) -> None:
    created = await subscribe(api, "http://localhost:8080/hooks")
    sid = created["id"]
    for body in ({"webhook_url": "https://example.com/x"},
                 {"enabled_events": [EXPIRED, "composio.nope"]},
                 {"webhook_url": "http://127.0.0.1/ok", "version": "V1"}, {}):
        r = await api.patch(f"{V31}/webhook_subscriptions/{sid}", headers=KEY, json=body)
        assert r.status == 400, body
    got = await (await api.get(f"{V31}/webhook_subscriptions/{sid}", headers=KEY)).json()
    assert got == created
    r = await api.patch(f"{V31}/webhook_subscriptions/whs_missing", headers=KEY,
                        json={"version": "V3"})
    assert r.status == 404


def test_allow_any_host_widens_targets_but_never_to_composio(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert not webhooks.is_loopback("example.com")
    with pytest.raises(ComposioError):
        webhooks.check_url("https://example.com/x", any_host=False)
    assert webhooks.check_url("https://example.com/x", any_host=True)
    with pytest.raises(ComposioError, match="Composio's own host"):
        webhooks.check_url("https://hooks.composio.io/x", any_host=True)
    engine = Engine()
    project = engine.project("k")
    monkeypatch.setenv(webhooks.ALLOW_ANY_HOST_ENV, "1")
    assert webhooks.create(project, webhook_url="https://example.com/x",
                           enabled_events=[EXPIRED]).webhook_url == "https://example.com/x"


@settings(max_examples=60, deadline=None)
@given(host=st.from_regex(r"\A[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}\Z"),
       scheme=st.sampled_from(["http", "https"]))
def test_property_only_loopback_hosts_pass_by_default(host: str, scheme: str) -> None:
    with pytest.raises(ComposioError, match=r"not a loopback|Composio's own host"):
        webhooks.check_url(f"{scheme}://{host}/hook", any_host=False)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "http://127.9.8.7/x",
                                 "https://localhost/x", "http://LOCALHOST.:1/x",
                                 "http://[::1]:8080/x?a=1"])
def test_loopback_targets_pass(url: str) -> None:
    assert webhooks.check_url(url, any_host=False) == url


@settings(max_examples=300, deadline=None)
@given(url=st.one_of(st.text(max_size=80),
                     st.builds(lambda scheme, rest: f"{scheme}://{rest}",
                               st.sampled_from(["http", "https", "ftp", "HTTP", ""]),
                               st.text(max_size=60))))
def test_property_any_url_is_accepted_as_loopback_or_refused_with_a_400(url: str) -> None:
    """Whatever the input: a loopback http(s) URL back, or a 400 - never another error."""
    try:
        got = webhooks.check_url(url, any_host=False)
    except ComposioError as exc:
        assert exc.status == 400 and exc.suggested_fix
        return
    parts = urlsplit(got)
    assert parts.scheme.lower() in ("http", "https")
    assert webhooks.is_loopback(parts.hostname or "")


@given(secret=st.text(min_size=1, max_size=40), body=st.binary(max_size=200),
       ts=st.integers(min_value=0, max_value=2**40))
def test_property_signature_is_the_standard_webhooks_hmac(secret: str, body: bytes,
                                                          ts: int) -> None:
    msg = "msg_00000000-0000-4000-8000-000000000000"
    assert webhooks.sign(secret, msg, str(ts), body) == expected_signature(
        secret, msg, str(ts), body)


# -- delivery --------------------------------------------------------------------------------

async def test_expiry_is_delivered_signed_to_the_in_process_receiver(
        api: TestClient[Any, Any], engine: Engine) -> None:
    sub = await subscribe(api, receiver_url(api, engine))
    account_id = active_account(engine)
    expire(engine, account_id)
    ws = engine.project("key-a").webhooks
    await wait_until(lambda: any(d.state == "delivered" for d in ws.deliveries.values()))
    [got] = ws.received
    h = {k.lower(): v for k, v in got.headers.items()}
    payload = json.loads(got.body)
    assert payload["type"] == EXPIRED and payload["id"].startswith("msg_")
    assert h["webhook-id"] == payload["id"]
    assert h["x-composio-webhook-version"] == "V3"
    assert h["x-composio-delivery-attempt"] == "1"
    assert h["webhook-signature"] == expected_signature(sub["secret"], h["webhook-id"],
                                                        h["webhook-timestamp"], got.body)
    assert payload["metadata"]["project_id"] == engine.project("key-a").id
    assert payload["metadata"]["org_id"].startswith("ok_")
    # the envelope of Composio's openapi-webhooks.json: id msg_<uuid>, ISO timestamp
    assert re.fullmatch(r"msg_[0-9a-f-]{36}", payload["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", payload["timestamp"])
    data = payload["data"]
    # data is the connected account as GET /connected_accounts/{id} returns it
    assert contracts.response_problems("connected_accounts.get", 200, data) == []
    assert data["id"] == account_id and data["status"] == "EXPIRED"
    assert data["toolkit"]["slug"] == "gmail" and data["user_id"] == "user-1"
    assert data["auth_config"]["auth_scheme"] == "OAUTH2" and data["status_reason"]
    # the control plane and the journal show it
    seen = await (await api.get("/_mock/webhooks", headers=KEY)).json()
    [d] = seen["deliveries"]
    assert d["state"] == "delivered" and d["attempts"][0]["status"] == 200
    assert d["payload"]["id"] == payload["id"]
    journal = await (await api.get("/_mock/journal?operation=webhook.delivery",
                                   headers=KEY)).json()
    [entry] = journal["entries"]
    assert entry["status"] == 200 and entry["request_id"] == payload["id"]
    # the inspector shows the delivery, and the secret only masked
    view = await (await api.get("/_mock/inspector/data", headers=KEY)).json()
    [tenant] = [t for t in view["tenants"] if t["id"] == payload["metadata"]["project_id"]]
    [shown] = tenant["webhooks"]["deliveries"]
    assert shown["id"] == payload["id"] and shown["state"] == "delivered"
    assert shown["attempts"][0]["status"] == 200
    assert tenant["webhooks"]["subscriptions"][0]["secret"] == sub["secret"][:4] + "..."
    assert sub["secret"] not in json.dumps(view)


async def test_no_subscription_or_event_not_enabled_sends_nothing(
        api: TestClient[Any, Any], engine: Engine) -> None:
    account_id = active_account(engine)
    expire(engine, account_id)
    await subscribe(api, receiver_url(api, engine), events=["composio.trigger.message"])
    other = active_account(engine)
    expire(engine, other)
    await asyncio.sleep(0.1)
    assert engine.project("key-a").webhooks.deliveries == {}
    assert engine.project("key-a").webhooks.received == []


async def test_failed_attempts_are_retried_on_the_virtual_clock_with_the_same_id(
        api: TestClient[Any, Any], engine: Engine) -> None:
    project = engine.project("key-a")
    project.clock.freeze()  # no retry may fall due by itself while the test looks
    await subscribe(api, receiver_url(api, engine))
    project.webhooks.receiver_script = [500, 503]
    expire(engine, active_account(engine))
    [d] = project.webhooks.deliveries.values()
    for n in (1, 2):
        await wait_until(lambda n=n: len(d.attempts) == n and not d.in_flight)
        assert d.state == "pending" and d.next_attempt_at is not None
        assert d.next_attempt_at - project.now() == webhooks.RETRY_DELAYS[n - 1]
        project.advance_clock(webhooks.RETRY_DELAYS[n - 1])
    await wait_until(lambda: d.state == "delivered")
    statuses = [r.status for r in project.webhooks.received]
    assert statuses == [500, 503, 200]
    ids = {r.headers["webhook-id"] for r in project.webhooks.received}
    assert ids == {d.id}
    assert [r.headers["x-composio-delivery-attempt"] for r in project.webhooks.received] == [
        "1", "2", "3"]
    bodies = {r.body for r in project.webhooks.received}
    assert len(bodies) == 1  # identical payload on every attempt


async def test_retries_are_bounded(api: TestClient[Any, Any], engine: Engine) -> None:
    project = engine.project("key-a")
    project.clock.freeze()
    await subscribe(api, receiver_url(api, engine))
    project.webhooks.receiver_script = [500] * webhooks.MAX_ATTEMPTS
    expire(engine, active_account(engine))
    [d] = project.webhooks.deliveries.values()
    for delay in webhooks.RETRY_DELAYS:
        await wait_until(lambda: not d.in_flight and d.attempts and d.attempts[-1].status)
        project.advance_clock(delay)
    await wait_until(lambda: d.state == "failed")
    assert len(d.attempts) == webhooks.MAX_ATTEMPTS and d.next_attempt_at is None
    project.advance_clock(10 * 86400)
    await asyncio.sleep(0.05)
    assert len(d.attempts) == webhooks.MAX_ATTEMPTS


async def test_unreachable_receiver_is_a_logged_failure_then_retried(
        api: TestClient[Any, Any], engine: Engine, unused_tcp_port: int) -> None:
    project = engine.project("key-a")
    project.clock.freeze()
    await subscribe(api, f"http://127.0.0.1:{unused_tcp_port}/nobody-listens")
    expire(engine, active_account(engine))
    [d] = project.webhooks.deliveries.values()
    await wait_until(lambda: d.attempts and d.attempts[0].error is not None)
    assert d.attempts[0].status is None and d.state == "pending"
    assert d.next_attempt_at == project.now() + webhooks.RETRY_DELAYS[0]


async def test_rotated_secret_signs_later_deliveries(api: TestClient[Any, Any],
                                                     engine: Engine) -> None:
    sub = await subscribe(api, receiver_url(api, engine))
    rotated = await (await api.post(f"{V31}/webhook_subscriptions/{sub['id']}/rotate_secret",
                                    headers=KEY)).json()
    expire(engine, active_account(engine))
    ws = engine.project("key-a").webhooks
    await wait_until(lambda: len(ws.received) == 1)
    got = ws.received[0]
    args = (got.headers["webhook-id"], got.headers["webhook-timestamp"], got.body)
    assert got.headers["webhook-signature"] == expected_signature(rotated["secret"], *args)
    assert got.headers["webhook-signature"] != expected_signature(sub["secret"], *args)


async def test_deleting_the_subscription_abandons_pending_retries(
        api: TestClient[Any, Any], engine: Engine) -> None:
    project = engine.project("key-a")
    project.clock.freeze()
    sub = await subscribe(api, receiver_url(api, engine))
    project.webhooks.receiver_script = [500]
    expire(engine, active_account(engine))
    [d] = project.webhooks.deliveries.values()
    await wait_until(lambda: len(d.attempts) == 1 and not d.in_flight)
    assert (await api.delete(f"{V31}/webhook_subscriptions/{sub['id']}",
                             headers=KEY)).status == 200
    project.advance_clock(3600)
    await asyncio.sleep(0.05)
    assert d.state == "abandoned" and len(d.attempts) == 1


def _receiver_answering_after(release: asyncio.Event) -> web.Application:
    """A webhook receiver at ``/hook`` that holds every delivery until ``release`` is set."""
    async def hang(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    app = web.Application()
    app.router.add_post("/hook", hang)
    return app


async def test_a_hanging_receiver_blocks_neither_the_server_nor_other_tenants(
        api: TestClient[Any, Any], engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(webhooks.TIMEOUT_ENV, "3")
    release = asyncio.Event()
    hanging_app = _receiver_answering_after(release)
    slots = webhook_delivery.PER_TENANT
    async with TestServer(hanging_app) as slow:
        a, b = engine.project("key-a"), engine.project("key-b")
        a.clock.freeze()
        await subscribe(api, str(slow.make_url("/hook")))
        await subscribe(api, receiver_url(api, engine, "key-b"), headers=OTHER)
        # more accounts than the tenant's concurrent slots, all made before the first expiry
        accounts = [active_account(engine, "key-a") for _ in range(slots + 2)]
        other = active_account(engine, "key-b")
        for account_id in accounts:
            expire(engine, account_id)
        expire(engine, other, "key-b")
        # the other tenant's delivery arrives while key-a's receiver hangs: before any of
        # key-a's attempts has timed out
        await wait_until(lambda: len(b.webhooks.received) == 1, timeout=10)
        assert not any(at.error for d in a.webhooks.deliveries.values() for at in d.attempts)
        # and the server answers at once
        r = await api.get(f"{V31}/toolkits/github", headers=KEY)
        assert r.status == 200
        assert not any(at.error for d in a.webhooks.deliveries.values() for at in d.attempts)
        # every hanging attempt times out and is logged; nothing is lost
        await wait_until(lambda: all(d.attempts and d.attempts[0].error and not d.in_flight
                                     for d in a.webhooks.deliveries.values()), timeout=20)
        assert len(a.webhooks.deliveries) == slots + 2
        for d in a.webhooks.deliveries.values():
            assert "no answer within 3s" in (d.attempts[0].error or "")
            assert d.state == "pending" and d.next_attempt_at is not None
        release.set()
    # nothing is left behind per tenant once the attempts are over
    assert api.server.app[webhook_delivery.DISPATCHER_KEY].outstanding() == {}


async def test_control_plane_scripts_the_receiver(api: TestClient[Any, Any],
                                                  engine: Engine) -> None:
    r = await api.post("/_mock/webhooks/receiver", headers=KEY, json={"statuses": [500]})
    assert r.status == 200 and (await r.json())["script"] == [500]
    seen = await (await api.get("/_mock/webhooks", headers=KEY)).json()
    assert seen["receiver"]["url"].endswith(f"/_mock/webhooks/receiver/"
                                            f"{engine.project('key-a').id}")
    assert seen["receiver"]["script"] == [500]
    r = await api.post(f"/_mock/webhooks/receiver/{engine.project('key-a').id}", data=b"{}",
                       headers={"webhook-id": "msg_x"})
    assert r.status == 500 and await r.text() == "scripted failure"
    seen = await (await api.get("/_mock/webhooks", headers=KEY)).json()
    [got] = seen["receiver"]["requests"]
    assert got["body"] == "{}" and got["status"] == 500 and got["headers"]["webhook-id"] == "msg_x"
    assert seen["receiver"]["script"] == []
    r = await api.post("/_mock/webhooks/receiver/pr_nobody", data=b"{}")
    assert r.status == 404


# -- the official SDK ------------------------------------------------------------------------

class App:
    """An app's webhook endpoint, as its own aiohttp server: verifies every delivery with the
    official SDK and records what it understood."""

    def __init__(self, composio: Any, secret: str, fail_first: int = 0) -> None:
        self.composio = composio
        self.secret = secret
        self.fail_first = fail_first
        self.calls: list[dict[str, str]] = []
        self.expired: list[dict[str, Any]] = []
        self.rejected: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        from composio.core.models.webhook_events import is_connection_expired_event
        from composio.exceptions import WebhookSignatureVerificationError

        raw = await request.read()
        self.calls.append(dict(request.headers))
        if len(self.calls) <= self.fail_first:
            return web.Response(status=500, text="not yet")
        try:
            result = self.composio.triggers.parse(body=raw, headers=request.headers,
                                                  verify_secret=self.secret)
        except WebhookSignatureVerificationError as exc:
            self.rejected.append(str(exc))
            return web.Response(status=401, text="bad signature")
        event = result["raw_payload"]
        if is_connection_expired_event(event):
            self.expired.append(event)
        return web.Response(text="ok")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/composio", self.handle)
        return app


def connect(sdk: Any, tenant: Tenant) -> str:
    ac = sdk.auth_configs.create(toolkit="gmail", options={"type": "use_composio_managed_auth"})
    request = sdk.connected_accounts.link(user_id="user-7", auth_config_id=ac.id,
                                          callback_url="https://myapp.example/cb")
    assert tenant.consent.complete(request.redirect_url).status == "success"
    return str(request.id)


@pytest.mark.sdk
async def test_sdk_subscribes_and_the_app_verifies_the_expiry(
        sdk: Any, mock_composio: Tenant, composio_webhooks: Any) -> None:
    from composio.core.models.webhooks import WebhookVersion

    types = sdk.webhooks.subscriptions.list_event_types()
    assert EXPIRED in {t.event_type for t in types.items}
    app = App(sdk, secret="")
    async with TestServer(app.app()) as server:
        url = str(server.make_url("/webhooks/composio"))
        sub = sdk.webhooks.subscriptions.set(webhook_url=url, enabled_events=[EXPIRED],
                                             version=WebhookVersion.V3)
        assert sub["id"].startswith("whs_") and sub["webhook_url"] == url
        assert sdk.webhooks.subscriptions.get(sub["id"]).secret == sub["secret"]
        assert [s.id for s in sdk.webhooks.subscriptions.list().items] == [sub["id"]]
        app.secret = composio_webhooks.secret
        assert app.secret == sub["secret"]
        account_id = connect(sdk, mock_composio)
        mock_composio.fault(preset="token_refresh_failure")
        mock_composio.clock.expire_token(account_id)  # the refresh fails for good
        assert sdk.connected_accounts.get(account_id).status == "EXPIRED"
        await composio_webhooks.async_wait_for(delivered=1)
    [event] = app.expired
    assert event["type"] == EXPIRED and event["data"]["id"] == account_id
    assert event["data"]["toolkit"]["slug"] == "gmail"
    assert event["metadata"]["project_id"] == mock_composio.project.id
    # the app got exactly what the delivery log says was sent
    [d] = composio_webhooks.deliveries
    assert d.id == event["id"] == app.calls[0]["webhook-id"]


@pytest.mark.sdk
async def test_sdk_rotated_secret_makes_the_old_one_fail(
        sdk: Any, mock_composio: Tenant, composio_webhooks: Any) -> None:
    sub = sdk.webhooks.subscriptions.set(webhook_url=composio_webhooks.receiver_url,
                                         enabled_events=[EXPIRED])
    old = sub["secret"]
    new = sdk.webhooks.subscriptions.rotate_secret(sub["id"]).secret
    assert new != old and composio_webhooks.secret == new
    expire_via_revocation(sdk, mock_composio)
    composio_webhooks.wait_for(delivered=1)
    [got] = composio_webhooks.received
    verify = {"id": got.headers["webhook-id"], "payload": got.body.decode(),
              "signature": got.headers["webhook-signature"],
              "timestamp": got.headers["webhook-timestamp"]}
    result = sdk.triggers.verify_webhook(secret=new, **verify)
    assert result["version"] == "V3" and result["raw_payload"]["type"] == EXPIRED
    assert result["payload"]["trigger_slug"] == EXPIRED
    from composio.exceptions import WebhookSignatureVerificationError

    with pytest.raises(WebhookSignatureVerificationError):
        sdk.triggers.verify_webhook(secret=old, **verify)


def expire_via_revocation(sdk: Any, tenant: Tenant) -> str:
    """The user revokes the app at the provider: the next refresh fails with invalid_grant."""
    account_id = connect(sdk, tenant)
    account = tenant.account(account_id)
    assert account.token is not None and account.token.refresh_token
    tenant.project.provider.revoke_token(account.token.refresh_token)
    tenant.clock.expire_token(account_id)
    assert tenant.account(account_id).status == "EXPIRED"
    return account_id


@pytest.mark.sdk
async def test_sdk_handler_answering_500_twice_gets_it_on_the_third_attempt(
        sdk: Any, mock_composio: Tenant, composio_webhooks: Any) -> None:
    mock_composio.clock.freeze()
    app = App(sdk, secret="", fail_first=2)
    async with TestServer(app.app()) as server:
        sub = sdk.webhooks.subscriptions.set(
            webhook_url=str(server.make_url("/webhooks/composio")),
            enabled_events=["composio.trigger.message", EXPIRED])
        app.secret = sub["secret"]
        expire_via_revocation(sdk, mock_composio)
        await composio_webhooks.async_wait_for(attempts=1, delivered=None)
        await composio_webhooks.async_run_retry()  # +5 s on the virtual clock
        await composio_webhooks.async_run_retry()  # +5 min
        await composio_webhooks.async_wait_for(delivered=1)
    assert [c["x-composio-delivery-attempt"] for c in app.calls] == ["1", "2", "3"]
    assert len({c["webhook-id"] for c in app.calls}) == 1
    [event] = app.expired
    assert event["id"] == app.calls[0]["webhook-id"] and not app.rejected


@pytest.mark.sdk
def test_sdk_subscription_calls_and_their_errors(sdk: Any, mock_composio: Tenant) -> None:
    from composio_client import BadRequestError, ConflictError, NotFoundError

    subs = sdk.webhooks.subscriptions
    first = subs.set(webhook_url="http://127.0.0.1:8000/a")  # default: trigger messages
    assert first["enabled_events"] == ["composio.trigger.message"]
    second = subs.set(webhook_url="http://localhost:8000/b", enabled_events=[EXPIRED])
    assert second["id"] == first["id"]  # set() updates the one subscription
    assert second["webhook_url"] == "http://localhost:8000/b"
    updated = subs.update(first["id"], enabled_events=[EXPIRED, "composio.trigger.message"])
    assert updated.enabled_events == [EXPIRED, "composio.trigger.message"]
    with pytest.raises(ConflictError):
        sdk.client.webhook_subscriptions.create(webhook_url="http://127.0.0.1:1/x",
                                                enabled_events=[EXPIRED])
    with pytest.raises(BadRequestError, match="loopback"):
        subs.update(first["id"], webhook_url="https://attacker.example/steal")
    with pytest.raises(BadRequestError, match="Unknown event type"):
        subs.update(first["id"], enabled_events=["composio.account.deleted"])
    assert subs.delete(first["id"]).success is True
    with pytest.raises(NotFoundError):
        subs.get(first["id"])


@pytest.mark.slow
def test_live_server_without_requests_still_retries() -> None:
    """A server nobody calls: the ticker applies due retries on its own (the unfrozen virtual
    clock follows real time, so the 5 s retry comes about 5 s later)."""
    with LiveServer(Engine()) as server:
        tenant = Tenant(server.engine, "k", server.base_url)
        hooks = tenant.webhooks
        hooks.subscribe()
        hooks.respond_with(500)
        account = tenant.add_account("gmail", "u")
        tenant.fault(preset="token_refresh_failure")
        tenant.clock.expire_token(account.id)
        [d] = hooks.wait_for(delivered=1, timeout=webhooks.RETRY_DELAYS[0] + 10)
        assert [a.status for a in d.attempts] == [500, 200]


def test_subscriptions_survive_a_state_snapshot() -> None:
    from mockcomposio import snapshot

    engine = Engine(seed=3)
    project = engine.project("k")
    sub = webhooks.create(project, webhook_url="http://127.0.0.1:9/h", enabled_events=[EXPIRED])
    doc = snapshot.export_engine(engine)
    redacted = snapshot.export_engine(engine, secrets=False)
    assert redacted["tenants"][0]["webhook_subscriptions"][0]["secret"] == "REDACTED"
    fresh = Engine(seed=3)
    snapshot.import_snapshot(fresh, json.loads(json.dumps(doc)))
    restored = fresh.project("k").webhooks.subscriptions[sub.id]
    assert restored == sub


def test_fixture_subscribe_wait_and_retry(mock_composio: Tenant, composio_webhooks: Any) -> None:
    """The plugin's composio_webhooks without the SDK: in-process receiver, scripted failure,
    a retry run on the virtual clock, and a timeout that says what it saw."""
    from mockcomposio.testing.webhooks import WebhookTimeout

    with pytest.raises(LookupError, match="no webhook subscription"):
        _ = composio_webhooks.secret
    mock_composio.clock.freeze()
    sub = composio_webhooks.subscribe()
    assert sub.webhook_url == composio_webhooks.receiver_url
    assert composio_webhooks.subscribe(events=[EXPIRED, "composio.trigger.message"]).id == sub.id
    composio_webhooks.respond_with(502)
    account = mock_composio.add_account("gmail", "user-9")
    mock_composio.fault(preset="token_refresh_failure")
    mock_composio.clock.expire_token(account.id)
    composio_webhooks.wait_for(attempts=1, delivered=None)
    with pytest.raises(WebhookTimeout, match="502"):
        composio_webhooks.wait_for(delivered=1, timeout=0.2)
    assert composio_webhooks.next_retry_in() == pytest.approx(webhooks.RETRY_DELAYS[0])
    composio_webhooks.run_retry()
    [d] = composio_webhooks.wait_for(delivered=1)
    assert [a.status for a in d.attempts] == [502, 200]
    [event] = composio_webhooks.events()
    assert event["id"] == d.id and event["data"]["user_id"] == "user-9"
    last = composio_webhooks.received[-1]
    assert last.headers["webhook-signature"] == expected_signature(
        composio_webhooks.secret, d.id, last.headers["webhook-timestamp"], last.body)
    assert composio_webhooks.next_retry_in() is None
    with pytest.raises(LookupError):
        composio_webhooks.run_retry()
    [entry] = [e for e in mock_composio.journal(operation="webhook.delivery") if e.status == 200]
    assert entry.request_id == d.id


async def test_a_full_queue_logs_the_attempt_as_failed_and_retries_it(
        api: TestClient[Any, Any], engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook_delivery, "MAX_WAITING", 2)
    release = asyncio.Event()
    slow_app = _receiver_answering_after(release)
    async with TestServer(slow_app) as slow:
        project = engine.project("key-a")
        project.clock.freeze()
        await subscribe(api, str(slow.make_url("/hook")))
        accounts = [active_account(engine) for _ in range(5)]
        for account_id in accounts:
            expire(engine, account_id)
        ds = list(project.webhooks.deliveries.values())
        assert len(ds) == 5  # every event is in the log

        def full() -> list[webhooks.Delivery]:
            return [d for d in ds if d.attempts and
                    "queue for this tenant is full" in (d.attempts[0].error or "")]

        await wait_until(lambda: len(full()) == 3)
        assert all(d.state == "pending" and d.next_attempt_at is not None for d in full())
        release.set()  # the two outstanding attempts get their answer
        await wait_until(lambda: sum(d.state == "delivered" for d in ds) == 2)


async def test_redirects_are_not_followed(api: TestClient[Any, Any], engine: Engine) -> None:
    hits: list[str] = []

    async def moved(request: web.Request) -> web.Response:
        hits.append(request.path)
        raise web.HTTPTemporaryRedirect("http://169.254.169.254/latest/meta-data")

    app = web.Application()
    app.router.add_post("/hook", moved)
    async with TestServer(app) as server:
        project = engine.project("key-a")
        project.clock.freeze()
        await subscribe(api, str(server.make_url("/hook")))
        expire(engine, active_account(engine))
        [d] = project.webhooks.deliveries.values()
        await wait_until(lambda: bool(d.attempts) and not d.in_flight)
    assert hits == ["/hook"] and d.attempts[0].status == 307 and d.state == "pending"


_FIELD_VALUES = {
    "webhook_url": st.one_of(st.sampled_from([
        "http://127.0.0.1:1/a", "http://localhost/b", "https://example.com/c", "ftp://127.0.0.1/",
        "http://[::1]/d", "", "http://user@127.0.0.1/"]), st.text(max_size=30), st.integers(),
        st.none()),
    "enabled_events": st.one_of(
        st.lists(st.sampled_from([EXPIRED, "composio.trigger.message",
                                  "composio.trigger.disabled", "composio.nope"]), max_size=4),
        st.text(max_size=10), st.none()),
    "version": st.one_of(st.sampled_from(["V1", "V2", "V3", "v3", ""]), st.integers(), st.none()),
}


@settings(max_examples=150, deadline=None)
@given(updates=st.lists(st.fixed_dictionaries({}, optional=_FIELD_VALUES), max_size=6))
def test_property_updates_apply_whole_or_not_at_all(updates: list[dict[str, Any]]) -> None:
    """Any sequence of updates: each either applies and leaves a valid subscription, or is a
    4xx that leaves it exactly as it was."""
    project = Engine(seed=5).project("k")
    sub = webhooks.create(project, webhook_url="http://127.0.0.1:9/h", enabled_events=[EXPIRED])
    for body in updates:
        before = webhooks.render(project, sub)
        try:
            webhooks.update(project, sub.id, body)
        except ComposioError as exc:
            assert 400 <= exc.status < 500
            assert webhooks.render(project, sub) == before
            continue
        assert webhooks.is_loopback(urlsplit(sub.webhook_url).hostname or "")
        assert sub.version in webhooks.VERSIONS and sub.enabled_events
        assert len(set(sub.enabled_events)) == len(sub.enabled_events)
    assert len(webhooks.list_subscriptions(project)) == 1


@pytest.mark.parametrize("allow", [False, True])
def test_serve_flag_widens_webhook_targets(allow: bool) -> None:
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    args = [sys.executable, "-m", "mockcomposio", "serve", "--port", "0"]
    proc = subprocess.Popen(args + (["--webhook-allow-any-host"] if allow else []),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()

        def create(url: str) -> int:
            request = urllib.request.Request(
                f"{base_url}/api/v3.1/webhook_subscriptions", method="POST",
                headers={"x-api-key": f"cli-{url}", "content-type": "application/json"},
                data=json.dumps({"webhook_url": url, "enabled_events": [EXPIRED]}).encode())
            try:
                with urllib.request.urlopen(request, timeout=5) as resp:
                    return int(resp.status)
            except urllib.error.HTTPError as exc:
                return int(exc.code)

        assert create("https://hooks.example.com/composio") == (201 if allow else 400)
        assert create("https://backend.composio.dev/hooks") == 400  # never Composio's
        assert create("http://127.0.0.1:9/hooks") == 201
    finally:
        proc.terminate()
        proc.wait(10)


async def test_seed_declares_the_webhook_subscription(api: TestClient[Any, Any],
                                                      engine: Engine) -> None:
    r = await api.post("/_mock/seed", headers=KEY, json={
        "webhook_subscription": {"webhook_url": "http://127.0.0.1:9/hooks"}})
    assert r.status == 200, await r.text()
    made = (await r.json())["webhook_subscription"]
    [sub] = engine.project("key-a").webhooks.subscriptions.values()
    assert made == {"id": sub.id, "secret": sub.secret}
    assert sub.enabled_events == [EXPIRED] and sub.version == "V3"
    r = await api.post("/_mock/seed", headers=KEY, json={
        "webhook_subscription": {"webhook_url": "https://example.com/hooks"}})
    assert r.status == 400
    assert "webhook_subscription" in (await r.json())["error"]["message"]
    assert engine.project("key-a").webhooks.subscriptions == {sub.id: sub}
