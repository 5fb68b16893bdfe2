"""The reserved control plane under ``/_mock/`` (never a Composio path).

Everything the pytest plugin does in-process, over HTTP, for a standalone server. Routes that
act on a tenant take its ``x-api-key`` like the API does (the calling tenant), and never touch
another tenant unless the body says so (``reset`` with ``"all": true``, ``state?all=true``,
a ``state`` import naming other API keys) *and* the server allows it: started with
``--all-tenants``, or the request carries the admin key (``x-mock-admin-key``; see
``policy.py``). Control-plane requests are not journaled and cannot be faulted.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable
from typing import Any

from .. import __version__
from ..clock import ClockRangeError, check_epoch
from ..domain import faults as faults_mod
from ..domain import journal as journal_mod
from ..domain.outcomes import Outcome
from ..errors import ComposioError, bad_request
from .app import POLICY_KEY, Call, HandlerResult
from .policy import ADMIN_HEADER


def require_cross_tenant(c: Call, what: str) -> None:
    """403 unless this request may act on other tenants (issue 19, finding 3)."""
    policy = c.request.app[POLICY_KEY]
    if policy.cross_tenant(c.request):
        return
    raise ComposioError(
        403, "Mock_CrossTenantForbidden",
        f"{what} acts on other tenants, which this server does not allow this request.",
        suggested_fix=f"Send the server's admin key in {ADMIN_HEADER} (serve --admin-key), or "
        "start a server of your own with --all-tenants; without either, every request sees "
        "only the tenant of its own x-api-key.")


def health(c: Call) -> HandlerResult:
    return 200, {"status": "ok", "projects": len(c.engine.projects)}


def version(c: Call) -> HandlerResult:
    return 200, {"name": "mockcomposio", "version": __version__,
                 "toolkits": len(c.engine.catalogue)}


def _tenant_json(c: Call) -> dict[str, Any]:
    p = c.engine.project(c.project.api_key)
    return {"project_id": p.id, "seed": p.seed}


# -- user-defined toolkits -----------------------------------------------------------------------

def toolkits_add(c: Call) -> HandlerResult:
    """``{"toolkits": [definition, ...]}``: toolkits the calling tenant sees besides the shared
    catalogue (a slug it has, built-in or its own, is replaced). All or nothing."""
    from ..domain.catalogue import CatalogueError, parse_definitions

    try:
        toolkits = parse_definitions((c.body or {}).get("toolkits"), origin="control plane")
    except CatalogueError as exc:
        raise bad_request(str(exc), slug="Mock_InvalidToolkit",
                          suggested_fix="Fix the field named in the message; the format is "
                          "contracts/mock/toolkit.schema.json.",
                          errors=str(exc).split("; ")) from exc
    project = c.engine.project(c.project.api_key)
    project.add_toolkits(toolkits)
    return 200, {"toolkits": [t.slug for t in toolkits],
                 "own": [t.slug for t in project.own_toolkits],
                 "total": len(project.catalogue), "project_id": project.id}


def toolkits_list(c: Call) -> HandlerResult:
    """The calling tenant's own toolkits (as stored, schemes expanded)."""
    project = c.engine.project(c.project.api_key)
    return 200, {"items": [t.raw for t in project.own_toolkits],
                 "total": len(project.catalogue), "project_id": project.id}


# -- reset / seed ------------------------------------------------------------------------------

def reset(c: Call) -> HandlerResult:
    """``{"seed": N}`` (optional): the fresh tenant's ids and Faker data are reproducible;
    ``{"all": true}``: forget every tenant of the server."""
    body = c.body or {}
    if body.get("all"):
        require_cross_tenant(c, 'POST /_mock/reset {"all": true}')
        dropped = len(c.engine.projects)
        for key in list(c.engine.projects):
            c.engine.drop(key)
        c.engine.reset(c.project.api_key, seed=body.get("seed"))
        return 200, {"reset": "all", "tenants_dropped": dropped, **_tenant_json(c)}
    c.engine.reset(c.project.api_key, seed=body.get("seed"))
    return 200, {"reset": "tenant", "tenants_dropped": 1, **_tenant_json(c)}


def seed(c: Call) -> HandlerResult:
    """Declare auth configs and accounts (the seed file's tenant format) in the calling tenant;
    with ``"seed": N`` the tenant is reset first with that seed."""
    from .. import seedfile, snapshot  # here, not at import: `serve` starts faster

    body = dict(c.body or {})
    declares = any(k in body for k in ("auth_configs", "connected_accounts", "toolkits",
                                       "webhook_subscription"))
    before = snapshot.export_project(c.project) if declares else None
    if "seed" in body:
        c.engine.reset(c.project.api_key, seed=body["seed"])
    project = c.engine.project(c.project.api_key)
    if before is not None:
        try:
            created = seedfile.apply_tenant(c.engine, c.project.api_key, body,
                                            c.origin.url(""), path="body")
        except seedfile.SeedError as exc:
            # All-or-nothing: put the tenant back as it was before the first object (with its
            # journal, scripted consent and faults, which snapshots leave out).
            restored = snapshot.build_project(c.engine, before, "tenant")
            old = c.project
            restored.journal, restored.consent, restored.faults = (
                old.journal, old.consent, old.faults)
            # the delivery log and the receiver too (snapshots keep only the subscriptions)
            restored.webhooks.deliveries = old.webhooks.deliveries
            restored.webhooks.received = old.webhooks.received
            restored.webhooks.receiver_script = old.webhooks.receiver_script
            restored.strict_contracts = old.strict_contracts
            restored.contract_violations = old.contract_violations
            c.engine.install(restored)
            raise bad_request(str(exc), slug="Mock_InvalidSeed",
                              suggested_fix="Fix the field named in the message; the seed "
                              "format is contracts/mock/seed-file.schema.json.") from exc
    else:
        created = {"auth_configs": {}, "connected_accounts": []}
    return 200, {**created, "project_id": project.id, "seed": project.seed}


# -- clock -------------------------------------------------------------------------------------

def _clock_json(c: Call) -> dict[str, Any]:
    clock = c.project.clock
    return {"now": clock.now(), "iso": clock.iso(), "frozen": clock.frozen}


def clock_get(c: Call) -> HandlerResult:
    return 200, _clock_json(c)


def clock_update(c: Call) -> HandlerResult:
    """``{"advance": seconds}``, ``{"set": epoch seconds | ISO-8601}``, ``{"freeze": bool}``
    (applied in the order freeze, set, advance); due expiries run at once. The whole request is
    tried on a copy of the clock first: a refused one leaves the clock untouched."""
    body = c.body or {}
    project = c.project
    trial = copy.copy(project.clock)
    try:
        if "freeze" in body:
            if body["freeze"]:
                trial.freeze()
            else:
                trial.unfreeze()
        if "set" in body:
            trial.set(_epoch(body["set"]))
        if "advance" in body:
            trial.advance(body["advance"])
    except ClockRangeError as exc:
        raise bad_request(f"Cannot move the clock: {exc}.", slug="Validation_Error",
                          suggested_fix='Send e.g. {"advance": 3600} or '
                          '{"set": "2030-01-01T00:00:00Z"}.') from exc
    project.clock._offset, project.clock._frozen_at = trial._offset, trial._frozen_at
    project.run_due()
    return 200, _clock_json(c)


def _epoch(value: Any) -> float:
    from ..clock import to_epoch

    try:
        when = to_epoch(value)
    except OverflowError as exc:
        raise ClockRangeError("set is out of range") from exc
    except ValueError as exc:
        raise bad_request(f"set: {str(value)[:60]!r} is neither epoch seconds nor an ISO-8601 "
                          "time.", slug="Validation_Error",
                          suggested_fix='Send e.g. {"set": "2030-01-01T00:00:00Z"}.') from exc
    return check_epoch(when, "set")


# -- consent -----------------------------------------------------------------------------------

def _outcome(spec: Any, where: str) -> Outcome:
    try:
        if isinstance(spec, str):
            return Outcome.parse(spec)
        decision = spec.get("decision", "allow")
        if decision not in ("allow", "deny"):
            raise ValueError(f"decision must be allow or deny, not {decision!r}")
        if decision == "deny":
            return Outcome.deny()
        if spec.get("provider_error"):
            return Outcome.error(str(spec["provider_error"]))
        return Outcome.allow(spec.get("scopes"), spec.get("fields"))
    except ValueError as exc:
        raise bad_request(f"{where}: {exc}", slug="Validation_Error",
                          suggested_fix='Use "allow", "deny", "error:<code>", '
                          '"scopes:a,b" or {"decision", "scopes", "provider_error", '
                          '"fields"}.') from exc


def consent_get(c: Call) -> HandlerResult:
    return 200, c.project.consent.as_json()


def consent_script(c: Call) -> HandlerResult:
    """Queue outcomes for the next flows the app opens (FIFO), and/or set the default mode.
    Scripted flows complete just before the tenant's next API call."""
    body = c.body or {}
    script = c.project.consent
    outcomes = [_outcome(o, f"outcomes[{i}]") for i, o in enumerate(body.get("outcomes", []))]
    mode = None
    if "mode" in body:
        mode = body["mode"] if body["mode"] == "manual" else _outcome(body["mode"], "mode")
    script.origin = c.origin.url("")
    if body.get("replace"):
        script.clear()
    script.script(outcomes)
    if mode is not None:
        script.set_mode(mode)
    return 200, script.as_json()


def consent_clear(c: Call) -> HandlerResult:
    script = c.project.consent
    script.clear()
    script.set_mode("manual")
    script.results.clear()
    return 200, script.as_json()


# -- faults ------------------------------------------------------------------------------------

def _operations() -> set[str]:
    from .routes import ROUTES

    return {r.operation for r in ROUTES if not r.operation.startswith("control.")}


def faults_list(c: Call) -> HandlerResult:
    return 200, {"faults": [f.as_json() for f in c.project.faults.list()],
                 "presets": list(faults_mod.PRESETS)}


def faults_create(c: Call) -> HandlerResult:
    body = c.body or {}
    preset = body.get("preset")
    operation = body.get("operation")
    if preset in faults_mod.REFRESH_PRESETS:
        operation = "provider.refresh"  # not a request: every refresh of the tenant's tokens
    elif operation is None:
        raise bad_request("operation is required (a route operation such as "
                          "connected_accounts.list, or \"*\" for every operation).",
                          slug="Validation_Error",
                          suggested_fix="GET /_mock/faults lists the presets; operations are "
                          "the route table's names (see the journal's operation field).")
    elif operation != faults_mod.ANY_OPERATION and operation not in _operations():
        import difflib

        close = difflib.get_close_matches(operation, sorted(_operations()), n=3)
        raise bad_request(f"unknown operation {operation!r}."
                          + (f" Did you mean {', '.join(close)}?" if close else ""),
                          slug="Validation_Error",
                          suggested_fix="Use an operation name from the journal "
                          "(GET /_mock/journal) or the README's control-plane section.")
    try:
        fault = c.project.faults.add(
            str(operation), preset=preset, latency_ms=int(body.get("latency_ms", 0)),
            times=body.get("times", 1), retry_after=int(body.get("retry_after", 30)))
    except ValueError as exc:
        raise bad_request(str(exc), slug="Validation_Error") from exc
    return 200, fault.as_json()


def faults_clear(c: Call) -> HandlerResult:
    return 200, {"cleared": c.project.faults.clear()}


# -- journal -----------------------------------------------------------------------------------

def _int_param(c: Call, name: str) -> int | None:
    raw = c.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        number = float(raw)  # "10.0" too, as the Python client writes numbers
        if number.is_integer():
            return int(number)
    except ValueError:
        pass
    raise bad_request(f"{name} must be an integer, not {raw!r}.", slug="Validation_Error")


def journal_list(c: Call) -> HandlerResult:
    q = c.query
    entries = journal_mod.select(
        c.project.journal.entries(), method=q.get("method") or None,
        path_prefix=q.get("path_prefix") or None, status=_int_param(c, "status"),
        operation=q.get("operation") or None, limit=_int_param(c, "limit"))
    return 200, {"entries": [e.as_json() for e in entries], "total": len(c.project.journal)}


def journal_clear(c: Call) -> HandlerResult:
    n = len(c.project.journal)
    c.project.journal.clear()
    return 200, {"cleared": n}


# -- state -------------------------------------------------------------------------------------

def _flag(c: Call, name: str) -> bool:
    return c.query.get(name, "").lower() in ("1", "true", "yes")


def state_export(c: Call) -> HandlerResult | Awaitable[HandlerResult]:
    """The calling tenant (``?all=true``: every tenant) as a versioned snapshot; secrets are
    redacted unless ``?secrets=true`` (only an unredacted snapshot can be imported)."""
    from .. import snapshot

    secrets = _flag(c, "secrets")
    if not _flag(c, "all"):
        return 200, snapshot.export_engine(c.engine, [c.project.api_key], secrets=secrets)
    require_cross_tenant(c, "GET /_mock/state?all=true")

    async def everyone() -> HandlerResult:
        # Every tenant can be many MB: exported on a worker thread (each tenant under its
        # own lock), so the event loop keeps answering meanwhile.
        doc = await asyncio.to_thread(snapshot.export_engine, c.engine, None, secrets=secrets)
        return 200, doc

    return everyone()


def state_import(c: Call) -> HandlerResult:
    from .. import snapshot

    admin = c.request.app[POLICY_KEY].cross_tenant(c.request)
    try:
        snapshot.check_header(c.body)  # a wrong or redacted file is told so first
        if any(not isinstance(t, dict) or t.get("api_key") != c.project.api_key
               for t in c.body["tenants"]):
            require_cross_tenant(c, "A snapshot naming other API keys than the caller's")
        projects = snapshot.import_snapshot(c.engine, c.body, engine_state=admin)
    except snapshot.SnapshotError as exc:
        raise ComposioError(400, "Mock_InvalidSnapshot", f"Snapshot refused: {exc}",
                            suggested_fix="Send a snapshot from GET /_mock/state?secrets=true; "
                            "nothing was changed.") from exc
    return 200, {"imported": [{"project_id": p.id, "accounts": len(p.accounts),
                               "auth_configs": len(p.auth_configs)} for p in projects]}


# -- callback identity verification --------------------------------------------------------------

def callback_verifier(c: Call) -> HandlerResult:
    """``{"url": "https://app/verify"}`` turns callback identity verification on for the calling
    tenant, ``{"url": null}`` off: the same switch as the API's ``PATCH /org/project/config
    {"oauth_callback_verifier_url": ...}``."""
    from ..domain import project_config

    with c.project.lock:
        project_config.set_callback_verifier(c.project, (c.body or {}).get("url"))
    return 200, {"oauth_callback_verifier_url": c.project.callback_verifier_url}
