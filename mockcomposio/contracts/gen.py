"""Regenerate ``contracts/`` from an OpenAPI file (and the installed SDK's response models).

Usage::

    python -m mockcomposio.contract_gen SPEC.json [--out contracts] [--spec-commit SHA]
        [--spec-date YYYY-MM-DD] [--spec-source TEXT] [--no-sdk]

What it writes (see ``contracts/README.md``):

* ``responses/<operation>.json`` for every JSON operation of the route table: a ``responses``
  map keyed by status. A 2xx schema is ``allOf`` of (a) the spec's response schema converted
  from OpenAPI 3.0 to JSON Schema 2020-12, when the spec has the operation, and (b) the SDK's
  pydantic response model (``sdk/<Model>.json``), when the SDK has one. Error statuses and
  ``default`` point to the shared envelope ``error.json``.
* ``sdk/<Model>.json``: ``model_json_schema(by_alias=True)`` of the composio-client models.
* ``spec/requests/<operation>.json``: the spec's request body, converted (reference copies:
  request validation uses the curated ``requests/`` schemas; ``contracts diff`` compares them).
* ``error.json`` and ``provenance.json``.

The curated ``requests/*.json`` and the hand-written ``mock/*.json`` are never touched.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import is_json_operation

BASE_ID = "https://mockcomposio.invalid/contracts/"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
API_PREFIXES = ("/api/v3.1", "/api/v3")

# Operation id → composio-client response model (module under composio_client.types, class).
SDK_RESPONSE_MODELS: dict[str, tuple[str, str]] = {
    "auth_configs.create": ("auth_config_create_response", "AuthConfigCreateResponse"),
    "auth_configs.list": ("auth_config_list_response", "AuthConfigListResponse"),
    "auth_configs.get": ("auth_config_retrieve_response", "AuthConfigRetrieveResponse"),
    "auth_configs.update": ("auth_config_update_response", "AuthConfigUpdateResponse"),
    "auth_configs.set_status": ("auth_config_update_status_response",
                                "AuthConfigUpdateStatusResponse"),
    "auth_configs.delete": ("auth_config_delete_response", "AuthConfigDeleteResponse"),
    "toolkits.list": ("toolkit_list_response", "ToolkitListResponse"),
    "toolkits.get": ("toolkit_retrieve_response", "ToolkitRetrieveResponse"),
    "toolkits.categories": ("toolkit_retrieve_categories_response",
                            "ToolkitRetrieveCategoriesResponse"),
    "toolkits.changelog": ("toolkit_retrieve_changelog_response",
                           "ToolkitRetrieveChangelogResponse"),
    "toolkits.multi": ("toolkit_retrieve_multi_response", "ToolkitRetrieveMultiResponse"),
    "connected_accounts.create": ("connected_account_create_response",
                                  "ConnectedAccountCreateResponse"),
    "connected_accounts.link": ("link_create_response", "LinkCreateResponse"),
    "connected_accounts.list": ("connected_account_list_response",
                                "ConnectedAccountListResponse"),
    "connected_accounts.get": ("connected_account_retrieve_response",
                               "ConnectedAccountRetrieveResponse"),
    "connected_accounts.delete": ("connected_account_delete_response",
                                  "ConnectedAccountDeleteResponse"),
    "connected_accounts.update_status": ("connected_account_update_status_response",
                                         "ConnectedAccountUpdateStatusResponse"),
    "connected_accounts.update": ("connected_account_patch_response",
                                  "ConnectedAccountPatchResponse"),
    "connected_accounts.refresh": ("connected_account_refresh_response",
                                   "ConnectedAccountRefreshResponse"),
    "connected_accounts.revoke": ("connected_account_revoke_response",
                                  "ConnectedAccountRevokeResponse"),
    "connected_accounts.complete_auth": ("connected_account_complete_auth_response",
                                         "ConnectedAccountCompleteAuthResponse"),
    "tool_router.create_session": ("tool_router.session_create_response",
                                   "SessionCreateResponse"),
    "tool_router.get_session": ("tool_router.session_retrieve_response",
                                "SessionRetrieveResponse"),
    "tool_router.delete_session": ("tool_router.session_delete_response",
                                   "SessionDeleteResponse"),
    "tool_router.link": ("tool_router.session_link_response", "SessionLinkResponse"),
    "tool_router.toolkits": ("tool_router.session_toolkits_response", "SessionToolkitsResponse"),
    "tool_router.tools": ("tool_router.session_tools_response", "SessionToolsResponse"),
    "tool_router.execute": ("tool_router.session_execute_response", "SessionExecuteResponse"),
    "tool_router.execute_meta": ("tool_router.session_execute_meta_response",
                                 "SessionExecuteMetaResponse"),
    "tool_router.search": ("tool_router.session_search_response", "SessionSearchResponse"),
    "tool_router.update_session": ("tool_router.session_patch_response",
                                   "SessionPatchResponse"),
    "tool_router.config_history": ("tool_router.session_config_history_response",
                                   "SessionConfigHistoryResponse"),
    # Session operations mockcomposio refuses (always an error envelope); their 2xx is the
    # SDK's model all the same, so the contract describes the real API.
    "tool_router.attach": ("tool_router.session_attach_response", "SessionAttachResponse"),
    "tool_router.proxy_execute": ("tool_router.session_proxy_execute_response",
                                  "SessionProxyExecuteResponse"),
    "tool_router.files.list": ("tool_router.session.file_list_response", "FileListResponse"),
    "tool_router.files.delete": ("tool_router.session.file_delete_response",
                                 "FileDeleteResponse"),
    "tool_router.files.download_url": ("tool_router.session.file_create_download_url_response",
                                       "FileCreateDownloadURLResponse"),
    "tool_router.files.upload_url": ("tool_router.session.file_create_upload_url_response",
                                     "FileCreateUploadURLResponse"),
    "session_configs.list": ("session_configs_list_response", "SessionConfigsListResponse"),
    "session_configs.get": ("session_configs_retrieve_response",
                            "SessionConfigsRetrieveResponse"),
    "webhook_subscriptions.create": ("webhook_subscription_create_response",
                                     "WebhookSubscriptionCreateResponse"),
    "webhook_subscriptions.list": ("webhook_subscription_list_response",
                                   "WebhookSubscriptionListResponse"),
    "webhook_subscriptions.get": ("webhook_subscription_retrieve_response",
                                  "WebhookSubscriptionRetrieveResponse"),
    "webhook_subscriptions.update": ("webhook_subscription_update_response",
                                     "WebhookSubscriptionUpdateResponse"),
    "webhook_subscriptions.delete": ("webhook_subscription_delete_response",
                                     "WebhookSubscriptionDeleteResponse"),
    "webhook_subscriptions.rotate_secret": ("webhook_subscription_rotate_secret_response",
                                            "WebhookSubscriptionRotateSecretResponse"),
    "webhook_subscriptions.list_event_types": (
        "webhook_subscription_list_event_types_response",
        "WebhookSubscriptionListEventTypesResponse"),
}

# Success status of operations the spec file does not describe (from the SDK / wire contract).
NON_SPEC_SUCCESS: dict[str, str] = {
    "connected_accounts.update": "200",
    "connected_accounts.revoke": "200",
    "connected_accounts.complete_auth": "200",
    "tool_router.delete_session": "200",
    "tool_router.tools": "200",
    "tool_router.search": "200",
    "tool_router.update_session": "200",
    "tool_router.config_history": "200",
    "tool_router.attach": "201",
    "tool_router.proxy_execute": "200",
    "tool_router.files.list": "200",
    "tool_router.files.delete": "200",
    "tool_router.files.download_url": "200",
    "tool_router.files.upload_url": "200",
    "session_configs.list": "200",
    "session_configs.get": "200",
    # webhook subscriptions (changelog 2026-02-06) postdate the spec file
    "webhook_subscriptions.create": "201",
    "webhook_subscriptions.list": "200",
    "webhook_subscriptions.get": "200",
    "webhook_subscriptions.update": "200",
    "webhook_subscriptions.delete": "200",
    "webhook_subscriptions.rotate_secret": "200",
    "webhook_subscriptions.list_event_types": "200",
}

# Legacy v1 operations (``composio-core`` 0.7.x, ``http/v1_routes.py``). The v3 spec has no v1
# paths and composio-client no v1 models, so a 2xx contract is ``allOf`` of the v1 spec's
# response (``v1/spec/<operation>.json``, from ``shared/spec/openapi-v1-legacy.json``) and the
# composio-core 0.7.22 pydantic model the SDK parses it with (``v1/sdk/<Model>.json``; "[]" =
# an ``items`` list of that model). Both are written by ``generate_v1`` (``--v1-spec``).
# Operation → (our success status, v1 spec operationId, composio-core model or None).
V1_OPERATIONS: dict[str, tuple[str, str, str | None]] = {
    "v1.client_info": ("200", "ClientAuth_getUserInfo", None),
    "v1.apps.list": ("200", "App_list", "AppModel[]"),
    "v1.apps.get": ("200", "App_getDetails", "AppModel"),
    "v1.integrations.create": ("200", "AppConnector_createIntegration", "IntegrationModel"),
    "v1.integrations.list": ("200", "AppConnector_listGlobalConnectors", "IntegrationModel[]"),
    "v1.integrations.get": ("200", "AppConnector_getConnectorInfo", "IntegrationModel"),
    # the spec says 204 with a body (impossible on the wire); the SDK ignores the status
    "v1.integrations.update": ("200", "AppConnector_updateIntegration", None),
    "v1.integrations.delete": ("200", "AppConnector_deleteConnector", None),
    "v1.connected_accounts.initiate": ("200", "Connections_initiate", "ConnectionRequestModel"),
    "v1.connected_accounts.list": ("200", "Connections_list", "ConnectedAccountModel[]"),
    "v1.connected_accounts.get": ("200", "Connections_get", "ConnectedAccountModel"),
    "v1.connected_accounts.delete": ("200", "Connections_delete", None),
    "v1.connected_accounts.enable": ("201", "Connections_enable", None),
    "v1.connected_accounts.disable": ("201", "Connections_disable", None),
    # the (empty) action and trigger catalogues of the SDK's first-run cache refresh
    "v1.actions.list": ("200", "ActionsControllerV2_list", "ActionModel[]"),
    "v1.triggers.list": ("200", "Triggers_list", None),
}
V1_SDK_MODELS = ("AppModel", "IntegrationModel", "ConnectedAccountModel",
                 "ConnectionRequestModel", "ActionModel")
# Corrections to the 2024 v1 spec file, where it contradicts the SDK that parsed the answers:
# (operation, JSON pointer into the converted response schema, replacement, reason).
V1_SPEC_FIXES: list[tuple[str, str, Any, str]] = [
    *[(op, f"/properties/items/items/properties/{name}",
       {"type": "array", "items": {"type": "string"}},
       "typed string with string items; AppModel.categories is List[str]")
      for op in ("v1.apps.list",) for name in ("categories", "tags")],
    *[(op, "/properties/expectedInputFields/items/properties/default",
       {"type": ["string", "null"]}, "typed object; ExpectedFieldInput.default is Optional[str]")
      for op in ("v1.integrations.create", "v1.integrations.get")],
    ("v1.connected_accounts.initiate", "/properties/redirectUrl", {"type": ["string", "null"]},
     "null once ACTIVE (seed 003's bearer/API-key examples); SDK: Optional[str]"),
]
# Dumps the composio-core models (run with the v1 venv's interpreter, see generate_v1).
V1_SDK_DUMP = (
    "import json; from composio.client import collections as c; print(json.dumps({n: getattr("
    "c, n).model_json_schema(by_alias=True, mode='validation') for n in "
    + repr(V1_SDK_MODELS) + "}))")


# The envelope requirements of composio-client 2.0.0rc19 (``APIStatusError.details``: message,
# slug, code, status; request_id, suggested_fix and errors typed when present), wire contract §4.
SDK_ERROR_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "code", "slug", "status"],
            "properties": {
                "message": {"type": "string"},
                "code": {"type": "integer"},
                "slug": {"type": "string"},
                "status": {"type": "integer"},
                "request_id": {"type": "string"},
                "suggested_fix": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "string"}},
            },
        }
    },
}

# Keys of an OpenAPI 3.0 schema object that are not JSON Schema 2020-12 (or are noise here).
_DROP = frozenset({"example", "examples", "discriminator", "xml", "externalDocs", "nullable"})
_SCHEMA_MAP_KEYS = ("properties", "patternProperties", "$defs", "definitions")
_SCHEMA_LIST_KEYS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_KEYS = ("items", "additionalProperties", "not", "contains", "propertyNames",
                "if", "then", "else")


# -- OpenAPI 3.0 → JSON Schema 2020-12 -------------------------------------------------------

def convert_schema(schema: Any, components: dict[str, Any], *, relax_one_of: bool = True,
                   _seen: tuple[str, ...] = ()) -> Any:
    """Convert one OpenAPI 3.0 schema object: inline component refs, ``nullable`` → null type,
    boolean ``exclusiveMinimum``/``exclusiveMaximum``, drop examples and discriminators.

    ``oneOf`` becomes ``anyOf`` when ``relax_one_of``: the spec's branches are not mutually
    exclusive (objects allow extra keys and most fields are optional), so ``oneOf`` would reject
    valid payloads that happen to match two branches."""
    if isinstance(schema, bool) or not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name in _seen:
            raise ValueError(f"recursive component schema {name!r} cannot be inlined")
        return convert_schema(components[name], components, relax_one_of=relax_one_of,
                              _seen=(*_seen, name))
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROP:
            continue
        if key in _SCHEMA_MAP_KEYS and isinstance(value, dict):
            out[key] = {k: convert_schema(v, components, relax_one_of=relax_one_of, _seen=_seen)
                        for k, v in value.items()}
        elif key in _SCHEMA_LIST_KEYS and isinstance(value, list):
            target = "anyOf" if key == "oneOf" and relax_one_of else key
            branches = [convert_schema(v, components, relax_one_of=relax_one_of, _seen=_seen)
                        for v in value]
            out[target] = [*out.get(target, []), *branches]
        elif key in _SCHEMA_KEYS and isinstance(value, dict):
            out[key] = convert_schema(value, components, relax_one_of=relax_one_of, _seen=_seen)
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            if value and bound in schema:
                out[key] = schema[bound]
        else:
            out[key] = copy.deepcopy(value)
    if "exclusiveMinimum" in out and out.get("minimum") == out["exclusiveMinimum"]:
        out.pop("minimum")
    if "exclusiveMaximum" in out and out.get("maximum") == out["exclusiveMaximum"]:
        out.pop("maximum")
    if schema.get("nullable") is True:
        out = _nullable(out)
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema = {**schema, "type": [kind, "null"]}
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
        return schema
    if isinstance(kind, list):
        if "null" not in kind:
            schema = {**schema, "type": [*kind, "null"]}
        return schema
    annotations = {k: v for k, v in schema.items() if k in ("description", "title", "default",
                                                            "deprecated")}
    rest = {k: v for k, v in schema.items() if k not in annotations}
    if not rest:
        return schema  # {nullable: true} alone: anything goes already
    return {**annotations, "anyOf": [rest, {"type": "null"}]}


# -- the spec ---------------------------------------------------------------------------------

def normalize_path(path: str) -> str:
    """``/api/v3.1/auth_configs/{id}`` and ``/api/v3/auth_configs/{nanoid}`` → same key."""
    for prefix in API_PREFIXES:
        if path.startswith(prefix + "/"):
            path = path[len(prefix):]
            break
    return re.sub(r"\{[^}]+\}", "{}", path).rstrip("/").lower()


@dataclass(frozen=True)
class SpecOperation:
    method: str
    path: str
    operation_id: str
    tags: tuple[str, ...]
    raw: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return self.method, normalize_path(self.path)


def spec_operations(spec: dict[str, Any]) -> list[SpecOperation]:
    out = []
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method.lower() not in ("get", "post", "put", "patch", "delete"):
                continue
            out.append(SpecOperation(method.upper(), path, str(op.get("operationId", "")),
                                     tuple(op.get("tags", [])), op))
    return out


def _json_content(obj: dict[str, Any]) -> Any:
    return obj.get("content", {}).get("application/json", {}).get("schema")


def spec_request_schema(op: SpecOperation, components: dict[str, Any]) -> Any:
    body = op.raw.get("requestBody")
    schema = _json_content(body) if isinstance(body, dict) else None
    return None if schema is None else convert_schema(schema, components, relax_one_of=False)


def spec_response_schemas(op: SpecOperation, components: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, response in op.raw.get("responses", {}).items():
        schema = _json_content(response) if isinstance(response, dict) else None
        out[str(status)] = None if schema is None else schema
    return out


# -- our operations ---------------------------------------------------------------------------

@dataclass(frozen=True)
class OurOperation:
    operation: str
    method: str
    path: str  # one served path, e.g. /api/v3.1/auth_configs/{id}
    json_body: bool

    @property
    def key(self) -> tuple[str, str]:
        return self.method, normalize_path(self.path)


def json_operations() -> list[OurOperation]:
    """The route table's JSON operations (the API and the control plane), one per operation."""
    from ..http.routes import ROUTES

    seen: dict[str, OurOperation] = {}
    for route in ROUTES:
        if not is_json_operation(route.operation):
            continue
        current = seen.get(route.operation)
        if current is None or route.path.startswith("/api/v3.1/"):
            seen[route.operation] = OurOperation(route.operation, route.method, route.path,
                                                 route.json_body)
    return list(seen.values())


# -- SDK models -------------------------------------------------------------------------------

def sdk_schema(module: str, cls: str) -> dict[str, Any] | None:
    try:
        mod = importlib.import_module(f"composio_client.types.{module}")
    except ImportError:
        return None
    model = getattr(mod, cls)
    schema: dict[str, Any]
    if hasattr(model, "model_json_schema"):
        schema = model.model_json_schema(by_alias=True, mode="validation")
    else:  # a type alias (list of models, union): go through a TypeAdapter
        from pydantic import TypeAdapter

        schema = TypeAdapter(model).json_schema(by_alias=True, mode="validation")
    return schema


def sdk_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("composio-client")
    except Exception:
        return None


# -- writing ----------------------------------------------------------------------------------

def _dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=False, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def _error_schema(spec_error: Any) -> dict[str, Any]:
    parts: list[Any] = []
    if spec_error is not None:
        parts.append({"title": "spec: components.schemas.Error", **spec_error})
    parts.append({"title": "sdk: composio-client APIStatusError.details", **SDK_ERROR_ENVELOPE})
    return {"$schema": SCHEMA_DIALECT, "$id": BASE_ID + "error.json",
            "title": "Composio error envelope", "allOf": parts}


def _error_ref(schema: Any, components: dict[str, Any]) -> Any:
    if schema is None or schema == {"$ref": "#/components/schemas/Error"}:
        return {"$ref": "../error.json"}
    return {"allOf": [convert_schema(schema, components), {"$ref": "../error.json"}]}


def load_overrides(out: Path) -> list[dict[str, Any]]:
    path = out / "overrides.json"
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")).get("responses", []))


def apply_override(schema: dict[str, Any], pointer: str, replacement: Any,
                   mode: str = "replace") -> bool:
    """Replace the subschema at ``pointer`` (RFC 6901), or with ``mode="widen"`` also accept
    ``replacement`` (``anyOf`` of both); False when the pointer is absent."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    node: Any = schema
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    if not isinstance(node, dict) or parts[-1] not in node:
        return False
    if mode == "widen":
        node[parts[-1]] = {"anyOf": [node[parts[-1]], copy.deepcopy(replacement)]}
    else:
        node[parts[-1]] = copy.deepcopy(replacement)
    return True


def generate(spec: dict[str, Any], out: Path, *, spec_meta: dict[str, Any],
             use_sdk: bool = True) -> dict[str, Any]:
    components = spec.get("components", {}).get("schemas", {})
    overrides = load_overrides(out)
    applied: list[str] = []
    unapplied: list[str] = []
    by_key = {op.key: op for op in spec_operations(spec)}
    error_spec = (convert_schema(components["Error"], components)
                  if "Error" in components else None)
    _dump(out / "error.json", _error_schema(error_spec))
    mock_dir = out / "mock"
    summary: dict[str, Any] = {}
    for ours in sorted(json_operations(), key=lambda o: o.operation):
        sources: dict[str, Any] = {}
        spec_op = by_key.get(ours.key)
        responses: dict[str, Any] = {}
        hand_written = mock_dir / f"{ours.operation}.json"
        if ours.operation in V1_OPERATIONS:
            sources["v1"], responses = v1_responses(ours.operation)
        elif hand_written.exists():  # our own control plane: no spec, no SDK
            sources["mock"] = f"mock/{ours.operation}.json"
            responses["200"] = {"$ref": f"../mock/{ours.operation}.json"}
            responses["default"] = {"$ref": "../error.json"}
        sdk_ref = None
        if use_sdk and ours.operation in SDK_RESPONSE_MODELS:
            module, cls = SDK_RESPONSE_MODELS[ours.operation]
            schema = sdk_schema(module, cls)
            if schema is not None:
                _dump(out / "sdk" / f"{cls}.json",
                      {"$schema": SCHEMA_DIALECT, "$id": BASE_ID + f"sdk/{cls}.json",
                       "x-source": f"composio_client.types.{module}.{cls}", **schema})
                sdk_ref = {"$ref": f"../sdk/{cls}.json"}
                sources["sdk"] = f"composio_client.types.{module}.{cls}"
        elif (out / "sdk").exists() and ours.operation in SDK_RESPONSE_MODELS:
            cls = SDK_RESPONSE_MODELS[ours.operation][1]
            if (out / "sdk" / f"{cls}.json").exists():  # --no-sdk: keep the committed copy
                sdk_ref = {"$ref": f"../sdk/{cls}.json"}
                sources["sdk"] = f"sdk/{cls}.json (kept)"
        if spec_op is not None:
            sources["spec"] = {"operationId": spec_op.operation_id,
                               "method": spec_op.method, "path": spec_op.path}
            for status, schema in spec_response_schemas(spec_op, components).items():
                if status.startswith("2"):
                    parts = []
                    if schema is not None:
                        converted = convert_schema(schema, components)
                        for o in overrides:
                            if o["operation"] == ours.operation and o["status"] == status:
                                label = f"{ours.operation} {status} {o['pointer']}"
                                ok = apply_override(converted, o["pointer"], o["schema"],
                                                    o.get("mode", "replace"))
                                (applied if ok else unapplied).append(label)
                                if ok:
                                    sources.setdefault("overrides", []).append(o["pointer"])
                        parts.append({"title": f"spec: {spec_op.operation_id} {status}",
                                      **converted})
                    if sdk_ref is not None:
                        parts.append(sdk_ref)
                    responses[status] = {"allOf": parts} if parts else {}
                else:
                    responses[status] = _error_ref(schema, components)
            request = spec_request_schema(spec_op, components)
            if request is not None:
                _dump(out / "spec" / "requests" / f"{ours.operation}.json",
                      {"$schema": SCHEMA_DIALECT,
                       "$id": BASE_ID + f"spec/requests/{ours.operation}.json",
                       "title": f"spec: {spec_op.operation_id} request body", **request})
        elif ours.operation in NON_SPEC_SUCCESS:
            responses[NON_SPEC_SUCCESS[ours.operation]] = (
                {"allOf": [sdk_ref]} if sdk_ref is not None else {})
        responses.setdefault("default", {"$ref": "../error.json"})
        doc = {
            "$schema": SCHEMA_DIALECT,
            "$id": BASE_ID + f"responses/{ours.operation}.json",
            "title": f"{ours.method} {ours.path} responses",
            "x-operation": ours.operation,
            "x-sources": sources,
            "responses": responses,
        }
        _dump(out / "responses" / f"{ours.operation}.json", doc)
        summary[ours.operation] = sources
    provenance = {
        "generated_by": "python -m mockcomposio.contract_gen",
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "spec": spec_meta,
        "sdk": {"package": "composio-client", "version": sdk_version() if use_sdk else None,
                "sdk_package": "composio==0.29.0",
                "how": "model_json_schema(by_alias=True, mode='validation') of the response "
                       "models in composio_client.types"},
        "conversion": [
            "OpenAPI 3.0 → JSON Schema 2020-12: nullable → null type, component $refs inlined, "
            "examples/discriminators dropped, boolean exclusiveMinimum/Maximum converted",
            "response oneOf relaxed to anyOf (the spec's branches overlap)",
            "2xx schema = allOf(spec response, SDK model); error statuses and default = "
            "error.json (spec Error ∧ SDK envelope requirements)",
        ],
        "overrides": {"file": "overrides.json", "applied": applied,
                      "not_applied": unapplied},
        "operations": summary,
    }
    _dump(out / "provenance.json", provenance)
    return provenance


def v1_responses(operation: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``responses`` map (and sources) of a v1 operation: refs into ``v1/``."""
    status, operation_id, model = V1_OPERATIONS[operation]
    parts: list[Any] = [{"$ref": f"../v1/spec/{operation}.json"}]
    sources: dict[str, Any] = {"spec": f"openapi-v1-legacy.json {operation_id}"}
    if model is not None:
        name = model.removesuffix("[]")
        ref = {"$ref": f"../v1/sdk/{name}.json"}
        parts.append(ref if name == model else {
            "type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": ref}}})
        sources["sdk"] = f"composio.client.collections.{name} (composio-core 0.7.22)"
    return sources, {status: {"allOf": parts}, "default": {"$ref": "../error.json"}}


def generate_v1(v1_spec: dict[str, Any], out: Path, *,
                sdk_schemas: dict[str, Any] | None = None) -> list[str]:
    """Write ``v1/spec/<operation>.json`` from the legacy v1 spec (with ``V1_SPEC_FIXES``) and,
    when given, ``v1/sdk/<Model>.json`` from composio-core's models. Returns the fixes that
    did not apply (their pointer is absent from this spec)."""
    components = v1_spec.get("components", {}).get("schemas", {})
    by_id = {op.operation_id: op for op in spec_operations(v1_spec)}
    unapplied = []
    for operation, (_, operation_id, _) in sorted(V1_OPERATIONS.items()):
        schemas = spec_response_schemas(by_id[operation_id], components)
        status, schema = next((k, v) for k, v in schemas.items() if k.startswith("2"))
        converted = convert_schema(schema, components)
        for fix_op, pointer, replacement, _reason in V1_SPEC_FIXES:
            if fix_op == operation and not apply_override(converted, pointer, replacement):
                unapplied.append(f"{operation} {pointer}")
        _dump(out / "v1" / "spec" / f"{operation}.json",
              {"$schema": SCHEMA_DIALECT, "$id": BASE_ID + f"v1/spec/{operation}.json",
               "title": f"spec (v1 legacy): {operation_id} {status}",
               "x-fixes": [f"{p}: {r}" for o, p, _, r in V1_SPEC_FIXES if o == operation],
               **converted})
    for name, schema in (sdk_schemas or {}).items():
        _dump(out / "v1" / "sdk" / f"{name}.json",
              {"$schema": SCHEMA_DIALECT, "$id": BASE_ID + f"v1/sdk/{name}.json",
               "x-source": f"composio.client.collections.{name} (composio-core 0.7.22)",
               **schema})
    return unapplied


def v1_sdk_schemas(python: Path) -> dict[str, Any]:
    """composio-core's model schemas, dumped by the interpreter of a venv that has it (it
    shares the import name ``composio`` with the current SDK, so it can't be imported here)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        # a cached (empty) Sentry DSN stops the SDK's at-exit fetch from backend.composio.dev
        (Path(cache) / "user_data.json").write_text('{"sentry": {"dsn": ""}}')
        done = subprocess.run(
            [str(python), "-c", V1_SDK_DUMP], check=True, capture_output=True, text=True,
            env={"COMPOSIO_CACHE_DIR": cache, "COMPOSIO_DISABLE_SENTRY": "true",
                 "COMPOSIO_DISABLE_VERSION_CHECK": "true", "HOME": cache})
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def spec_meta_for(path: Path, *, commit: str | None, date: str | None,
                  source: str | None) -> dict[str, Any]:
    raw = path.read_bytes()
    spec = json.loads(raw)
    return {
        "file": path.name,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "bytes": len(raw),
        "title": spec.get("info", {}).get("title"),
        "version": spec.get("info", {}).get("version"),
        "source": source,
        "commit": commit,
        "date": date,
    }


def main(argv: Iterable[str] | None = None) -> int:
    from ..resources import contracts_dir

    parser = argparse.ArgumentParser(prog="python -m mockcomposio.contract_gen",
                                     description="Regenerate contracts/ from an OpenAPI file.")
    parser.add_argument("spec", type=Path, help="OpenAPI 3.0 JSON file (Composio's v3 spec)")
    parser.add_argument("--out", type=Path, default=None,
                        help="contracts folder (default: the repo's contracts/)")
    parser.add_argument("--spec-commit", default=None, help="commit the spec file came from")
    parser.add_argument("--spec-date", default=None, help="date of that commit")
    parser.add_argument("--spec-source", default=None,
                        help="where the spec came from (repository and path)")
    parser.add_argument("--no-sdk", action="store_true",
                        help="do not import composio_client (keep the committed sdk/ schemas)")
    parser.add_argument("--v1-spec", type=Path, default=None,
                        help="also regenerate v1/spec/ from the legacy v1 OpenAPI file")
    parser.add_argument("--v1-python", type=Path, default=None,
                        help="with --v1-spec: interpreter of a venv with composio-core 0.7.22, "
                        "to regenerate v1/sdk/ (e.g. .venv-v1/bin/python)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    out = args.out or contracts_dir()
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    meta = spec_meta_for(args.spec, commit=args.spec_commit, date=args.spec_date,
                         source=args.spec_source)
    provenance = generate(spec, out, spec_meta=meta, use_sdk=not args.no_sdk)
    if args.out is None:  # the drift baseline of `contracts diff` follows the contracts
        from .diff import shipped_subset_path, spec_subset

        shipped_subset_path().write_text(json.dumps(spec_subset(spec), separators=(",", ":"),
                                                    ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    if args.v1_spec is not None:
        v1_spec = json.loads(args.v1_spec.read_text(encoding="utf-8"))
        sdk = v1_sdk_schemas(args.v1_python) if args.v1_python else None
        for label in generate_v1(v1_spec, out, sdk_schemas=sdk):
            print(f"warning: v1 spec fix not applied: {label}", file=sys.stderr)
    for label in provenance["overrides"]["not_applied"]:
        print(f"warning: override not applied (pointer absent in this spec): {label}",
              file=sys.stderr)
    print(f"wrote {len(provenance['operations'])} operation contracts to {out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
