"""Versioned JSON snapshots of the engine (``GET/POST /_mock/state``, ``--state-file``).

Format (``{"format": "mockcomposio-state", "version": 1, ...}``): every tenant's auth configs,
connected accounts (with tokens), links, sessions, the fake provider's apps, codes, tokens and
grants, the virtual clock, pending timers and the id generators' positions, so a restored
server keeps working exactly where it stopped (refreshes, callbacks of open links, ids).

Stored objects are dataclasses; they are encoded field by field and decoded against their
type hints, so a snapshot that does not fit (wrong type, unknown field, dangling reference)
is refused with the path of the problem, and an import is all-or-nothing: every tenant is
rebuilt before any live tenant is replaced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import itertools
import json
import logging
import os
import random
import re
import tempfile
import types
import typing
from collections import abc
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin, get_type_hints

from . import __version__
from .clock import MAX_EPOCH, ClockRangeError, check_epoch
from .domain.models import EMPTY, AuthConfig, AuthSession, ConnectedAccount, Link
from .domain.project import AccountIndex, Project
from .domain.redact import redact
from .domain.sessions import Session
from .domain.webhooks import Subscription
from .strict_json import body_problem, strict_json_loads

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger("mockcomposio.snapshot")

FORMAT = "mockcomposio-state"
VERSION = 1
# Nesting a state file may have: what POST /_mock/state accepts (app.MAX_CONTROL_JSON_DEPTH).
MAX_FILE_JSON_DEPTH = 256


class SnapshotError(ValueError):
    """A snapshot that cannot be loaded; the message says where and why."""


# -- generic dataclass codec ------------------------------------------------------------------

def encode(value: Any) -> Any:
    """Plain JSON data for a dataclass tree (fresh containers: nothing shared with live state)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(encode(v) for v in value)
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp)


def decode(tp: Any, value: Any, path: str) -> Any:
    """``value`` (JSON data) as an instance of type ``tp``; SnapshotError names the path."""
    if tp is Any:
        return value
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return decode(option, value, path)
            except SnapshotError as exc:
                errors.append(str(exc))
        raise SnapshotError(errors[0] if len(errors) == 1 else
                            f"{path}: {value!r:.60} fits none of "
                            f"{', '.join(_type_name(o) for o in options)}")
    if origin is Literal:
        if value not in args:
            raise SnapshotError(f"{path}: {value!r:.60} is not one of {list(args)}")
        return value
    if origin is tuple and args and args[-1] is not Ellipsis:
        if not isinstance(value, list) or len(value) != len(args):
            raise SnapshotError(f"{path}: expected a list of {len(args)} items")
        return tuple(decode(t, v, f"{path}[{i}]") for i, (t, v) in enumerate(zip(args, value,
                                                                                strict=True)))
    if origin is list or origin is tuple or origin in (set, frozenset):
        if not isinstance(value, list):
            raise SnapshotError(f"{path}: expected a list, got {type(value).__name__}")
        item = args[0] if args else Any
        items = [decode(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else origin(items)
    if origin is dict or origin is abc.Mapping:  # a read-only mapping is restored as a dict
        if not isinstance(value, dict):
            raise SnapshotError(f"{path}: expected an object, got {type(value).__name__}")
        vt = args[1] if args else Any
        return {k: decode(vt, v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise SnapshotError(f"{path}: expected an object ({tp.__name__}), "
                                f"got {type(value).__name__}")
        hints = _hints(tp)
        known = {f.name: f for f in dataclasses.fields(tp) if f.init}
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise SnapshotError(f"{path}: unknown field(s) {unknown} for {tp.__name__}")
        kwargs = {}
        for name, f in known.items():
            if name in value:
                kwargs[name] = decode(hints[name], value[name], f"{path}.{name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SnapshotError(f"{path}: missing required field {name!r} ({tp.__name__})")
        return tp(**kwargs)
    if tp is float:
        # Every float a stored object holds is a point in time: one the engine could have
        # stored (the clock's range plus a bounded lifetime), so every render stays valid.
        try:
            return check_epoch(value, path, stored=True)
        except ClockRangeError as exc:
            raise SnapshotError(f"{exc}, got {value!r:.60}") from None
    if tp in (str, int, bool):
        if type(value) is not tp:
            raise SnapshotError(f"{path}: expected {tp.__name__}, got {value!r:.60}")
        return value
    raise SnapshotError(f"{path}: cannot decode type {tp!r}")  # a model type we do not know


def _rng_state(rng: random.Random | None) -> Any:
    if rng is None:
        return None
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _restore_rng(state: Any, path: str) -> random.Random | None:
    if state is None:
        return None
    try:
        version, internal, gauss = state
        rng = random.Random()
        rng.setstate((version, tuple(internal), gauss))
    except (TypeError, ValueError, OverflowError) as exc:
        raise SnapshotError(f"{path}: not a random generator state ({exc})") from exc
    return rng


# -- export -----------------------------------------------------------------------------------

def export_project(project: Project) -> dict[str, Any]:
    """One tenant as JSON data. Call with the project's lock held."""
    clock = project.clock
    position = _count_position(project._seq)
    return {
        "id": project.id,
        "api_key": project.api_key,
        "seed": project.seed,
        "mask_secrets": project.mask_secrets,
        "callback_verifier_url": project.callback_verifier_url,
        "settings": dict(project.settings),
        "auth_sessions": [encode(s) for s in project.auth_sessions.values()],
        "clock": {"offset": clock._offset, "frozen_at": clock._frozen_at,
                  "now": clock.now()},
        "ids": _rng_state(project.ids.generator()),
        "seq": position,
        "auth_configs": [encode(a) for a in project.auth_configs.values()],
        "accounts": [encode(a) for a in project.accounts.values()],
        "deleted_accounts": [encode(a) for a in project.deleted_accounts.values()],
        "links": [encode(link) for link in project.links.values()],
        "links_by_state": {s: link.token for s, link in project.links_by_state.items()},
        "sessions": [encode(s) for s in project.sessions.values()],
        # subscriptions only: the delivery log is a record of what happened, not state to resume
        "webhook_subscriptions": [encode(s) for s in project.webhooks.subscriptions.values()],
        "deadlines": [list(d) for d in sorted(project._deadlines)],
        "engine_registered_apps": sorted(project.engine_registered_apps),
        "provider": _export_provider(project),
        "toolkits": [t.raw for t in project.own_toolkits],
    }


def _count_position(counter: itertools.count[int]) -> int:
    """The next value of an ``itertools.count`` without consuming it (export never changes
    state)."""
    match = re.fullmatch(r"count\((-?\d+)\)", repr(counter))  # repr is count(N), N next
    assert match is not None, repr(counter)
    return int(match.group(1))


def _export_provider(project: Project) -> dict[str, Any] | None:
    provider = project._provider
    if provider is None:
        return None
    records: list[Any] = []
    index: dict[int, int] = {}

    def ref(record: Any) -> int:
        if id(record) not in index:
            index[id(record)] = len(records)
            records.append(record)
        return index[id(record)]

    access = [ref(r) for r in provider._access.values()]
    refresh = [ref(r) for r in provider._refresh.values()]
    grants = {gid: {"client_id": g[0].client_id, "tokens": [ref(r) for r in g]}
              for gid, g in provider._grants.items() if g}
    return {
        "apps": [encode(a) for a in provider._apps.values()],
        "pending": [{"pending": encode(p.pending), "params": dict(p.params)}
                    for p in provider._pending.values()],
        "codes": [encode(c) for c in provider._codes.values()],
        # a list of objects, not a map: a code is a secret, and redaction works on values
        "spent_codes": [{"code": c, "grant_id": g} for c, g in provider._spent_codes.items()],
        "tokens": [encode(r) for r in records],
        "access": access,
        "refresh": refresh,
        "grants": grants,
        "user_logins": sorted(provider._user_logins),
    }


def export_engine(engine: Engine, api_keys: Iterable[str] | None = None, *,
                  secrets: bool = True) -> dict[str, Any]:
    """A snapshot of the given tenants (default: all). ``secrets=False`` redacts tokens,
    client secrets and API keys: such a snapshot is for reading and cannot be imported."""
    # The engine lock only while listing: each tenant is exported under its own lock, so an
    # export (maybe on a worker thread) never holds up requests of other tenants.
    with engine.lock:
        keys = list(engine.projects) if api_keys is None else list(api_keys)
        projects = [p for key in keys if (p := engine.projects.get(key)) is not None]
        doc = _header(engine, redacted=not secrets)
    tenants = []
    for project in projects:
        with project.lock:
            tenants.append(export_project(project))
    doc["tenants"] = tenants
    if not secrets:
        doc["tenants"] = redact(doc["tenants"])
    return doc


def _header(engine: Engine, *, redacted: bool) -> dict[str, Any]:
    return {
        "format": FORMAT, "version": VERSION, "mockcomposio_version": __version__,
        "redacted": redacted,
        "engine": {"seed": engine.seed, "project_ids": _rng_state(engine._project_ids._rng)},
        "tenants": [],
    }


class IncrementalExport:
    """The state file's bytes, re-encoding only the tenants marked changed since the last
    call (the others' encoded JSON is reused): a save costs what changed, not what exists.
    ``export`` may run on a worker thread; ``mark`` runs on the event loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache: dict[str, tuple[Project, bytes]] = {}
        self._changed: set[int] = set()
        self._all = True

    def mark(self, project: Project | None) -> None:
        """``project`` changed (None: any tenant may have)."""
        if project is None:
            self._all = True
        else:
            self._changed.add(id(project))

    def export(self) -> bytes:
        changed, everything = self._changed, self._all
        self._changed, self._all = set(), False
        with self.engine.lock:
            projects = list(self.engine.projects.values())
            header = dumps(_header(self.engine, redacted=False))
        cache: dict[str, tuple[Project, bytes]] = {}
        for project in projects:
            hit = self._cache.get(project.api_key)
            if hit is not None and hit[0] is project and not everything \
                    and id(project) not in changed:
                cache[project.api_key] = hit
                continue
            with project.lock:
                data = export_project(project)
            cache[project.api_key] = (project, dumps(data))
        self._cache = cache
        assert header.endswith(b'"tenants":[]}')
        return header[:-2] + b",".join(enc for _, enc in cache.values()) + b"]}"


# -- import -----------------------------------------------------------------------------------

def check_header(doc: Any) -> None:
    if not isinstance(doc, dict):
        raise SnapshotError("a snapshot is a JSON object with format, version and tenants")
    if doc.get("format") != FORMAT:
        raise SnapshotError(f"not a mockcomposio state snapshot: format is "
                            f"{doc.get('format')!r}, expected {FORMAT!r}")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SnapshotError(f"version: expected a positive integer, got {version!r}")
    if version > VERSION:
        raise SnapshotError(
            f"the snapshot has format version {version}, written by a newer mockcomposio "
            f"({doc.get('mockcomposio_version', '?')}); this one ({__version__}) reads version "
            f"{VERSION}. Upgrade mockcomposio, or start without this state.")
    if doc.get("redacted"):
        raise SnapshotError("this snapshot has its secrets redacted (GET /_mock/state without "
                            "?secrets=true) and cannot be imported: tokens and client secrets "
                            "would not work. Export it with ?secrets=true.")
    if not isinstance(doc.get("tenants"), list):
        raise SnapshotError("tenants: expected a list")


def _field(data: dict[str, Any], key: str, path: str) -> Any:
    if key not in data:
        raise SnapshotError(f"{path}: missing {key!r}")
    return data[key]


def _list(value: Any, path: str) -> list[Any]:
    """A list field (absent or null: empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise SnapshotError(f"{path}: expected a list, got {type(value).__name__}")
    return value


def build_project(engine: Engine, data: Any, path: str) -> Project:
    """A detached Project rebuilt from one tenant's data (not yet live)."""
    from .domain.provider import OAuthApp, OAuthProvider, PendingAuthorization, TokenRecord
    from .domain.provider.records import _CodeRecord, _Pending

    if not isinstance(data, dict):
        raise SnapshotError(f"{path}: expected an object")
    api_key = decode(str, _field(data, "api_key", path), f"{path}.api_key")
    if not api_key.strip():
        raise SnapshotError(f"{path}.api_key: must not be empty")
    seed = decode(int | None, data.get("seed"), f"{path}.seed")
    project = Project(decode(str, _field(data, "id", path), f"{path}.id"), api_key,
                      engine.catalogue, seed=seed)
    project.mask_secrets = decode(bool, data.get("mask_secrets", True), f"{path}.mask_secrets")
    if data.get("toolkits"):
        from .domain.catalogue import (
            CatalogueError,
            load_templates,
            parse_toolkit,
            validate_definitions,
        )
        try:
            entries = validate_definitions(data["toolkits"], f"{path}.toolkits")
        except CatalogueError as exc:
            raise SnapshotError(str(exc)) from exc
        project.add_toolkits(parse_toolkit(e, load_templates()) for e in entries)
    project.callback_verifier_url = decode(str | None, data.get("callback_verifier_url"),
                                           f"{path}.callback_verifier_url")
    project.settings.update(decode(dict[str, Any], data.get("settings", {}), f"{path}.settings"))
    for i, raw in enumerate(data.get("auth_sessions") or []):
        auth_session = decode(AuthSession, raw, f"{path}.auth_sessions[{i}]")
        project.auth_sessions[auth_session.session_uri] = auth_session
    clock = _field(data, "clock", path)
    if not isinstance(clock, dict):
        raise SnapshotError(f"{path}.clock: expected an object")
    offset = clock.get("offset", 0.0)
    if isinstance(offset, bool) or not isinstance(offset, int | float) \
            or not -MAX_EPOCH <= offset <= MAX_EPOCH:
        raise SnapshotError(f"{path}.clock.offset: expected seconds within +-{MAX_EPOCH:.0f}, "
                            f"got {offset!r:.60}")
    project.clock._offset = float(offset)
    project.clock._frozen_at = decode(float | None, clock.get("frozen_at"),
                                      f"{path}.clock.frozen_at")
    try:  # the clock it leaves must be one the API could have set
        check_epoch(project.clock.now(), f"{path}.clock")
    except ClockRangeError as exc:
        raise SnapshotError(str(exc)) from None
    project.ids.restore(_restore_rng(data.get("ids"), f"{path}.ids"))
    project._seq = itertools.count(decode(int, data.get("seq", 0), f"{path}.seq"))

    for i, raw in enumerate(_list(_field(data, "auth_configs", path), f"{path}.auth_configs")):
        ac = decode(AuthConfig, raw, f"{path}.auth_configs[{i}]")
        project.auth_configs[ac.id] = ac
    for i, raw in enumerate(_list(_field(data, "accounts", path), f"{path}.accounts")):
        account = _shared_empties(decode(ConnectedAccount, raw, f"{path}.accounts[{i}]"))
        project.accounts[account.id] = account
    for i, raw in enumerate(_list(data.get("deleted_accounts"), f"{path}.deleted_accounts")):
        account = _shared_empties(decode(ConnectedAccount, raw,
                                          f"{path}.deleted_accounts[{i}]"))
        project.deleted_accounts[account.id] = account
    for i, raw in enumerate(_list(_field(data, "links", path), f"{path}.links")):
        link = decode(Link, raw, f"{path}.links[{i}]")
        project.links[link.token] = link
    for state, token in decode(dict[str, str], data.get("links_by_state", {}),
                               f"{path}.links_by_state").items():
        if token not in project.links:
            raise SnapshotError(f"{path}.links_by_state.{state}: no link {token!r}")
        project.links_by_state[state] = project.links[token]
    for i, raw in enumerate(_list(data.get("sessions"), f"{path}.sessions")):
        session = decode(Session, raw, f"{path}.sessions[{i}]")
        project.sessions[session.id] = session
    for i, raw in enumerate(data.get("webhook_subscriptions") or []):
        sub = decode(Subscription, raw, f"{path}.webhook_subscriptions[{i}]")
        project.webhooks.subscriptions[sub.id] = sub
    deadlines = decode(list[tuple[float, int, str, str]], data.get("deadlines", []),
                       f"{path}.deadlines")
    project._deadlines = sorted(deadlines)  # a sorted list is a valid heap
    project.engine_registered_apps = set(decode(list[str], data.get("engine_registered_apps",
                                                                     []),
                                                f"{path}.engine_registered_apps"))

    prov = data.get("provider")
    if prov is not None:
        p = f"{path}.provider"
        if not isinstance(prov, dict):
            raise SnapshotError(f"{p}: expected an object")
        provider = OAuthProvider(project.clock, project.ids, faker_seed=seed)
        for i, raw in enumerate(_list(prov.get("apps"), f"{p}.apps")):
            app = decode(OAuthApp, raw, f"{p}.apps[{i}]")
            provider._apps[app.client_id] = app
        for i, raw in enumerate(_list(prov.get("pending"), f"{p}.pending")):
            q = f"{p}.pending[{i}]"
            if not isinstance(raw, dict):
                raise SnapshotError(f"{q}: expected an object")
            pending = decode(PendingAuthorization, raw.get("pending"), f"{q}.pending")
            pending.app = provider._apps.get(pending.app.client_id, pending.app)
            provider._pending[pending.id] = _Pending(
                pending, decode(dict[str, str], raw.get("params", {}), f"{q}.params"))
        for i, raw in enumerate(_list(prov.get("codes"), f"{p}.codes")):
            code = decode(_CodeRecord, raw, f"{p}.codes[{i}]")
            provider._codes[code.code] = code
        for i, raw in enumerate(decode(list[dict[str, str]], prov.get("spent_codes", []),
                                       f"{p}.spent_codes")):
            if set(raw) != {"code", "grant_id"}:
                raise SnapshotError(f"{p}.spent_codes[{i}]: expected code and grant_id")
            provider._spent_codes[raw["code"]] = raw["grant_id"]
        records: list[TokenRecord] = [decode(TokenRecord, raw, f"{p}.tokens[{i}]")
                                      for i, raw in enumerate(_list(prov.get("tokens"),
                                                                    f"{p}.tokens"))]

        def record(i: Any, where: str) -> TokenRecord:
            if not isinstance(i, int) or not 0 <= i < len(records):
                raise SnapshotError(f"{where}: no token #{i!r}")
            return records[i]

        for i, ref in enumerate(_list(prov.get("access"), f"{p}.access")):
            r = record(ref, f"{p}.access[{i}]")
            provider._access[r.token] = r
        for i, ref in enumerate(_list(prov.get("refresh"), f"{p}.refresh")):
            r = record(ref, f"{p}.refresh[{i}]")
            provider._refresh[r.token] = r
        grants = prov.get("grants", {})
        if not isinstance(grants, dict):
            raise SnapshotError(f"{p}.grants: expected an object")
        for gid, g in grants.items():
            if not isinstance(g, dict):
                raise SnapshotError(f"{p}.grants.{gid}: expected an object")
            decode(str, g.get("client_id"), f"{p}.grants.{gid}.client_id")
            family = tuple(record(ref, f"{p}.grants.{gid}.tokens[{j}]") for j, ref in
                           enumerate(_list(g.get("tokens"), f"{p}.grants.{gid}.tokens")))
            if family:  # a grant without tokens has nothing to revoke: not kept
                provider._grants[gid] = family
        provider._user_logins = set(decode(list[str], prov.get("user_logins", []),
                                           f"{p}.user_logins"))
        project.install_provider(provider)

    problems = consistency_problems(project) or render_problems(project)
    if problems:
        raise SnapshotError(f"{path}: " + "; ".join(problems[:5]))
    project.index = AccountIndex()
    for account in project.accounts.values():
        project.index.add(account)
    return project


def _shared_empties(account: ConnectedAccount) -> ConnectedAccount:
    """Empty ``data`` / ``connection_fields`` as the shared ``models.EMPTY``, as the engine
    stores them (memory of a restored 100k-account tenant)."""
    if not account.data:
        account.data = EMPTY
    if not account.connection_fields:
        account.connection_fields = EMPTY
    return account


def consistency_problems(project: Project) -> list[str]:
    """References that do not resolve inside one tenant (empty when consistent)."""
    problems = []
    for account in [*project.accounts.values(), *project.deleted_accounts.values()]:
        if account.auth_config_id not in project.auth_configs:
            problems.append(f"account {account.id} references unknown auth config "
                            f"{account.auth_config_id}")
        if account.link_token and account.link_token not in project.links:
            problems.append(f"account {account.id} references unknown link {account.link_token}")
    for token, link in project.links.items():
        if token != link.token:
            problems.append(f"link {link.token} is stored under {token}")
        if link.connected_account_id not in project.accounts and \
                link.connected_account_id not in project.deleted_accounts:
            problems.append(f"link {token} references unknown account "
                            f"{link.connected_account_id}")
        if link.project_id != project.id:
            problems.append(f"link {token} belongs to project {link.project_id}, not {project.id}")
    for key, ac in project.auth_configs.items():
        if key != ac.id:
            problems.append(f"auth config {ac.id} is stored under {key}")
    for key, a in project.accounts.items():
        if key != a.id or a.deleted:
            problems.append(f"live account {key} is deleted or misfiled")
    return problems


def render_problems(project: Project) -> list[str]:
    """Objects the API could not answer with: each stored auth config, account and session is
    rendered as its GET would and checked against that response's contract, so an imported
    tenant never answers a 500 (or, in strict mode, a contract violation) later."""
    from . import contracts
    from .domain import render, sessions
    from .domain.connected_accounts import Origin

    checks: list[tuple[str, str, Any]] = []
    checks += [("auth_configs.get", ac.id, lambda ac=ac: render.auth_config(project, ac))
               for ac in project.auth_configs.values()]
    checks += [("connected_accounts.get", a.id,
                lambda a=a: render.connected_account(project, a))
               for a in project.accounts.values()]
    origin = Origin("http://127.0.0.1")
    checks += [("tool_router.get_session", s.id, lambda s=s: sessions.render(s, origin))
               for s in project.sessions.values()]
    problems = []
    for operation, object_id, rendering in checks:
        payload = rendering()
        found = contracts.response_problems(operation, 200, payload)
        if found:
            problems.append(f"{object_id} would answer an invalid {operation} response: "
                            + "; ".join(found[:2]))
            if len(problems) >= 5:
                break
    return problems


def import_snapshot(engine: Engine, doc: Any, *, engine_state: bool = True) -> list[Project]:
    """Load every tenant of ``doc`` into ``engine``, replacing tenants with the same API key;
    all-or-nothing (SnapshotError before anything changes). Returns the new projects.
    ``engine_state``: also restore the engine's project-id generator (whole-server imports;
    a one-tenant import leaves it alone: it is every tenant's)."""
    check_header(doc)
    projects = []
    seen: set[str] = set()
    ids: dict[str, int] = {}
    for i, data in enumerate(doc["tenants"]):
        try:
            project = build_project(engine, data, f"tenants[{i}]")
        except SnapshotError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            # A shape build_project does not check field by field (a dataclass refusing its
            # own values): still a refused snapshot naming the tenant, never a 500.
            log.warning("snapshot tenants[%d] refused", i, exc_info=True)
            raise SnapshotError(f"tenants[{i}]: malformed ({type(exc).__name__}: "
                                f"{str(exc)[:200]})") from exc
        if project.api_key in seen:
            raise SnapshotError(f"tenants[{i}].api_key: a second tenant with the same API key")
        if project.id in ids:
            raise SnapshotError(f"tenants[{i}].id: project id {project.id!r} is also the id of "
                                f"tenants[{ids[project.id]}]; project ids must be unique")
        seen.add(project.api_key)
        ids[project.id] = i
        projects.append(project)
    eng = doc.get("engine") or {}
    project_ids = _restore_rng(eng.get("project_ids"), "engine.project_ids") \
        if isinstance(eng, dict) else None
    with engine.lock:
        for i, project in enumerate(projects):
            # Another live tenant's id would take over its provider paths (/_oauth/<id>/...)
            # and links; it is fine only when that tenant is replaced by this import too.
            owner = engine.project_by_id(project.id)
            if owner is not None and owner.api_key != project.api_key \
                    and owner.api_key not in seen:
                raise SnapshotError(f"tenants[{i}].id: project id {project.id!r} belongs to "
                                    "another live tenant (another API key); give this tenant "
                                    "its own id, or import it into a fresh server")
        if engine_state and isinstance(eng, dict) and "project_ids" in eng:
            engine._project_ids._rng = project_ids
        for project in projects:
            engine.install(project)
    return projects


# -- files ------------------------------------------------------------------------------------

def write_atomic(path: Path, data: bytes) -> None:
    """Write-then-rename: the file is always either the old or the new complete snapshot."""
    # One temp file per write (two writers never share one), owner-only (mkstemp's 0600:
    # the file holds the tenants' tokens and client secrets).
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    try:  # make the rename itself durable (not possible on every platform)
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


TMP_SUFFIX = ".tmp"


def remove_orphans(path: Path) -> list[Path]:
    """Delete temp files a killed server left next to ``path`` (call holding its lock)."""
    removed = []
    for orphan in path.parent.glob(f".{glob.escape(path.name)}.*{TMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            orphan.unlink()
            removed.append(orphan)
    return removed


class StateFileLocked(SnapshotError):
    """Another live server uses the state file."""


def lock_state_file(path: Path) -> int:
    """An exclusive lock on ``path`` (held on a ``.<name>.lock`` file beside it, since saves
    replace the state file itself) for as long as the returned descriptor stays open."""
    import fcntl

    lock_path = path.with_name(f".{path.name}.lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise SnapshotError(f"cannot create lock file {lock_path}: {exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        raise StateFileLocked(
            f"state file {path} is in use by another mockcomposio server (lock {lock_path} is "
            "held); two servers on one state file would overwrite each other's state. Stop "
            "the other server or give this one its own --state-file.") from exc
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def dumps(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=False).encode()


def read_file(path: Path) -> dict[str, Any]:
    """A state file's snapshot, or SnapshotError saying what is wrong with the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SnapshotError(f"cannot read state file {path}: {exc}") from exc
    try:
        doc = strict_json_loads(raw)
        if (problem := body_problem(doc, MAX_FILE_JSON_DEPTH)):
            raise ValueError(f"it {problem}")
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SnapshotError(f"state file {path} is not valid JSON ({exc}); it is corrupt or "
                            "not a mockcomposio state file. Fix it, or move it away to start "
                            "empty (mockcomposio never overwrites it silently).") from exc
    try:
        check_header(doc)
    except SnapshotError as exc:
        raise SnapshotError(f"state file {path}: {exc}") from exc
    return typing.cast(dict[str, Any], doc)
