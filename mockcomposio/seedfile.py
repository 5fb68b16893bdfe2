"""Seed files: tenants, auth configs and connected accounts declared in JSON or YAML
(``mockcomposio serve --seed-file PATH``; ``POST /_mock/seed`` takes one tenant's part).

The format's JSON Schema is ``contracts/mock/seed-file.schema.json``. Objects are made through
the same domain code as the API (via :class:`~mockcomposio.tenant.Tenant`), so a seeded ACTIVE
account has real tokens that refresh and expire like one connected through the pages.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ComposioError
from .resources import contracts_dir

if TYPE_CHECKING:
    from .domain.catalogue import Catalogue, Toolkit
    from .domain.models import AuthConfig
    from .engine import Engine

SCHEMA_FILE = "mock/seed-file.schema.json"
# Far above any hand-written seed file; a bigger one is a mistake (or an attack).
MAX_SEED_BYTES = 4 * 1024 * 1024


class SeedError(ValueError):
    """A seed that cannot be applied; the message names the path of the problem."""


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    from .contracts import _registry

    schema = json.loads((contracts_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    # the registry resolves toolkit.schema.json (the toolkits sections' items)
    return Draft202012Validator(schema, registry=_registry())


def _where(error: Any) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.lstrip(".") or "(top level)"


def validate(doc: Any) -> None:
    """SeedError listing every schema violation with its path (e.g. ``tenants[0].api_key``)."""
    from .domain.catalogue import most_specific_error

    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    # a oneOf/anyOf failure reads better as the sub-error that explains it
    errors = [most_specific_error(e) for e in errors]
    if errors:
        raise SeedError("; ".join(f"{_where(e)}: {e.message}" for e in errors[:10]))


def load(path: Path) -> dict[str, Any]:
    """Read and validate a seed file (``.yaml``/``.yml`` as YAML, anything else as JSON)."""
    try:
        size = path.stat().st_size
        if size > MAX_SEED_BYTES:
            raise SeedError(f"seed file {path} is {size} bytes; the limit is {MAX_SEED_BYTES}")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"cannot read seed file {path}: {exc}") from exc
    try:
        yaml_file = path.suffix.lower() in (".yaml", ".yml")
        doc = _load_yaml(text) if yaml_file else json.loads(text)
    except Exception as exc:  # json.JSONDecodeError or yaml.YAMLError: both mean "fix the file"
        raise SeedError(f"seed file {path} does not parse: {exc}") from exc
    try:
        validate(doc)
    except SeedError as exc:
        raise SeedError(f"seed file {path}: {exc}") from exc
    assert isinstance(doc, dict)
    return doc


def shared_toolkits(doc: dict[str, Any]) -> list[Toolkit]:
    """The top-level ``toolkits`` (every tenant sees them), validated and expanded."""
    from .domain.catalogue import CatalogueError, parse_definitions

    try:
        return parse_definitions(doc.get("toolkits") or [], origin="seed file",
                                 where="toolkits")
    except CatalogueError as exc:
        raise SeedError(str(exc)) from exc


def tenant_toolkits(section: dict[str, Any], path: str) -> list[Toolkit]:
    from .domain.catalogue import CatalogueError, parse_definitions

    try:
        return parse_definitions(section.get("toolkits") or [], origin="seed file",
                                 where=f"{path}.toolkits" if path else "toolkits")
    except CatalogueError as exc:
        raise SeedError(str(exc)) from exc


def _load_yaml(text: str) -> Any:
    """YAML without aliases: ``*ref`` lets a few hundred bytes expand into gigabytes (the
    "billion laughs"), and a seed file has no need for them."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):  # type: ignore[misc]
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, "YAML aliases (*name) are not allowed in seed files; write the "
                    "value out", event.start_mark)
            return super().compose_node(parent, index)

    return yaml.load(text, Loader=NoAliasLoader)  # a SafeLoader subclass: no Python tags


def check(engine: Engine, doc: dict[str, Any]) -> None:
    """Toolkits and references of every tenant exist (before a server binds its port). The
    shared ``toolkits`` are added to the engine's catalogue first (they are valid by then)."""
    toolkits = shared_toolkits(doc)
    per_tenant = [tenant_toolkits(section, f"tenants[{i}]")
                  for i, section in enumerate(doc.get("tenants", []))]
    if toolkits:
        engine.extend_catalogue(toolkits)
    for i, section in enumerate(doc.get("tenants", [])):
        precheck(engine, section["api_key"], section, f"tenants[{i}]", extra=per_tenant[i])


def apply(engine: Engine, doc: dict[str, Any], base_url: str) -> dict[str, Any]:
    """Apply every tenant of a validated seed document; returns what was created per key."""
    out = {}
    toolkits = shared_toolkits(doc)
    if toolkits:  # (again: check() may not have run; re-adding the same slugs is harmless)
        engine.extend_catalogue(toolkits)
    for i, section in enumerate(doc.get("tenants", [])):
        key = section["api_key"]
        if "seed" in section:
            engine.reset(key, seed=section["seed"])
        out[key] = apply_tenant(engine, key, section, base_url, path=f"tenants[{i}]")
    return out


def apply_tenant(engine: Engine, api_key: str, section: dict[str, Any], base_url: str,
                 *, path: str = "") -> dict[str, Any]:
    """Create one tenant's declared auth configs, then its accounts (in order). Toolkits and
    references are checked first, so a mistake there changes nothing."""
    from .testing.tenant import Tenant

    own = tenant_toolkits(section, path)
    precheck(engine, api_key, section, path, extra=own)
    if own:
        engine.project(api_key).add_toolkits(own)
    tenant = Tenant(engine, api_key, base_url, seed=engine.project(api_key).seed)
    refs: dict[str, AuthConfig] = {}
    created_configs: dict[str, str] = {}
    for i, spec in enumerate(section.get("auth_configs", [])):
        where = f"{path}.auth_configs[{i}]"
        kind = spec.get("type")
        try:
            ac = tenant.add_auth_config(
                spec["toolkit"], scopes=spec.get("scopes"),
                custom=None if kind is None else kind == "custom",
                auth_scheme=spec.get("auth_scheme"), credentials=spec.get("credentials"),
                name=spec.get("name"))
        except (ValueError, ComposioError) as exc:
            raise SeedError(f"{where}: {_message(exc)}") from exc
        ref = spec.get("ref") or ac.id
        if ref in refs:
            raise SeedError(f"{where}.ref: {ref!r} is already used by another auth config")
        refs[ref] = ac
        created_configs[ref] = ac.id
    accounts = []
    for i, spec in enumerate(section.get("connected_accounts", [])):
        where = f"{path}.connected_accounts[{i}]"
        target: AuthConfig | str = refs.get(spec["auth_config"], spec["auth_config"])
        try:
            account = tenant.add_account(
                target, spec.get("user_id"), status=spec.get("status", "ACTIVE"),
                scopes=spec.get("scopes"), fields=spec.get("fields"),
                callback_url=spec.get("callback_url"), status_reason=spec.get("status_reason"))
        except (ValueError, ComposioError) as exc:
            raise SeedError(f"{where}: {_message(exc)}") from exc
        accounts.append({"id": account.id, "user_id": account.user_id,
                         "auth_config_id": account.auth_config_id, "status": account.status})
    # Disabled last: a disabled config refuses new connections, but its accounts (declared
    # above) stay usable, as on Composio.
    for i, spec in enumerate(section.get("auth_configs", [])):
        if spec.get("status") == "DISABLED":
            tenant.disable_auth_config(created_configs[spec.get("ref") or list(refs)[i]])
    out: dict[str, Any] = {"auth_configs": created_configs, "connected_accounts": accounts}
    if (hook := section.get("webhook_subscription")) is not None:
        out["webhook_subscription"] = _subscribe(tenant, hook, f"{path}.webhook_subscription")
    return out


def _subscribe(tenant: Any, spec: dict[str, Any], where: str) -> dict[str, str]:
    """The tenant's one webhook subscription, created or updated (checked in precheck)."""
    from .domain import webhooks

    try:
        sub = tenant.webhooks.subscribe(
            spec["webhook_url"], spec.get("enabled_events", [webhooks.CONNECTION_EXPIRED]),
            spec.get("version", "V3"))
    except ComposioError as exc:
        raise SeedError(f"{where}: {exc.message}") from exc
    return {"id": sub.id, "secret": sub.secret}


def precheck(engine: Engine, api_key: str, section: dict[str, Any], path: str,
             extra: list[Toolkit] | None = None) -> None:
    """References resolve; ``extra``: the section's own toolkits, not added yet."""
    from .domain import auth_configs

    project = engine.project(api_key)
    if extra:  # look up in what the tenant will see, without changing it yet
        project = _Lookup(project.catalogue.extended(extra), project)  # type: ignore[assignment]
    refs: set[str] = set()
    for i, spec in enumerate(section.get("auth_configs", [])):
        try:
            auth_configs.resolve_toolkit(project, spec["toolkit"])
        except ComposioError as exc:
            raise SeedError(f"{path}.auth_configs[{i}].toolkit: {exc.message}") from exc
        if spec.get("ref"):
            refs.add(spec["ref"])
    if (hook := section.get("webhook_subscription")) is not None:
        from .domain import webhooks

        where = f"{path}.webhook_subscription"
        try:
            version = webhooks.check_version(hook.get("version", "V3"))
            webhooks.check_url(hook["webhook_url"], any_host=webhooks.allow_any_host(project))
            webhooks.check_events(hook.get("enabled_events", [webhooks.CONNECTION_EXPIRED]),
                                  version)
        except ComposioError as exc:
            raise SeedError(f"{where}: {exc.message}") from exc
    known = ", ".join(sorted(refs)) or "none"
    for i, spec in enumerate(section.get("connected_accounts", [])):
        target = spec["auth_config"]
        where = f"{path}.connected_accounts[{i}].auth_config"
        if target in refs or target in project.auth_configs:
            continue
        if target.startswith("ac_"):
            raise SeedError(f"{where}: {target!r} is neither a ref of this tenant's "
                            f"auth_configs ({known}) nor an existing auth config")
        try:
            auth_configs.resolve_toolkit(project, target)
        except ComposioError as exc:
            raise SeedError(f"{where}: {target!r} is not a ref of this tenant's auth_configs "
                            f"({known}), an auth config id, or a toolkit: {exc.message}") from exc


class _Lookup:
    """What :func:`precheck` reads of a project (its catalogue and auth configs), with a
    catalogue that already has the section's own toolkits."""

    def __init__(self, catalogue: Catalogue, project: Any) -> None:
        self.catalogue = catalogue
        self.auth_configs = project.auth_configs


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, ComposioError) else str(exc)
