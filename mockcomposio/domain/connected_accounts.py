"""Connected accounts and their lifecycle: initiate, link, the OAuth round trip, refresh,
enable/disable, revoke, delete, and the timers that expire links and refresh tokens.

Rules in one place:
- every *new* connection passes ``auth_configs.require_usable`` (a DISABLED config refuses);
- non-OAuth schemes go ACTIVE at once when the required initiation fields are present;
- Composio-managed OAuth configs can't use ``POST /connected_accounts`` (retired; use link);
- a link not completed within 10 minutes expires the account (``INITIATION_TIMEOUT``);
- a link opened before its config was disabled never produces an ACTIVE account: the callback
  marks the account FAILED with "Auth config is disabled";
- scopes requested are fixed when the connection starts: later scope updates on the auth config
  affect only connections started after them;
- access tokens are refreshed at expiry on the virtual clock; a refresh the provider refuses
  marks the account EXPIRED.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import itertools
import re
import sys
import unicodedata
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import ComposioError, bad_request, connected_account_not_found
from . import auth_configs, credentials, webhooks
from .catalogue import AuthSchemeSpec, Toolkit
from .journal import record_in_process
from .models import (
    ACCOUNT_STATUSES,
    ACTIVE,
    AUTH_SESSION_LIFETIME_SECONDS,
    EMPTY,
    EXPIRED,
    FAILED,
    INACTIVE,
    INITIATED,
    LINK_LIFETIME_SECONDS,
    PENDING_STATUSES,
    REASON_AUTH_CONFIG_DISABLED,
    REASON_AUTHORIZATION_FAILED,
    REASON_CALLBACK_FAILED,
    REASON_CONSENT_DENIED,
    REASON_INITIATION_TIMEOUT,
    REASON_MAX_AUTH_FAILURES,
    REASON_REFRESH_PERMANENT,
    REASON_REVOKED_BY_USER,
    REASON_REVOKED_ON_DELETE,
    REASON_USER_UPDATE,
    REVOKED,
    AuthConfig,
    AuthSession,
    ConnectedAccount,
    Link,
    TokenState,
    terminal_val,
)
from .project import Project

if TYPE_CHECKING:
    from .provider import OAuthApp

# Callback URLs of the real backend: a custom app registered with one of these is pointed at
# this fake's own callback instead, so the flow stays offline.
COMPOSIO_CALLBACK_HOSTS = ("backend.composio.dev", "staging-backend.composio.dev")
CALLBACK_PATH_V31 = "/api/v3.1/toolkits/auth/callback"
CALLBACK_PATH_V3 = "/api/v3/toolkits/auth/callback"
MAX_REFRESH_FAILURES = 3
SUPERSEDED = ("A newer link was issued for this connection (it was refreshed); only the newest "
              "link can complete it.")
REFRESH_RETRY_SECONDS = 60


@dataclass(frozen=True)
class Origin:
    """The server's public base URL, as the caller reached it (``http://127.0.0.1:8000``)."""

    base_url: str

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


def install(project: Project) -> None:
    project.on_deadline("link", _link_deadline, _link_finished)
    project.on_deadline("token", _token_deadline)
    project.on_deadline("auth_session", _auth_session_deadline)


# -- reading ---------------------------------------------------------------------------------

def get(project: Project, account_id: str) -> ConnectedAccount:
    account = project.accounts.get(account_id)
    if account is None:
        raise connected_account_not_found(account_id)
    return account


def list_accounts(project: Project, **filters: Any) -> list[ConnectedAccount]:
    """Every account matching the filters, in order (see :func:`select_accounts`)."""
    return list(select_accounts(project, **filters))


def select_accounts(project: Project, *, user_ids: list[str] | None = None,
                    toolkit_slugs: list[str] | None = None, statuses: list[str] | None = None,
                    auth_config_ids: list[str] | None = None,
                    connected_account_ids: list[str] | None = None,
                    order_by: str = "created_at", order_direction: str = "desc",
                    ) -> AccountSelection:
    """The accounts a list's filters match, in the list's order, as a sequence that is counted
    and sliced without building and sorting every match: a page of 20 out of 100k costs about
    what 20 accounts cost. Nothing scans all accounts unless the filters match few of many."""
    for status in statuses or []:
        if status not in ACCOUNT_STATUSES:
            raise bad_request(f"Unknown status {status!r} in statuses.",
                              slug="ConnectedAccount_BadRequest", code=600,
                              suggested_fix="Use any of: " + ", ".join(ACCOUNT_STATUSES) + ".")
    if order_by not in ("created_at", "updated_at"):
        raise bad_request(f"order_by must be created_at or updated_at, got {order_by!r}.",
                          slug="ConnectedAccount_BadRequest", code=600)
    if order_direction not in ("asc", "desc"):
        raise bad_request(f"order_direction must be asc or desc, got {order_direction!r}.",
                          slug="ConnectedAccount_BadRequest", code=600)
    idx = project.index
    toolkits = [t.lower() for t in toolkit_slugs] if toolkit_slugs else None
    # (attribute, wanted values) per given filter, and the index buckets that hold its matches
    # (the buckets of one filter are disjoint, so their sizes add up)
    given = [(attr, values, index) for attr, values, index in (
        ("user_id", user_ids, idx.by_user), ("id", connected_account_ids, None),
        ("auth_config_id", auth_config_ids, idx.by_auth_config),
        ("toolkit", toolkits, idx.by_toolkit), ("status", statuses, idx.by_status)) if values]
    checks = [(attr, frozenset(values)) for attr, values, _ in given]

    def matches(a: ConnectedAccount) -> bool:
        return all(getattr(a, attr) in wanted for attr, wanted in checks)

    def size(values: list[str], index: Mapping[str, Collection[str]] | None) -> int:
        if index is None:  # connected_account_ids: the ids themselves
            return len(values)
        return sum(len(index.get(v, ())) for v in set(values))

    everyone = len(project.accounts)
    if not given:
        smallest: tuple[str, list[str], Any] | None = None
        m = everyone
    else:
        smallest = min(given, key=lambda g: size(g[1], g[2]))
        m = size(smallest[1], smallest[2])
    newest_first = order_direction == "desc"
    key = _created_key if order_by == "created_at" else _updated_key

    def candidates() -> list[ConnectedAccount]:
        if smallest is None:
            return list(project.accounts.values())
        _, values, index = smallest
        ids: Any = dict.fromkeys(values) if index is None else itertools.chain.from_iterable(
            index.get(v, ()) for v in dict.fromkeys(values))
        return [a for a in project.accounts_of(ids) if matches(a)]

    # Two ways to a page of k: filter the smallest candidate set (m accounts) and heap-select
    # k of them; or, when the project's insertion order is the list order, read accounts from
    # the newest (or oldest) end until k match: about everyone * k / total visits. The cheaper.
    total = _count(project, given, everyone)
    if total is None or not (order_by == "created_at" and idx.created_in_order):
        return AccountSelection.of(candidates(), key, newest_first)

    def first(k: int) -> list[ConnectedAccount]:
        if everyone * k > m * max(total, 1):
            return AccountSelection.of(candidates(), key, newest_first).first(k)
        accounts = reversed(project.accounts.values()) if newest_first \
            else iter(project.accounts.values())
        return list(itertools.islice((a for a in accounts if matches(a)), k))

    return AccountSelection(total, first)


def _created_key(a: ConnectedAccount) -> tuple[float, int]:
    return a.created_at, a.seq


def _updated_key(a: ConnectedAccount) -> tuple[float, int]:
    return a.updated_at, a.seq


def _count(project: Project, given: list[tuple[str, list[str], Any]], everyone: int,
           ) -> int | None:
    """How many accounts the filters match, from the index's counts; None when a user or id
    filter is given (then the candidates are few and counted by filtering them)."""
    if not given:
        return everyone
    if any(attr in ("user_id", "id") for attr, _, _ in given):
        return None
    if len(given) == 1:
        _, values, index = given[0]
        return sum(len(index.get(v, ())) for v in set(values))
    idx = project.index
    wanted = {attr: set(values) for attr, values, _ in given}
    configs = [c for c, toolkit in idx.config_toolkit.items()
               if c in wanted.get("auth_config_id", (c,))
               and toolkit in wanted.get("toolkit", (toolkit,))]
    statuses = wanted.get("status", ACCOUNT_STATUSES)
    return sum(idx.count(c, s) for c in configs for s in statuses)


class AccountSelection(Sequence[ConnectedAccount]):
    """Matching accounts in list order: ``len()`` is the count, a slice computes only the
    accounts up to its end (``paginate`` asks for one page)."""

    def __init__(self, total: int, first: Callable[[int], list[ConnectedAccount]]) -> None:
        self._total = total
        self.first = first  # first(k): the first k accounts in list order

    @classmethod
    def of(cls, accounts: list[ConnectedAccount], key: Callable[[ConnectedAccount], Any],
           newest_first: bool) -> AccountSelection:
        def first(k: int) -> list[ConnectedAccount]:
            if k >= len(accounts) // 2:
                return sorted(accounts, key=key, reverse=newest_first)[:k]
            pick = heapq.nlargest if newest_first else heapq.nsmallest
            return pick(k, accounts, key=key)  # O(n log k): the page, not a sort of all

        return cls(len(accounts), first)

    def __len__(self) -> int:
        return self._total

    @overload
    def __getitem__(self, index: int) -> ConnectedAccount: ...
    @overload
    def __getitem__(self, index: slice) -> list[ConnectedAccount]: ...
    def __getitem__(self, index: int | slice) -> ConnectedAccount | list[ConnectedAccount]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._total)
            return self.first(stop)[start:stop:step] if stop > start else []
        if not -self._total <= index < self._total:
            raise IndexError(index)
        index %= self._total
        return self.first(index + 1)[index]

    def __iter__(self) -> Iterator[ConnectedAccount]:
        return iter(self.first(self._total))


# -- creating --------------------------------------------------------------------------------

def _toolkit_and_scheme(project: Project, ac: AuthConfig) -> tuple[Toolkit, AuthSchemeSpec]:
    toolkit = auth_configs.resolve_toolkit(project, ac.toolkit)
    spec = toolkit.scheme(ac.auth_scheme)
    if spec is None:  # catalogue changed under a stored config; refuse clearly rather than 500
        raise bad_request(f'Toolkit "{toolkit.slug}" no longer supports {ac.auth_scheme}.',
                          slug="ConnectedAccount_InvalidAuthScheme", code=602)
    return toolkit, spec


def check_callback_url(url: Any, name: str = "callback_url") -> str | None:
    """A URL the end user's browser can be redirected to: a string without control characters
    or spaces (they cannot go into a Location header, so the redirect after consent would die
    with no response)."""
    if url is None or url == "":
        return None
    if not isinstance(url, str):
        raise bad_request(f"{name} must be a string URL.", slug="ConnectedAccount_BadRequest",
                          code=600, errors=[f"{name}: expected a string"])
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        raise bad_request(f"{name} must not contain control characters or whitespace.",
                          slug="ConnectedAccount_BadRequest", code=600,
                          errors=[f"{name}: control character or whitespace"],
                          suggested_fix="Percent-encode the URL (e.g. %20 for a space).")
    return url


def _new_account(project: Project, ac: AuthConfig, user_id: str, status: str, *, via: str,
                 callback_url: str | None, alias: str | None) -> ConnectedAccount:
    check_callback_url(callback_url)
    if alias is not None:
        _check_alias_free(project, user_id, ac.toolkit, alias, None)
    now = project.now()
    account = ConnectedAccount(
        id=project.ids.new("ca"), uuid=project.ids.uuid(), seq=project.next_seq(),
        user_id=project.known_user_id(user_id), auth_config_id=ac.id, toolkit=ac.toolkit,
        auth_scheme=ac.auth_scheme,
        status=status, created_at=now, updated_at=now, val={"status": status}, alias=alias,
        callback_url=callback_url, via=via,
    )
    project.add_account(account)
    project.log(account, f"created {status}", f"via {via}, auth config {ac.id}", at=now)
    return account


def _check_alias_free(project: Project, user_id: str, toolkit: str, alias: str,
                      except_id: str | None) -> None:
    for other in project.accounts_of(project.index.by_user.get(user_id, {})):
        if other.toolkit == toolkit and other.alias == alias and other.id != except_id:
            raise ComposioError(
                409, "ConnectedAccount_AliasConflict",
                f'Alias "{alias}" is already used by {other.id} for user {user_id} and toolkit '
                f"{toolkit}.", code=600,
                suggested_fix="Aliases are unique per user and toolkit; pick another alias.",
                headers={"x-should-retry": "false"})


def _check_user_id(user_id: Any) -> str:
    if not isinstance(user_id, str) or not user_id.strip():
        raise bad_request("user_id must be a non-empty string.", slug="ConnectedAccount_BadRequest",
                          code=600, errors=["user_id is required"],
                          suggested_fix="Pass the id your app uses for the end user.")
    return user_id


def _check_initiation_fields(toolkit: Toolkit, spec: AuthSchemeSpec, ac: AuthConfig,
                             values: Mapping[str, Any]) -> None:
    """The toolkit's required initiation fields, from the user's values or the config's shared
    credentials; a 400 naming each missing one."""
    merged = {k: v for k, v in ac.credentials.items() if k not in ("scopes", "user_scopes")}
    merged.update({k: v for k, v in values.items() if k != "status"})
    missing = [f for f in spec.fields("connected_account_initiation", "required")
               if merged.get(f["name"]) in (None, "")]
    if missing:
        raise auth_configs.missing_field_error(toolkit, spec, missing,
                                               stage="connected_account_initiation")


def _activate_with_values(project: Project, account: ConnectedAccount, toolkit: Toolkit,
                          spec: AuthSchemeSpec, ac: AuthConfig, values: Mapping[str, Any]) -> None:
    """Non-OAuth schemes: the user's credentials are the connection; ACTIVE at once."""
    _check_initiation_fields(toolkit, spec, ac, values)
    account.val = {**{k: v for k, v in values.items() if k != "status"}, "status": ACTIVE}
    project.set_status(account, ACTIVE, None, event="credentials stored, ACTIVE")


# -- connection fields: what an OAuth toolkit needs before the redirect -------------------------
# Catalogue data says which: the OAuth scheme's connected_account_initiation fields (Zendesk and
# Jira ``subdomain``, Shopify ``shop``); a field named in the scheme's authorization_url
# (``https://{subdomain}.zendesk.com/...``) is a host name label.

_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_-]+)\}")


def connection_field_specs(spec: AuthSchemeSpec) -> list[dict[str, Any]]:
    if not spec.is_oauth:
        return []
    return [f for which in ("required", "optional")
            for f in spec.fields("connected_account_initiation", which)]


def missing_connection_fields(spec: AuthSchemeSpec, values: Mapping[str, Any],
                              ) -> list[dict[str, Any]]:
    if not spec.is_oauth:
        return []
    return [f for f in spec.fields("connected_account_initiation", "required")
            if not values.get(f["name"])]


def _host_fields(spec: AuthSchemeSpec) -> list[str]:
    return _PLACEHOLDER.findall(str(spec.raw.get("authorization_url") or ""))


def check_connection_fields(toolkit: Toolkit, spec: AuthSchemeSpec,
                            values: Mapping[str, Any]) -> dict[str, str]:
    """The connection fields among ``values``, validated (a 400 naming the field)."""
    out: dict[str, str] = {}
    hosts = _host_fields(spec)
    for f in connection_field_specs(spec):
        name = f["name"]
        if name not in values or values[name] is None:
            continue
        value = values[name]
        label = f'"{f.get("displayName", name)}" ({name})'
        if not isinstance(value, str) or not value.strip():
            raise bad_request(
                f"{label} must be a non-empty string for toolkit {toolkit.slug}.",
                slug="ConnectedAccount_InvalidConnectionField", code=600,
                errors=[f"{name} must be a non-empty string"],
                suggested_fix=str(f.get("description") or f"Pass {name} as a string."))
        value = value.strip()
        if name in hosts and not _HOST_LABEL.fullmatch(value):
            example = _fill_host(spec, {n: "acme" for n in hosts}) or "acme"
            raise bad_request(
                f"{label} {value!r} is not a valid {toolkit.name} {name}: give the name only, "
                f'e.g. "acme" for {example}.', slug="ConnectedAccount_InvalidConnectionField",
                code=600, errors=[f"{name} must be a host name label"],
                suggested_fix=str(f.get("description") or "Give the name only."))
        out[name] = value
    return out


def _fill_host(spec: AuthSchemeSpec, values: Mapping[str, str]) -> str | None:
    url = str(spec.raw.get("authorization_url") or "")
    names = _PLACEHOLDER.findall(url)
    if not names or any(not values.get(n) for n in names):
        return None
    return urlsplit(_PLACEHOLDER.sub(lambda m: values[m.group(1)], url)).hostname


def provider_instance(spec: AuthSchemeSpec, account: ConnectedAccount) -> str | None:
    """The provider host the user's authorization goes to (``acme.zendesk.com``), when the
    toolkit's authorize URL is per-tenant."""
    return _fill_host(spec, account.connection_fields)


def _require_connection_fields(toolkit: Toolkit, spec: AuthSchemeSpec,
                               values: Mapping[str, Any]) -> dict[str, str]:
    fields = check_connection_fields(toolkit, spec, values)
    missing = missing_connection_fields(spec, fields)
    if missing:
        raise auth_configs.missing_field_error(toolkit, spec, missing,
                                               stage="connected_account_initiation")
    return fields


def submit_connection_fields(project: Project, link_obj: Link, values: Mapping[str, Any],
                             ) -> ConnectedAccount:
    """The Connect Link page's field step: store the fields the provider needs."""
    account, _, toolkit, spec = describe_link(project, link_obj)
    try:
        fields = _require_connection_fields(
            toolkit, spec, {**account.connection_fields,
                            **{k: v for k, v in values.items() if v not in (None, "")}})
    except ComposioError as exc:
        raise FlowError(400, "Check the fields", exc.message) from exc
    account.connection_fields = fields
    account.val.update(fields)
    project.log(account, "connection fields entered", ", ".join(sorted(fields)))
    return account


def initiate(project: Project, origin: Origin, *, auth_config_id: str, user_id: str = "default",
             callback_url: str | None = None, state: Mapping[str, Any] | None = None,
             alias: str | None = None, via: str = "initiate",
             ) -> tuple[ConnectedAccount, str | None]:
    """``POST /connected_accounts``. Returns the account and the redirect URL (OAuth only)."""
    _check_user_id(user_id)
    if project.callback_verifier_url and user_id == "default" and via == "initiate":
        raise bad_request(
            "This project requires callback identity verification, so a real user_id is "
            'required; "default" can\'t be verified.', slug="ConnectedAccount_BadRequest",
            code=600, suggested_fix="Pass connection.user_id: the id your app uses for the "
            "end user (complete_auth checks it).")
    ac = auth_configs.require_usable(project, auth_config_id)
    toolkit, spec = _toolkit_and_scheme(project, ac)
    val = dict((state or {}).get("val") or {})
    auth_configs.check_secret_values(toolkit, val, "connection.state.val")
    if spec.is_oauth:
        if val.get("access_token"):
            # Importing an existing token (auth_scheme.oauth2(access_token=...)): ACTIVE now.
            account = _new_account(project, ac, user_id, INITIATED, via=via,
                                   callback_url=callback_url, alias=alias)
            _store_tokens(project, account, TokenState(
                access_token=str(val["access_token"]), refresh_token=val.get("refresh_token"),
                expires_at=None, scopes=auth_configs.parse_scopes(val.get("scope"))), spec)
            return account, None
        if ac.is_composio_managed and via == "initiate":
            raise ComposioError(
                400, "ConnectedAccount_BadRequest",
                "Creating connections on this endpoint for Composio-managed OAuth auth configs "
                "is no longer supported. Use POST /api/v3/connected_accounts/link instead.",
                code=600,
                suggested_fix="Call POST /api/v3/connected_accounts/link with the same "
                "auth_config_id and user_id to get a redirect URL for the end user.",
                headers={"Deprecation": "@1777852800", "Sunset": "Fri, 03 Jul 2026 00:00:00 GMT"})
        # No hosted page on this path: the provider redirect needs its fields now.
        fields = _require_connection_fields(toolkit, spec, val)
        account = _new_account(project, ac, user_id, INITIATED, via=via,
                               callback_url=callback_url, alias=alias)
        account.connection_fields = fields or EMPTY
        link = _open_link(project, account, ac, callback_url, now=account.created_at)
        redirect = origin.url(f"/api/v3/s/{link.token}")
        account.val = {"status": INITIATED, "redirectUrl": redirect, **fields}
        if callback_url:
            account.val["callback_url"] = callback_url
        return account, redirect
    _check_initiation_fields(toolkit, spec, ac, val)  # before anything is stored
    account = _new_account(project, ac, user_id, INITIATED, via=via, callback_url=callback_url,
                           alias=alias)
    _activate_with_values(project, account, toolkit, spec, ac, val)
    return account, None


def link(project: Project, origin: Origin, *, auth_config_id: str, user_id: str,
         callback_url: str | None = None, alias: str | None = None,
         connection_data: Mapping[str, Any] | None = None, via: str = "link",
         ) -> tuple[ConnectedAccount, Link, str]:
    """``POST /connected_accounts/link``: an INITIATED account and a hosted Connect Link."""
    _check_user_id(user_id)
    ac = auth_configs.require_usable(project, auth_config_id)
    toolkit, spec = _toolkit_and_scheme(project, ac)
    # Given fields are checked now; missing ones are asked for on the Connect Link page.
    fields = check_connection_fields(toolkit, spec, connection_data or {})
    account = _new_account(project, ac, user_id, INITIATED, via=via, callback_url=callback_url,
                           alias=alias)
    if connection_data:
        account.data = dict(connection_data)
    account.connection_fields = fields or EMPTY  # one shared empty dict (memory per account)
    link_obj = _open_link(project, account, ac, callback_url, now=account.created_at)
    redirect = origin.url(f"/link/{link_obj.token}")
    account.val = {"status": INITIATED, "redirectUrl": redirect, **fields}
    return account, link_obj, redirect


def _open_link(project: Project, account: ConnectedAccount, ac: AuthConfig,
               callback_url: str | None, now: float | None = None) -> Link:
    """``now``: the time of the request that opens it, when the caller has it already (the
    account's created_at: one float object for both)."""
    if now is None:
        now = project.now()
    link_obj = Link(
        token=engine_unique(project, "lk_", 12), connected_account_id=account.id,
        auth_config_id=ac.id,
        project_id=project.id, created_at=now, expires_at=now + LINK_LIFETIME_SECONDS,
        callback_url=callback_url, scopes=auth_configs.effective_scopes(project, ac),
    )
    # Scopes are frozen here: a later scope update on the config affects new connections only.
    # Shared, not copied (neither is ever changed in place): one list per connection, not two.
    account.requested_scopes = link_obj.scopes
    account.link_token = link_obj.token
    project.links[link_obj.token] = link_obj
    project.schedule(link_obj.expires_at, "link", link_obj.token)
    if project.engine_hooks is not None:
        project.engine_hooks.link_opened(project, link_obj)
    return link_obj


def engine_unique(project: Project, prefix: str, length: int) -> str:
    """A token no other tenant can be given. Link tokens and OAuth states are found
    engine-wide by the token alone, but tenants with the same seed (``serve --seed``, two
    tenants of one test) draw the same seeded ids: mixing in the project id keeps the token
    reproducible and makes it the tenant's own."""
    hooks = project.engine_hooks
    while True:
        raw = f"{project.id}:{project.ids.secret('', 32)}".encode()
        token = prefix + base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).decode()[:length]
        # Never one a live tenant already holds, whatever ids or seeds were imported.
        if hooks is None or not hooks.token_taken(token):
            return token


def _link_finished(project: Project, token: str) -> bool:
    """A link's expiry timer is spent once the link is done or forgotten (``done`` never goes
    back to False, and a forgotten token is never reused)."""
    link_obj = project.links.get(token)
    return link_obj is None or link_obj.done


def _link_deadline(project: Project, token: str, when: float) -> None:
    link_obj = project.links.get(token)
    if link_obj is None or link_obj.done:
        return
    account = project.accounts.get(link_obj.connected_account_id)
    link_obj.done = True
    if account is not None and account.status in PENDING_STATUSES \
            and account.link_token == token:
        project.set_status(account, EXPIRED, REASON_INITIATION_TIMEOUT, event="link expired")
        terminal_val(account, {"status": EXPIRED, "expired_at": project.clock.iso(when)})


# -- the Connect Link / provider round trip --------------------------------------------------

class FlowError(Exception):
    """A browser-facing failure of the link flow (shown as a page, not a JSON envelope)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def describe_link(project: Project, link_obj: Link) -> tuple[ConnectedAccount, AuthConfig,
                                                               Toolkit, AuthSchemeSpec]:
    """What the Connect Link page shows; raises FlowError when the link can't be used."""
    project.run_due()
    account = project.accounts.get(link_obj.connected_account_id)
    if account is None:
        raise FlowError(410, "Link no longer valid",
                        "The connection this link was created for has been deleted.")
    if account.link_token != link_obj.token:
        raise FlowError(410, "Link no longer valid", SUPERSEDED)
    if link_obj.done or account.status not in PENDING_STATUSES:
        if account.status == EXPIRED:
            raise FlowError(410, "Link expired",
                            "This link has expired (links are valid for 10 minutes). Ask the app "
                            "for a new one.")
        raise FlowError(410, "Link already used",
                        f"This link was already used; the connection is {account.status}.")
    ac = project.auth_configs.get(link_obj.auth_config_id)
    if ac is None or ac.deleted:
        raise FlowError(410, "Link no longer valid", "The auth config of this link was deleted.")
    if not ac.enabled:
        raise FlowError(403, "Auth config disabled",
                        f"Auth config {ac.id} was disabled; this link can't be completed.")
    toolkit, spec = _toolkit_and_scheme(project, ac)
    return account, ac, toolkit, spec


def callback_urls(origin: Origin) -> list[str]:
    return [origin.url(CALLBACK_PATH_V31), origin.url(CALLBACK_PATH_V3)]


def _is_composio_callback(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.hostname in COMPOSIO_CALLBACK_HOSTS


def _server_callbacks(project: Project) -> list[str]:
    hooks = project.engine_hooks
    bases = hooks.base_urls if hooks is not None else []
    return [uri for base in bases for uri in callback_urls(Origin(base))]


def oauth_client(project: Project, ac: AuthConfig, origin: Origin) -> tuple[OAuthApp, str]:
    """The provider app behind an auth config, registered on first use, and the redirect URI
    the flow uses. Managed configs share Composio's built-in app of the toolkit; custom configs
    use the caller's client_id/secret. An app a test registered itself with the provider
    (``provider.register_app``) is left as it is, so a wrong secret in the config fails the
    token exchange as a real provider would."""
    from .provider import OAuthApp  # the provider package loads on the first OAuth flow

    toolkit, spec = _toolkit_and_scheme(project, ac)
    provider = project.provider
    own_callbacks = callback_urls(origin)
    if ac.is_composio_managed:
        client_id = f"composio-managed-{toolkit.slug}"
        app = provider.get_app(client_id)
        if app is None:
            app = provider.register_app(OAuthApp(
                client_id=client_id, client_secret=project.ids.secret("cs_", 40),
                toolkit=toolkit.slug, redirect_uris=list(own_callbacks),
                allowed_scopes=spec.available_scopes, scope_separator=spec.scope_separator,
                access_token_lifetime=spec.access_token_lifetime,
                issue_refresh_tokens=spec.supports_refresh_token, managed=True))
        fixed = _server_callbacks(project)
        if fixed:
            # A fixed set (the server's own base URLs): the Host header of a request never
            # registers a redirect URI; an unknown origin gets the server's first base URL.
            app.redirect_uris = fixed
            return app, own_callbacks[0] if own_callbacks[0] in fixed else fixed[0]
        redirect_uri = own_callbacks[0]
        for uri in own_callbacks:
            if uri not in app.redirect_uris:
                app.redirect_uris.append(uri)
        return app, redirect_uri
    client_id = str(ac.credentials.get("client_id") or "")
    configured = str(ac.credentials.get("oauth_redirect_uri") or own_callbacks[0])
    redirect_uri = own_callbacks[0] if _is_composio_callback(configured) else configured
    app = provider.get_app(client_id)
    if app is None or client_id in project.engine_registered_apps:
        registered = list(own_callbacks) if redirect_uri in own_callbacks else [redirect_uri]
        app = provider.register_app(OAuthApp(
            client_id=client_id, client_secret=str(ac.credentials.get("client_secret") or ""),
            toolkit=toolkit.slug, redirect_uris=registered,
            allowed_scopes=spec.available_scopes, scope_separator=spec.scope_separator,
            access_token_lifetime=spec.access_token_lifetime,
            issue_refresh_tokens=spec.supports_refresh_token, managed=False))
        project.engine_registered_apps.add(client_id)
    return app, redirect_uri


def client_secret_for(project: Project, ac: AuthConfig, app: OAuthApp) -> str:
    """What Composio would send at the token endpoint: its own secret for managed apps, the
    config's stored secret for custom ones (which may be wrong)."""
    if ac.is_composio_managed:
        return app.client_secret
    return str(ac.credentials.get("client_secret") or "")


def begin_oauth(project: Project, origin: Origin, link_obj: Link) -> str:
    """The user leaves the Connect Link page: build the provider's authorize URL (state+PKCE)."""
    account, ac, toolkit, spec = describe_link(project, link_obj)
    if not spec.is_oauth:
        raise FlowError(400, "Not an OAuth connection",
                        f"{toolkit.name} uses {spec.mode}; enter the credentials on the link page.")
    missing = missing_connection_fields(spec, account.connection_fields)
    if missing:
        raise FlowError(400, "Missing fields", "Enter " + ", ".join(
            str(f.get("displayName", f["name"])) for f in missing) + " on the connect page "
            "first.")
    app, redirect_uri = oauth_client(project, ac, origin)
    from ..oauth_pkce import challenge_s256

    if link_obj.oauth_state is None or link_obj.code_verifier is None:
        link_obj.oauth_state = engine_unique(project, "st_", 32)
        link_obj.code_verifier = project.ids.secret("", 64)
    # else: the page was submitted again (double click, a second tab). Reusing the state and
    # verifier keeps every authorization already under way valid; a fresh verifier made the
    # first one fail PKCE at the callback. The first to come back completes the link.
    verifier = link_obj.code_verifier
    link_obj.redirect_uri = redirect_uri
    link_obj.client_id = app.client_id
    project.links_by_state[link_obj.oauth_state] = link_obj
    if project.engine_hooks is not None:
        project.engine_hooks.state_issued(project, link_obj)
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": redirect_uri,
        "scope": spec.scope_separator.join(link_obj.scopes),
        "state": link_obj.oauth_state,
        "code_challenge": challenge_s256(verifier),
        "code_challenge_method": "S256",
    }
    instance = provider_instance(spec, account)
    if instance:
        query["instance"] = instance  # the user's own provider host (acme.zendesk.com)
    project.log(account, "redirected to provider", "scopes: " + " ".join(link_obj.scopes))
    return origin.url(f"/_oauth/{project.id}/{toolkit.slug}/authorize?{urlencode(query)}")


def submit_credentials(project: Project, link_obj: Link, values: Mapping[str, Any]) -> str | None:
    """Non-OAuth Connect Link form: store the user's credentials; returns the app redirect."""
    account, ac, toolkit, spec = describe_link(project, link_obj)
    if spec.is_oauth:
        raise FlowError(400, "OAuth connection", "This connection is completed at the provider.")
    try:
        _activate_with_values(project, account, toolkit, spec, ac,
                              {k: v for k, v in values.items() if v not in (None, "")})
    except ComposioError as exc:
        raise FlowError(400, "Missing fields", exc.message) from exc
    link_obj.done = True
    return app_redirect(account, link_obj.callback_url, success=True)


def complete_callback(project: Project, link_obj: Link, query: Mapping[str, str]) -> str | None:
    """The provider sent the browser back to Composio's callback: finish the connection.

    Returns the app's callback URL to redirect to (None: show the "you can close this tab" page).
    """
    try:
        return _complete_callback(project, link_obj, query)
    finally:
        # Spent: drop what only the token exchange needed (memory per link); a callback deferred
        # to the verifier still exchanges its code in complete_auth, so it keeps them.
        account = project.accounts.get(link_obj.connected_account_id)
        if link_obj.done and (account is None or account.status not in PENDING_STATUSES):
            link_obj.code_verifier = link_obj.redirect_uri = None


def _complete_callback(project: Project, link_obj: Link, query: Mapping[str, str]) -> str | None:
    project.run_due()
    account = project.accounts.get(link_obj.connected_account_id)
    if account is None:
        raise FlowError(410, "Connection deleted",
                        "The connection this authorization was for has been deleted.")
    if account.link_token != link_obj.token:
        # The connection was re-authorized (refresh) after this link was opened: only the
        # newest link may complete it.
        raise FlowError(410, "Link no longer valid", SUPERSEDED)
    if link_obj.done or account.status not in PENDING_STATUSES:
        if account.status == EXPIRED:
            raise FlowError(410, "Link expired",
                            "The connection expired before authorization completed "
                            "(links are valid for 10 minutes).")
        raise FlowError(409, "Already completed",
                        f"This authorization was already used; the connection is {account.status}.")
    link_obj.done = True
    ac = project.auth_configs.get(link_obj.auth_config_id)
    if ac is None or ac.deleted or not ac.enabled:
        reason = REASON_AUTH_CONFIG_DISABLED
        _fail(project, account, reason, "auth_config_disabled")
        return app_redirect(account, link_obj.callback_url, success=False,
                            error=f"Auth config {link_obj.auth_config_id} is disabled")
    if "error" in query:
        error = query.get("error", "")
        description = query.get("error_description", "")
        message = f"{error}: {description}" if description else error
        # No code came back, so nothing was exchanged: say what the provider said.
        reason = (f"{REASON_CONSENT_DENIED} ({message})" if error == "access_denied"
                  else f"{REASON_AUTHORIZATION_FAILED}: {message}")
        _fail(project, account, reason, error)
        return app_redirect(account, link_obj.callback_url, success=False, error=message)
    code = query.get("code", "")
    if project.callback_verifier_url and not ac.is_composio_managed:
        # Callback identity verification (custom OAuth apps): the connection waits for the
        # app to confirm who came back; the browser goes to the verifier instead.
        return _defer_to_verifier(project, account, link_obj, code)
    return _exchange_and_store(project, account, ac, link_obj, code)


def _exchange_and_store(project: Project, account: ConnectedAccount, ac: AuthConfig,
                        link_obj: Link, code: str) -> str | None:
    from .provider import ProviderError

    _, spec = _toolkit_and_scheme(project, ac)
    app = project.provider.get_app(link_obj.client_id or "")
    form = {"grant_type": "authorization_code", "client_id": link_obj.client_id or "",
            "client_secret": client_secret_for(project, ac, app) if app else "",
            "code": code, "redirect_uri": link_obj.redirect_uri or "",
            "code_verifier": link_obj.code_verifier or ""}
    try:
        if app is None:
            raise ProviderError("invalid_client", "the OAuth app is no longer registered", 401)
        tokens = project.provider.exchange_code(
            client_id=app.client_id, client_secret=client_secret_for(project, ac, app), code=code,
            redirect_uri=link_obj.redirect_uri or "", code_verifier=link_obj.code_verifier or "")
    except ProviderError as exc:
        _journal_token_call(project, ac.toolkit, form, exc.status, exc.body())
        _fail(project, account, f"{REASON_CALLBACK_FAILED}: {exc.error}: {exc.description}",
              exc.error)
        return app_redirect(account, link_obj.callback_url, success=False,
                            error=f"{exc.error}: {exc.description}")
    _journal_token_call(project, ac.toolkit, form, 200, _token_body(project, tokens))
    state = TokenState(access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                       expires_at=tokens.expires_at, scopes=tokens.scopes,  # a fresh list
                       client_id=app.client_id)
    if tokens.user is not None:
        account.end_user = tokens.user  # a read-only mapping of its fields, not a dict copy
    _store_tokens(project, account, state, spec)
    return app_redirect(account, link_obj.callback_url, success=True)


def _journal_token_call(project: Project, toolkit: str, form: dict[str, str], status: int,
                        body: dict[str, Any]) -> None:
    """Composio's server-side call to the provider's token endpoint: in the fake it runs
    in-process, and is journaled like an HTTP call (``source: "in-process"``, secrets
    redacted) so ``journal(operation="provider.token")`` shows exchanges and refreshes."""
    record_in_process(project.journal, at=project.now(), method="POST",
                      path=f"/_oauth/{project.id}/{toolkit}/token", operation="provider.token",
                      status=status, request_body=form, response_body=body)


def _token_body(project: Project, tokens: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": tokens.access_token,
                            "token_type": tokens.token_type, "scope": " ".join(tokens.scopes)}
    if tokens.refresh_token:
        body["refresh_token"] = tokens.refresh_token
    if tokens.expires_at is not None:
        body["expires_in"] = max(0, int(tokens.expires_at - project.now()))
    return body


# -- callback identity verification ------------------------------------------------------------

def _defer_to_verifier(project: Project, account: ConnectedAccount, link_obj: Link,
                       code: str) -> str:
    now = project.now()
    session = AuthSession(
        session_uri=engine_unique(project, "session_", 32), connected_account_id=account.id,
        link_token=link_obj.token, user_id=account.user_id, code=code, created_at=now,
        expires_at=now + AUTH_SESSION_LIFETIME_SECONDS)
    project.auth_sessions[session.session_uri] = session
    project.schedule(session.expires_at, "auth_session", session.session_uri)
    project.log(account, "callback deferred to the verifier",
                "waiting for complete_auth (single use, 10 minutes)")
    verifier = str(project.callback_verifier_url)
    parts = urlsplit(verifier)
    params = parse_qsl(parts.query, keep_blank_values=True)
    params.append(("session_uri", session.session_uri))
    return urlunsplit(parts._replace(query=urlencode(params)))


def _auth_session_deadline(project: Project, session_uri: str, when: float) -> None:
    session = project.auth_sessions.get(session_uri)
    if session is None or session.used:
        return
    session.used = True
    account = project.accounts.get(session.connected_account_id)
    if account is not None and account.status in PENDING_STATUSES \
            and account.link_token == session.link_token:
        project.set_status(account, EXPIRED, REASON_INITIATION_TIMEOUT,
                           event="verification not completed in time")
        account.val = {"status": EXPIRED, "expired_at": project.clock.iso(when)}


def _session_gone(message: str = "Auth session not found or expired.") -> ComposioError:
    return ComposioError(
        404, "ConnectedAccount_AuthSessionNotFound", message, code=600,
        suggested_fix="A session_uri is single-use and valid for 10 minutes, in the project "
        "that received it; start the connection again with a new link.",
        headers={"x-should-retry": "false"})


def complete_auth(project: Project, *, session_uri: str, user_id: str) -> ConnectedAccount:
    """``POST /connected_accounts/complete_auth``: redeem a deferred callback once the app has
    verified the user. Another project's session is unknown here (404), as is a used or expired
    one; a user_id other than the connection's owner fails the connection (400)."""
    project.run_due()
    session = project.auth_sessions.get(session_uri)
    if session is None or session.used or project.now() >= session.expires_at:
        raise _session_gone()
    account = project.accounts.get(session.connected_account_id)
    link_obj = project.links.get(session.link_token)
    if account is None or link_obj is None or account.link_token != session.link_token \
            or account.status not in PENDING_STATUSES:
        session.used = True
        raise _session_gone("Authorization expired, restart the flow.")
    session.used = True
    if user_id != session.user_id:
        _fail(project, account, "Callback identity verification failed: user_id does not "
              "match the connection's owner", "identity_mismatch")
        raise bad_request(
            f"Identity mismatch: user_id {user_id!r} is not the owner of this connection.",
            slug="ConnectedAccount_IdentityMismatch", code=600,
            suggested_fix="Pass the user_id the connection was initiated for; this session "
            "is now used and the connection FAILED, so start a new link.")
    ac = project.auth_configs.get(link_obj.auth_config_id)
    if ac is None or ac.deleted or not ac.enabled:
        _fail(project, account, REASON_AUTH_CONFIG_DISABLED, "auth_config_disabled")
        raise _session_gone("Authorization expired, restart the flow.")
    _exchange_and_store(project, account, ac, link_obj, session.code)
    if account.status != ACTIVE:
        raise _session_gone("Authorization expired, restart the flow.")
    project.log(account, "completed by complete_auth", f"user {user_id}")
    return account


def _fail(project: Project, account: ConnectedAccount, reason: str, error: str) -> None:
    project.set_status(account, FAILED, reason, event="authorization failed")
    terminal_val(account, {"status": FAILED, "error": error, "error_description": reason})


def _store_tokens(project: Project, account: ConnectedAccount, token: TokenState,
                  spec: AuthSchemeSpec) -> None:
    account.token = token
    account.granted_scopes = token.scopes  # shared with the token state: never changed in place
    account.val = {**account.connection_fields, **_oauth_val(project, token, spec.mode)}
    project.set_status(account, ACTIVE, None, event="tokens stored, ACTIVE")
    if token.expires_at is not None:
        project.schedule(token.expires_at, "token", account.id)


def _oauth_val(project: Project, token: TokenState, mode: str = "OAUTH2") -> dict[str, Any]:
    val: dict[str, Any] = {"status": ACTIVE, "access_token": token.access_token,
                           "token_type": token.token_type,
                           "scope": sys.intern(" ".join(token.scopes))}  # the same on many
    if mode == "OAUTH1":  # OAuth 1.0a credentials are a token and its secret
        val["oauth_token"] = token.access_token
        val["oauth_token_secret"] = hashlib.sha256(token.access_token.encode()).hexdigest()[:40]
    if token.refresh_token:
        val["refresh_token"] = token.refresh_token
    if token.expires_at is not None:
        val["expires_in"] = max(0, int(token.expires_at - project.now()))
        val["expires_at"] = project.clock.iso(token.expires_at)
    return val


def app_redirect(account: ConnectedAccount, callback_url: str | None, *, success: bool,
                 error: str | None = None) -> str | None:
    """The app's callback URL with Composio's parameters appended, keeping its own query."""
    if not callback_url:
        return None
    parts = urlsplit(callback_url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    params.append(("status", "success" if success else "failed"))
    if account.via in ("initiate", "v1"):
        # The legacy initiate flow answers in camelCase (reference L5).
        params += [("connectedAccountId", account.id), ("appName", account.toolkit)]
    else:
        params.append(("connected_account_id", account.id))
    if not success and error:
        params.append(("error", error))
    return urlunsplit(parts._replace(query=urlencode(params)))


# -- token lifecycle -------------------------------------------------------------------------

def _token_deadline(project: Project, account_id: str, when: float) -> None:
    account = project.accounts.get(account_id)
    if account is None or account.token is None or account.status not in (ACTIVE, INACTIVE):
        return
    if account.token.expires_at is None or account.token.expires_at > when:
        return  # a newer token replaced the one this timer was set for
    refresh_tokens(project, account)


def refresh_tokens(project: Project, account: ConnectedAccount) -> bool:
    """What Composio does when an access token expires. Returns True when refreshed."""
    from .provider import ProviderError

    token = account.token
    assert token is not None
    ac = project.auth_configs.get(account.auth_config_id)
    app = project.provider.get_app(token.client_id) if token.client_id else None
    if not token.refresh_token or app is None or ac is None:
        _expire(project, account, REASON_REFRESH_PERMANENT, "no refresh token")
        return False
    form = {"grant_type": "refresh_token", "client_id": app.client_id,
            "client_secret": client_secret_for(project, ac, app),
            "refresh_token": token.refresh_token}
    try:
        fresh = project.provider.refresh(client_id=app.client_id,
                                         client_secret=client_secret_for(project, ac, app),
                                         refresh_token=token.refresh_token)
    except ProviderError as exc:
        _journal_token_call(project, ac.toolkit, form, exc.status, exc.body())
        if exc.error in ("invalid_grant", "invalid_client", "unauthorized_client"):
            _expire(project, account, REASON_REFRESH_PERMANENT, f"{exc.error}: {exc.description}")
            return False
        token.refresh_failures += 1
        project.log(account, "token refresh failed", f"{exc.error} (attempt "
                    f"{token.refresh_failures} of {MAX_REFRESH_FAILURES})")
        if token.refresh_failures >= MAX_REFRESH_FAILURES:
            _expire(project, account, REASON_MAX_AUTH_FAILURES, exc.error)
        else:
            project.schedule(project.now() + REFRESH_RETRY_SECONDS, "token", account.id)
        return False
    _journal_token_call(project, ac.toolkit, form, 200, _token_body(project, fresh))
    account.token = TokenState(access_token=fresh.access_token,
                               refresh_token=fresh.refresh_token or token.refresh_token,
                               expires_at=fresh.expires_at, scopes=list(fresh.scopes),
                               client_id=token.client_id)
    status = account.status
    account.val = {**account.connection_fields,
                   **_oauth_val(project, account.token, account.auth_scheme)}
    account.val["status"] = status
    account.updated_at = project.now()
    project.log(account, "access token refreshed", at=account.updated_at)
    if fresh.expires_at is not None:
        project.schedule(fresh.expires_at, "token", account.id)
    return True


def _expire(project: Project, account: ConnectedAccount, reason: str, detail: str) -> None:
    project.set_status(account, EXPIRED, reason, event=f"expired: {detail}")
    account.val = {"status": EXPIRED, "expired_at": project.clock.iso()}
    # The refresh failed for good: subscribers get composio.connected_account.expired.
    webhooks.emit_expired(project, account)


# -- changing --------------------------------------------------------------------------------

def set_enabled(project: Project, account_id: str, enabled: bool) -> ConnectedAccount:
    account = get(project, account_id)
    target = ACTIVE if enabled else INACTIVE
    if account.status == target:
        return account
    _check_can_toggle(account, target)
    project.set_status(account, target, REASON_USER_UPDATE)
    account.val["status"] = target
    return account


def _check_can_toggle(account: ConnectedAccount, target: str) -> None:
    if account.status != target and account.status not in (ACTIVE, INACTIVE):
        raise bad_request(
            f"Connected account {account.id} is {account.status}; only ACTIVE or INACTIVE "
            "accounts can be enabled or disabled.", slug="ConnectedAccount_InvalidState",
            code=1706, suggested_fix="Reconnect the account (link or refresh) first.")


def update(project: Project, account_id: str, *, alias: str | None = None,
           connection: Mapping[str, Any] | None = None,
           enabled: bool | None = None) -> ConnectedAccount:
    """``PATCH /connected_accounts/{id}``: alias (``""`` clears it), credential patching and
    ``enabled``. Everything is checked first; a refused request changes nothing."""
    account = get(project, account_id)
    if enabled is not None:
        _check_can_toggle(account, ACTIVE if enabled else INACTIVE)
    if alias:
        _check_alias_free(project, account.user_id, account.toolkit, alias, account.id)
    plan: tuple[dict[str, Any], list[str], list[str]] | None = None
    if connection is not None:
        if "state" not in connection:
            raise bad_request("connection.state is required to patch credentials.",
                              slug="ConnectedAccount_BadRequest", code=600,
                              suggested_fix='Send {"connection": {"state": {"authScheme": ..., '
                              '"val": {...}}}}.')
        ac = project.auth_configs.get(account.auth_config_id)
        toolkit = project.catalogue.get(account.toolkit)
        spec = toolkit.scheme(account.auth_scheme) if toolkit else None
        if ac is None or spec is None:
            raise bad_request(f"Connected account {account.id} has no usable auth config.",
                              slug="ConnectedAccount_BadRequest", code=600)
        plan = credentials.plan_patch(account.auth_scheme, spec, account.val,
                                      connection["state"])
    if alias is not None:
        old = account.alias
        account.alias = alias or None
        if old != account.alias:
            project.log(account, "alias cleared" if not alias else "alias set", alias)
    if plan is not None:
        merged, set_names, removed = plan
        account.val = {**merged, "status": account.status}
        detail = "; ".join(part for part in (
            "set " + ", ".join(set_names) if set_names else "",
            "removed " + ", ".join(removed) if removed else "") if part)
        project.log(account, "credentials updated", detail or "no change")
    if enabled is not None:
        set_enabled(project, account.id, enabled)
    account.updated_at = project.now()
    return account


def refresh(project: Project, origin: Origin, account_id: str,
            redirect_url: str | None = None) -> tuple[ConnectedAccount, str | None]:
    """``POST /{id}/refresh`` re-initiates authorization (reference S17): OAuth accounts go back
    to INITIATED with a fresh link. Old tokens stay with the account until the new ones land."""
    account = get(project, account_id)
    ac = auth_configs.require_usable(project, account.auth_config_id)
    _, spec = _toolkit_and_scheme(project, ac)
    if not spec.is_oauth:
        return account, None
    check_callback_url(redirect_url, "redirect_url")
    project.set_status(account, INITIATED, None, event="re-authorization requested")
    callback = redirect_url or account.callback_url
    link_obj = _open_link(project, account, ac, callback)
    redirect = origin.url(f"/link/{link_obj.token}")
    account.val = {"status": INITIATED, "redirectUrl": redirect}
    return account, redirect


def revoke(project: Project, account_id: str) -> list[str]:
    account = get(project, account_id)
    if account.token is None:
        # Only OAuth connections have upstream tokens to revoke; the real API answers 400 for
        # other schemes (the SDK raises ComposioConnectedAccountRevocationNotSupportedError).
        raise bad_request(
            f"Connected account {account.id} uses {account.auth_scheme}, which has no tokens "
            "to revoke.", slug="ConnectedAccount_RevocationNotSupported", code=600,
            suggested_fix="Disable the account (PATCH …/status {\"enabled\": false}) or "
            "delete it instead.")
    if account.status == REVOKED:
        return []
    if account.status != ACTIVE:
        raise ComposioError(
            409, "ConnectedAccount_NotRevokable",
            f"Connected account {account.id} is {account.status}; only ACTIVE accounts can be "
            "revoked.", code=1706, headers={"x-should-retry": "false"},
            suggested_fix="Delete the account instead, or reconnect it first.")
    revoked = _revoke_upstream(project, account)
    project.set_status(account, REVOKED, REASON_REVOKED_BY_USER)
    account.val = {"status": REVOKED}
    return revoked


def _revoke_upstream(project: Project, account: ConnectedAccount) -> list[str]:
    if account.token is None:
        return ["credential"]
    project.provider.revoke_token(account.token.access_token)
    record_in_process(project.journal, at=project.now(), method="POST",
                      path=f"/_oauth/{project.id}/{account.toolkit}/revoke",
                      operation="provider.revoke", status=200,
                      request_body={"token": account.token.access_token,
                                    "client_id": account.token.client_id}, response_body={})
    return ["access_token", "refresh_token"] if account.token.refresh_token else ["access_token"]


def revoke_for_auth_config(project: Project, auth_config_id: str) -> int:
    """``DELETE /auth_configs/{id}?revoke_on_delete=true``: revoke the upstream credentials of
    every ACTIVE account of the config. OAuth accounts go REVOKED; accounts of other schemes have
    no upstream tokens and the API has no REVOKED state for them, so they go INACTIVE. Nothing
    here can refuse, so the delete never half-applies. Returns how many accounts changed."""
    accounts = project.accounts_of(list(project.index.by_auth_config.get(auth_config_id, {})))
    changed = 0
    for account in accounts:
        if account.status != ACTIVE:
            continue
        if account.token is not None:
            _revoke_upstream(project, account)
            project.set_status(account, REVOKED, REASON_REVOKED_ON_DELETE)
            account.val = {"status": REVOKED}
        else:
            project.set_status(account, INACTIVE, REASON_REVOKED_ON_DELETE)
        changed += 1
    return changed


def delete(project: Project, account_id: str, *, revoke_upstream: bool = False) -> None:
    account = get(project, account_id)
    if revoke_upstream and account.status == ACTIVE:
        _revoke_upstream(project, account)
        project.set_status(account, REVOKED, REASON_REVOKED_ON_DELETE)
    project.log(account, "deleted")
    project.remove_account(account)
