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

import dataclasses
import itertools
import json
import os
import random
import re
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin, get_type_hints

from . import __version__
from .domain.models import AuthConfig, ConnectedAccount, Link
from .domain.project import AccountIndex, Project
from .domain.redact import redact
from .domain.sessions import Session

if TYPE_CHECKING:
    from .engine import Engine

FORMAT = "mockcomposio-state"
VERSION = 1


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
    if origin is dict:
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
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise SnapshotError(f"{path}: expected a number, got {value!r:.60}")
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
    except (TypeError, ValueError) as exc:
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
        "deadlines": [list(d) for d in sorted(project._deadlines)],
        "engine_registered_apps": sorted(project.engine_registered_apps),
        "provider": _export_provider(project),
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
    grants = {gid: {"client_id": g.client_id, "tokens": [ref(r) for r in g.tokens]}
              for gid, g in provider._grants.items()}
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
    with engine.lock:
        keys = list(engine.projects) if api_keys is None else list(api_keys)
        tenants = []
        for key in keys:
            project = engine.projects.get(key)
            if project is None:
                continue
            with project.lock:
                tenants.append(export_project(project))
        doc: dict[str, Any] = {
            "format": FORMAT, "version": VERSION, "mockcomposio_version": __version__,
            "redacted": not secrets,
            "engine": {"seed": engine.seed, "project_ids": _rng_state(engine._project_ids._rng)},
            "tenants": tenants,
        }
    if not secrets:
        doc["tenants"] = redact(doc["tenants"])
    return doc


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


def build_project(engine: Engine, data: Any, path: str) -> Project:
    """A detached Project rebuilt from one tenant's data (not yet live)."""
    from .domain.provider import OAuthApp, OAuthProvider, PendingAuthorization, TokenRecord
    from .domain.provider.records import _CodeRecord, _Grant, _Pending

    if not isinstance(data, dict):
        raise SnapshotError(f"{path}: expected an object")
    api_key = decode(str, _field(data, "api_key", path), f"{path}.api_key")
    if not api_key.strip():
        raise SnapshotError(f"{path}.api_key: must not be empty")
    seed = decode(int | None, data.get("seed"), f"{path}.seed")
    project = Project(decode(str, _field(data, "id", path), f"{path}.id"), api_key,
                      engine.catalogue, seed=seed)
    project.mask_secrets = decode(bool, data.get("mask_secrets", True), f"{path}.mask_secrets")
    clock = _field(data, "clock", path)
    if not isinstance(clock, dict):
        raise SnapshotError(f"{path}.clock: expected an object")
    project.clock._offset = decode(float, clock.get("offset", 0.0), f"{path}.clock.offset")
    project.clock._frozen_at = decode(float | None, clock.get("frozen_at"),
                                      f"{path}.clock.frozen_at")
    project.ids.restore(_restore_rng(data.get("ids"), f"{path}.ids"))
    project._seq = itertools.count(decode(int, data.get("seq", 0), f"{path}.seq"))

    for i, raw in enumerate(_field(data, "auth_configs", path) or []):
        ac = decode(AuthConfig, raw, f"{path}.auth_configs[{i}]")
        project.auth_configs[ac.id] = ac
    for i, raw in enumerate(_field(data, "accounts", path) or []):
        account = decode(ConnectedAccount, raw, f"{path}.accounts[{i}]")
        project.accounts[account.id] = account
    for i, raw in enumerate(data.get("deleted_accounts") or []):
        account = decode(ConnectedAccount, raw, f"{path}.deleted_accounts[{i}]")
        project.deleted_accounts[account.id] = account
    for i, raw in enumerate(_field(data, "links", path) or []):
        link = decode(Link, raw, f"{path}.links[{i}]")
        project.links[link.token] = link
    for state, token in decode(dict[str, str], data.get("links_by_state", {}),
                               f"{path}.links_by_state").items():
        if token not in project.links:
            raise SnapshotError(f"{path}.links_by_state.{state}: no link {token!r}")
        project.links_by_state[state] = project.links[token]
    for i, raw in enumerate(data.get("sessions") or []):
        session = decode(Session, raw, f"{path}.sessions[{i}]")
        project.sessions[session.id] = session
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
        for i, raw in enumerate(prov.get("apps", [])):
            app = decode(OAuthApp, raw, f"{p}.apps[{i}]")
            provider._apps[app.client_id] = app
        for i, raw in enumerate(prov.get("pending", [])):
            q = f"{p}.pending[{i}]"
            if not isinstance(raw, dict):
                raise SnapshotError(f"{q}: expected an object")
            pending = decode(PendingAuthorization, raw.get("pending"), f"{q}.pending")
            pending.app = provider._apps.get(pending.app.client_id, pending.app)
            provider._pending[pending.id] = _Pending(
                pending, decode(dict[str, str], raw.get("params", {}), f"{q}.params"))
        for i, raw in enumerate(prov.get("codes", [])):
            code = decode(_CodeRecord, raw, f"{p}.codes[{i}]")
            provider._codes[code.code] = code
        for i, raw in enumerate(decode(list[dict[str, str]], prov.get("spent_codes", []),
                                       f"{p}.spent_codes")):
            if set(raw) != {"code", "grant_id"}:
                raise SnapshotError(f"{p}.spent_codes[{i}]: expected code and grant_id")
            provider._spent_codes[raw["code"]] = raw["grant_id"]
        records: list[TokenRecord] = [decode(TokenRecord, raw, f"{p}.tokens[{i}]")
                                      for i, raw in enumerate(prov.get("tokens", []))]

        def record(i: Any, where: str) -> TokenRecord:
            if not isinstance(i, int) or not 0 <= i < len(records):
                raise SnapshotError(f"{where}: no token #{i!r}")
            return records[i]

        for i, ref in enumerate(prov.get("access", [])):
            r = record(ref, f"{p}.access[{i}]")
            provider._access[r.token] = r
        for i, ref in enumerate(prov.get("refresh", [])):
            r = record(ref, f"{p}.refresh[{i}]")
            provider._refresh[r.token] = r
        grants = prov.get("grants", {})
        if not isinstance(grants, dict):
            raise SnapshotError(f"{p}.grants: expected an object")
        for gid, g in grants.items():
            if not isinstance(g, dict):
                raise SnapshotError(f"{p}.grants.{gid}: expected an object")
            provider._grants[gid] = _Grant(
                decode(str, g.get("client_id"), f"{p}.grants.{gid}.client_id"),
                [record(ref, f"{p}.grants.{gid}.tokens[{j}]")
                 for j, ref in enumerate(g.get("tokens", []))])
        provider._user_logins = set(decode(list[str], prov.get("user_logins", []),
                                           f"{p}.user_logins"))
        project.install_provider(provider)

    problems = consistency_problems(project)
    if problems:
        raise SnapshotError(f"{path}: " + "; ".join(problems[:5]))
    project.index = AccountIndex()
    for account in project.accounts.values():
        project.index.add(account)
    return project


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


def import_snapshot(engine: Engine, doc: Any) -> list[Project]:
    """Load every tenant of ``doc`` into ``engine``, replacing tenants with the same API key;
    all-or-nothing (SnapshotError before anything changes). Returns the new projects."""
    check_header(doc)
    projects = []
    seen: set[str] = set()
    for i, data in enumerate(doc["tenants"]):
        project = build_project(engine, data, f"tenants[{i}]")
        if project.api_key in seen:
            raise SnapshotError(f"tenants[{i}].api_key: a second tenant with the same API key")
        seen.add(project.api_key)
        projects.append(project)
    eng = doc.get("engine") or {}
    project_ids = _restore_rng(eng.get("project_ids"), "engine.project_ids") \
        if isinstance(eng, dict) else None
    with engine.lock:
        if isinstance(eng, dict) and "project_ids" in eng:
            engine._project_ids._rng = project_ids
        for project in projects:
            engine.install(project)
    return projects


# -- files ------------------------------------------------------------------------------------

def write_atomic(path: Path, data: bytes) -> None:
    """Write-then-rename: the file is always either the old or the new complete snapshot."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # Owner-only: the file holds the tenants' tokens and client secrets.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
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


def dumps(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=False).encode()


def read_file(path: Path) -> dict[str, Any]:
    """A state file's snapshot, or SnapshotError saying what is wrong with the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SnapshotError(f"cannot read state file {path}: {exc}") from exc
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"state file {path} is not valid JSON ({exc}); it is corrupt or "
                            "not a mockcomposio state file. Fix it, or move it away to start "
                            "empty (mockcomposio never overwrites it silently).") from exc
    try:
        check_header(doc)
    except SnapshotError as exc:
        raise SnapshotError(f"state file {path}: {exc}") from exc
    return typing.cast(dict[str, Any], doc)
