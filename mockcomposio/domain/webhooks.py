"""Webhook subscriptions and the connection-expired event, as the real API has them.

- One subscription per project (``POST /webhook_subscriptions`` answers 409 on a second one),
  with ``webhook_url``, ``enabled_events``, ``version`` and a signing ``secret``
  (``whsec_…``) that ``rotate_secret`` replaces.
- ``composio.connected_account.expired`` (V3 payloads only) is emitted when an account's
  authentication refresh fails for good (refresh token revoked or expired, too many failed
  refreshes): :func:`emit_expired`. Each matching subscription gets a :class:`Delivery` in the
  tenant's delivery log; the HTTP side (``mockcomposio.webhook_delivery``) sends the attempts.
- Attempts are signed per the Standard Webhooks scheme Composio uses: ``webhook-signature`` =
  ``v1,`` + base64 HMAC-SHA256 of ``{webhook-id}.{webhook-timestamp}.{raw body}``.
- A failed attempt is retried after :data:`RETRY_DELAYS` on the tenant's virtual clock, so a
  test moves the clock instead of sleeping; after :data:`MAX_ATTEMPTS` the delivery fails.
- Targets: by default only loopback addresses and ``localhost`` (a test fake must not post
  to the internet); :func:`allow_any_host` widens that. Composio's own hosts are never valid.

Nothing here knows aiohttp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from ..errors import ComposioError, bad_request
from ..netguard import is_composio_host

if TYPE_CHECKING:
    from .models import ConnectedAccount
    from .project import Project

CONNECTION_EXPIRED = "composio.connected_account.expired"
TRIGGER_MESSAGE = "composio.trigger.message"
TRIGGER_DISABLED = "composio.trigger.disabled"
VERSIONS = ("V1", "V2", "V3")

# GET /webhook_subscriptions/event_types: the events of Composio's webhook-events reference.
# The expired event exists only in V3 payloads (the expiry-events guide says so).
EVENT_TYPES: list[dict[str, Any]] = [
    {"event_type": TRIGGER_MESSAGE,
     "description": "A trigger fired and delivered its payload.",
     "supported_versions": ["V1", "V2", "V3"]},
    {"event_type": CONNECTION_EXPIRED,
     "description": "Fired when a connected account expires and needs re-authentication.",
     "supported_versions": ["V3"]},
    {"event_type": TRIGGER_DISABLED,
     "description": "Fired when Composio automatically disables a trigger (for example, auth "
                    "expired or the webhook subscription can no longer be refreshed).",
     "supported_versions": ["V3"]},
]
_SUPPORTED = {e["event_type"]: e["supported_versions"] for e in EVENT_TYPES}

MAX_URL_LENGTH = 2048  # the reference's maxLength of webhook_url
# Seconds (virtual clock) after attempt n fails before attempt n+1: the Standard Webhooks
# schedule's first steps (Composio publishes none of its own); bounded at MAX_ATTEMPTS.
RETRY_DELAYS: tuple[float, ...] = (5, 300, 1800, 7200, 18000)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DEADLINE_KIND = "webhook"
ALLOW_ANY_HOST_ENV = "MOCKCOMPOSIO_WEBHOOK_ALLOW_ANY_HOST"
TIMEOUT_ENV = "MOCKCOMPOSIO_WEBHOOK_TIMEOUT"
DEFAULT_TIMEOUT = 10.0
# Receiver answers kept per attempt (the log is for reading, not for archiving bodies).
MAX_RESPONSE_CHARS = 500

PENDING, DELIVERED, FAILED, ABANDONED = "pending", "delivered", "failed", "abandoned"


@dataclass
class Subscription:
    id: str
    webhook_url: str
    version: str
    enabled_events: list[str]
    secret: str
    created_at: float
    updated_at: float


@dataclass
class Attempt:
    number: int
    at: float  # virtual clock
    wall_time: float
    timestamp: str  # the webhook-timestamp header sent
    status: int | None = None  # the receiver's HTTP status; None: no answer
    error: str | None = None
    duration_ms: float = 0.0
    response: str = ""


@dataclass
class Delivery:
    id: str  # msg_<uuid>: the payload id and the webhook-id header, stable across retries
    event_type: str
    subscription_id: str
    url: str
    version: str
    body: bytes
    created_at: float
    account_id: str | None = None
    state: str = PENDING
    attempts: list[Attempt] = field(default_factory=list)
    next_attempt_at: float | None = None
    in_flight: bool = False

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Received:
    """A request the in-process receiver (``POST /_mock/webhooks/receiver/{project}``) got."""

    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered
    wall_time: float


class WebhookState:
    """A tenant's subscriptions, its delivery log (complete: never trimmed), and its in-process
    receiver (what it received and the statuses it is scripted to answer)."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, Subscription] = {}
        self.deliveries: dict[str, Delivery] = {}
        self.received: list[Received] = []
        self.receiver_script: list[int] = []
        self.receiver_default = 200
        # Bumped after every finished attempt and every receipt: waiters poll it.
        self.version = 0


def state(project: Project) -> WebhookState:
    return project.webhooks


# -- settings ----------------------------------------------------------------------------------

def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def allow_any_host(project: Project | None = None) -> bool:
    """Non-loopback targets allowed: the env variable, or ``serve --webhook-allow-any-host``
    (``Engine.webhook_allow_any_host``)."""
    engine = getattr(project, "engine_hooks", None) if project is not None else None
    return bool(getattr(engine, "webhook_allow_any_host", False)) or _truthy(
        os.environ.get(ALLOW_ANY_HOST_ENV))


def delivery_timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        value = DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT


# -- validation --------------------------------------------------------------------------------

def _invalid(message: str, fix: str) -> ComposioError:
    return bad_request(message, slug="WebhookSubscription_InvalidRequest",
                       suggested_fix=fix)


def check_url(url: Any, *, any_host: bool) -> str:
    """The webhook_url, or a 400 saying what is wrong with it."""
    if not isinstance(url, str) or not url.strip():
        raise _invalid("webhook_url must be a non-empty URL.",
                       "Send the URL your app receives webhooks on, e.g. "
                       "http://127.0.0.1:8080/webhooks/composio.")
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"webhook_url is {len(url)} characters long; the limit is "
                       f"{MAX_URL_LENGTH}.", "Use a shorter URL.")
    if url != url.strip() or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise _invalid("webhook_url contains whitespace or control characters.",
                       "Send the URL without spaces, tabs or newlines (percent-encode them).")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _invalid(f"webhook_url is not a valid URL: {exc}.",
                       "Send an absolute http(s) URL.") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise _invalid(f"webhook_url must be an http or https URL, not "
                       f"{parts.scheme or 'a relative URL'}.",
                       "Webhooks are delivered with HTTP POST: use https://… (or "
                       "http://127.0.0.1:… for a local receiver).")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise _invalid("webhook_url has no host.", "Send an absolute URL with a host.")
    if parts.username is not None or parts.password is not None:
        raise _invalid("webhook_url must not carry credentials (user:password@).",
                       "Remove the credentials; verify deliveries with the signing secret.")
    if port == 0:
        raise _invalid("webhook_url has port 0.", "Use the port your receiver listens on.")
    if is_composio_host(host):
        raise _invalid(f"webhook_url points at Composio's own host {host}; mockcomposio never "
                       "sends anything to Composio.",
                       "Point the subscription at your app's receiver.")
    if not any_host and not is_loopback(host):
        raise _invalid(
            f"webhook_url host {host} is not a loopback address; mockcomposio delivers only to "
            "127.0.0.0/8, ::1 and localhost unless told otherwise.",
            f"Use a local receiver (e.g. an aiohttp test server), or start the fake with "
            f"{ALLOW_ANY_HOST_ENV}=1 (serve --webhook-allow-any-host).")
    return url


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP literal. No other name: what a name resolves to is up to
    DNS, and the rule must hold at delivery time too."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_events(events: Any, version: str) -> list[str]:
    if not isinstance(events, list) or not events:
        raise _invalid("enabled_events must be a non-empty list of event types.",
                       "Send e.g. [\"composio.connected_account.expired\"]; "
                       "GET /api/v3.1/webhook_subscriptions/event_types lists them.")
    out: list[str] = []
    unknown = [e for e in events if not isinstance(e, str) or e not in _SUPPORTED]
    if unknown:
        raise ComposioError(
            400, "WebhookSubscription_InvalidEventType",
            f"Unknown event type(s): {', '.join(repr(e) for e in unknown[:5])}.",
            suggested_fix="Use event types from GET /api/v3.1/webhook_subscriptions/event_types: "
            + ", ".join(_SUPPORTED) + ".",
            errors=[f"enabled_events: unknown event type {e!r}" for e in unknown[:20]])
    for e in events:
        if version not in _SUPPORTED[e]:
            raise _invalid(f"Event {e} is not available with {version} payloads (only "
                           f"{', '.join(_SUPPORTED[e])}).",
                           "Use version V3, or leave the event out.")
        if e not in out:
            out.append(e)
    return out


def check_version(version: Any) -> str:
    if version not in VERSIONS:
        raise _invalid(f"version must be one of {', '.join(VERSIONS)}.", "Send \"V3\".")
    return str(version)


# -- subscriptions -----------------------------------------------------------------------------

def not_found(subscription_id: str) -> ComposioError:
    return ComposioError(
        404, "WebhookSubscription_NotFound",
        f"Webhook subscription {subscription_id} not found",
        suggested_fix="Check the id (whs_…) and that it belongs to the project of this API key; "
        "list them with GET /api/v3.1/webhook_subscriptions.")


def _new_secret(project: Project) -> str:
    return project.ids.secret("whsec_", 32)


def create(project: Project, *, webhook_url: Any, enabled_events: Any,
           version: Any = None) -> Subscription:
    ws = state(project)
    version = check_version("V3" if version is None else version)
    url = check_url(webhook_url, any_host=allow_any_host(project))
    events = check_events(enabled_events, version)
    if ws.subscriptions:
        existing = next(iter(ws.subscriptions))
        raise ComposioError(
            409, "WebhookSubscription_AlreadyExists",
            f"This project already has a webhook subscription ({existing}); only one is "
            "allowed per project.",
            suggested_fix=f"Update it with PATCH /api/v3.1/webhook_subscriptions/{existing}, or "
            "delete it first (the SDK's webhooks.subscriptions.set() does the update for you).")
    now = project.now()
    sub = Subscription(project.ids.new("whs"), url, version, events, _new_secret(project),
                       now, now)
    ws.subscriptions[sub.id] = sub
    return sub


def get(project: Project, subscription_id: str) -> Subscription:
    sub = state(project).subscriptions.get(subscription_id)
    if sub is None:
        raise not_found(subscription_id)
    return sub


def list_subscriptions(project: Project) -> list[Subscription]:
    return list(state(project).subscriptions.values())


def update(project: Project, subscription_id: str, body: dict[str, Any]) -> Subscription:
    sub = get(project, subscription_id)
    if not any(k in body for k in ("webhook_url", "enabled_events", "version")):
        raise _invalid("Nothing to update: send at least one of webhook_url, enabled_events, "
                       "version.", "Add the field(s) to change.")
    # Everything is checked before anything changes: bad input never half-applies.
    version = check_version(body["version"]) if "version" in body else sub.version
    url = check_url(body["webhook_url"], any_host=allow_any_host(project)) \
        if "webhook_url" in body else sub.webhook_url
    events = check_events(body.get("enabled_events", sub.enabled_events), version)
    sub.webhook_url, sub.version, sub.enabled_events = url, version, events
    sub.updated_at = project.now()
    return sub


def delete(project: Project, subscription_id: str) -> Subscription:
    sub = get(project, subscription_id)
    del state(project).subscriptions[subscription_id]
    for d in state(project).deliveries.values():  # nothing more goes to a deleted target
        if d.subscription_id == subscription_id and d.state == PENDING and not d.in_flight:
            d.state, d.next_attempt_at = ABANDONED, None
    return sub


def rotate_secret(project: Project, subscription_id: str) -> Subscription:
    sub = get(project, subscription_id)
    sub.secret = _new_secret(project)
    sub.updated_at = project.now()
    return sub


def render(project: Project, sub: Subscription, *, full_secret: bool = True) -> dict[str, Any]:
    """``full_secret=False``: the v3 API's reads, which mask the secret ("full secret only on
    create/rotate"); v3.1 returns it in every response."""
    from .render import mask

    return {"id": sub.id, "webhook_url": sub.webhook_url, "version": sub.version,
            "enabled_events": list(sub.enabled_events),
            "secret": sub.secret if full_secret else mask(sub.secret),
            "created_at": project.clock.iso(sub.created_at),
            "updated_at": project.clock.iso(sub.updated_at)}


# -- events and deliveries ---------------------------------------------------------------------

def org_id(project: Project) -> str:
    """A stable organization id for the project (the fake has no organizations)."""
    return "ok_" + hashlib.sha256(project.id.encode()).hexdigest()[:12]


def emit_expired(project: Project, account: ConnectedAccount) -> list[Delivery]:
    """The account just expired for good: queue ``composio.connected_account.expired``."""
    from . import render as render_mod

    return emit(project, CONNECTION_EXPIRED, render_mod.connected_account(project, account),
                {"project_id": project.id, "org_id": org_id(project)}, account_id=account.id)


def emit(project: Project, event_type: str, data: dict[str, Any], metadata: dict[str, Any],
         *, account_id: str | None = None) -> list[Delivery]:
    ws = state(project)
    out: list[Delivery] = []
    for sub in ws.subscriptions.values():
        if event_type not in sub.enabled_events:
            continue
        msg_id = f"msg_{project.ids.uuid()}"
        now = project.now()
        payload = {"id": msg_id, "type": event_type, "timestamp": project.clock.iso(now),
                   "metadata": metadata, "data": data}
        d = Delivery(msg_id, event_type, sub.id, sub.webhook_url, sub.version,
                     orjson.dumps(payload), now, account_id=account_id, next_attempt_at=now)
        ws.deliveries[d.id] = d
        out.append(d)
        _submit(project, d)
    return out


def _submit(project: Project, d: Delivery) -> None:
    sink = getattr(project.engine_hooks, "webhook_sink", None)
    if sink is not None:
        d.in_flight = True
        sink(project, d)


def retry_due(project: Project, delivery_id: str, when: float) -> None:
    """Deadline handler: a retry of ``delivery_id`` fell due on the virtual clock."""
    d = state(project).deliveries.get(delivery_id)
    if d is None or d.state != PENDING or d.in_flight or d.next_attempt_at is None \
            or d.next_attempt_at > when:
        return
    _submit(project, d)


def install(project: Project) -> None:
    project.on_deadline(DEADLINE_KIND, retry_due)


def sign(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{msg_id}.{timestamp}.".encode() + body,
                   hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def prepare_attempt(project: Project, d: Delivery) -> tuple[str, dict[str, str]] | None:
    """Under the project's lock: the URL and headers of ``d``'s next attempt (signed with the
    subscription's current secret), or None when it must not be sent (subscription gone)."""
    sub = state(project).subscriptions.get(d.subscription_id)
    if sub is None:
        d.state, d.next_attempt_at, d.in_flight = ABANDONED, None, False
        return None
    # Unix seconds of the real clock: receivers check it against their own clock (the SDK
    # allows 300 s), which the tenant's virtual clock may be far from.
    timestamp = str(int(time.time()))
    d.url = sub.webhook_url  # retries follow the subscription if its URL changed
    number = len(d.attempts) + 1
    d.attempts.append(Attempt(number, project.now(), time.time(), timestamp))
    headers = {
        "content-type": "application/json",
        "user-agent": "mockcomposio-webhooks",
        "webhook-id": d.id,
        "webhook-timestamp": timestamp,
        "webhook-signature": sign(sub.secret, d.id, timestamp, d.body),
        "x-composio-webhook-version": d.version,
        "x-composio-delivery-attempt": str(number),
    }
    return sub.webhook_url, headers


def finish_attempt(project: Project, d: Delivery, *, status: int | None, error: str | None,
                   duration_ms: float, response: str = "") -> Attempt:
    """Under the project's lock: record the outcome; schedule the retry or settle."""
    attempt = d.attempts[-1]
    attempt.status, attempt.error, attempt.duration_ms = status, error, duration_ms
    attempt.response = response[:MAX_RESPONSE_CHARS]
    d.in_flight = False
    if d.state == PENDING:
        if status is not None and 200 <= status < 300:
            d.state, d.next_attempt_at = DELIVERED, None
        elif attempt.number >= MAX_ATTEMPTS:
            d.state, d.next_attempt_at = FAILED, None
        else:
            d.next_attempt_at = project.now() + RETRY_DELAYS[attempt.number - 1]
            project.schedule(d.next_attempt_at, DEADLINE_KIND, d.id)
    state(project).version += 1
    return attempt


def delivery_json(project: Project, d: Delivery, *, body: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.id, "event_type": d.event_type, "subscription_id": d.subscription_id,
        "url": d.url, "version": d.version, "state": d.state,
        "connected_account_id": d.account_id,
        "created_at": project.clock.iso(d.created_at),
        "next_attempt_at": None if d.next_attempt_at is None
        else project.clock.iso(d.next_attempt_at),
        "attempts": [{"number": a.number, "at": project.clock.iso(a.at),
                      "webhook_timestamp": a.timestamp, "status": a.status, "error": a.error,
                      "duration_ms": round(a.duration_ms, 2), "response": a.response}
                     for a in d.attempts],
    }
    if body:
        out["payload"] = d.payload
    return out


# -- the in-process receiver -------------------------------------------------------------------

def receive(project: Project, headers: dict[str, str], body: bytes) -> int:
    """The in-process receiver got a request: record it, answer the scripted status."""
    ws = state(project)
    status = ws.receiver_script.pop(0) if ws.receiver_script else ws.receiver_default
    ws.received.append(Received(headers, body, status, time.time()))
    ws.version += 1
    return status
