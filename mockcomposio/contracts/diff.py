"""``mockcomposio contracts diff [SPEC.json]``: how our contracts differ from an OpenAPI file.

For each JSON operation we serve: whether the spec has it, the success statuses, and the fields
(dotted paths, ``[]`` for array items) added, removed, newly required or retyped in the spec's
request and 2xx response compared with our contracts. Then a coverage table of the spec's
auth-related operations (which ones mockcomposio serves), printable as Markdown.

**Drift** is what a CI gate needs: the differences a spec shows that the spec the contracts
were generated from (its auth-related subset ships in the wheel as
``fixtures/spec/openapi-auth-subset.json``, the default SPEC) does not. Known differences
(fields the fake does not model) and mockcomposio's own routes (``/_mock``, the legacy
``/api/v1``) are reported apart and never count as drift.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..resources import contracts_dir, fixture_path
from .gen import (
    OurOperation,
    SpecOperation,
    convert_schema,
    json_operations,
    spec_operations,
    spec_request_schema,
    spec_response_schemas,
)

AUTH_TAGS = ("Authentication", "Auth Configs", "Connected Accounts", "Toolkits", "Tool Router")
# Auth settings filed under other tags: the project config holds the OAuth callback verifier and
# the connected-account masking flag.
AUTH_PATHS = ("/api/v3/org/project/config",)
MAX_DEPTH = 6
SUBSET_FILE = "openapi-auth-subset.json"
# Operations of mockcomposio's own (control plane, inspector) and of the legacy v1 API: not in
# Composio's v3 spec by design, so never drift.
OWN_PREFIXES = ("control.", "inspector.", "v1.")


def is_own(operation: str) -> bool:
    return operation.startswith(OWN_PREFIXES)


def shipped_subset_path() -> Path:
    """The auth-related subset of the spec the contracts were generated from (in the wheel;
    beside the fixtures, not in contracts/, whose every .json file is loaded as a schema)."""
    return fixture_path(f"spec/{SUBSET_FILE}")


def spec_subset(spec: dict[str, Any]) -> dict[str, Any]:
    """The auth-related part of an OpenAPI document: paths with an operation tagged with one
    of AUTH_TAGS, the AUTH_PATHS, plus every component (the spec keeps few, and operations
    refer to them)."""
    paths = {}
    for path, item in spec.get("paths", {}).items():
        if path in AUTH_PATHS or any(isinstance(op, dict) and set(op.get("tags", []))
                                     & set(AUTH_TAGS) for op in item.values()):
            paths[path] = item
    return {"openapi": spec.get("openapi"), "info": spec.get("info", {}),
            "servers": spec.get("servers", []), "paths": paths,
            "components": spec.get("components", {})}


def check_openapi(doc: Any, name: str) -> dict[str, Any]:
    """``doc`` if it looks like an OpenAPI 3 document; else ValueError saying why."""
    if not isinstance(doc, dict):
        raise ValueError(f"{name} is not an OpenAPI document (a JSON object was expected)")
    version = doc.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        raise ValueError(f"{name} is not an OpenAPI 3 document (no \"openapi\": \"3.x\" "
                         "field); pass Composio's OpenAPI JSON")
    if not isinstance(doc.get("paths"), dict) or not doc["paths"]:
        raise ValueError(f"{name} has no paths")
    return doc


@dataclass
class FieldInfo:
    types: set[str] = field(default_factory=set)
    required: bool = False


def flatten(schema: Any, prefix: str = "", out: dict[str, FieldInfo] | None = None,
            depth: int = 0) -> dict[str, FieldInfo]:
    """Field paths of a (converted, ref-free) schema; anyOf/oneOf/allOf branches are merged."""
    out = {} if out is None else out
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return out
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(key, []) or []:
            flatten(branch, prefix, out, depth)
    required = set(schema.get("required", []) or [])
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        info = out.setdefault(path, FieldInfo())
        info.required = info.required or name in required
        info.types |= _types(sub)
        flatten(sub, path, out, depth + 1)
    items = schema.get("items")
    if isinstance(items, dict):
        flatten(items, f"{prefix}[]", out, depth + 1)
    return out


def _types(schema: Any) -> set[str]:
    if not isinstance(schema, dict):
        return set()
    kind = schema.get("type")
    found = {kind} if isinstance(kind, str) else set(kind or [])
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []) or []:
            found |= _types(branch)
    return found - {"null"} if found != {"null"} else found


@dataclass
class FieldDiff:
    added: list[str] = field(default_factory=list)  # in the spec, not in ours
    removed: list[str] = field(default_factory=list)  # in ours, not in the spec
    required_changed: list[str] = field(default_factory=list)
    type_changed: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.added or self.removed or self.required_changed or self.type_changed)

    def lines(self, what: str) -> list[str]:
        out = []
        for label, items in (("only in the spec", self.added), ("only in ours", self.removed),
                             ("required differs", self.required_changed),
                             ("type differs", self.type_changed)):
            if items:
                shown = ", ".join(items[:12]) + (f", … (+{len(items) - 12})"
                                                 if len(items) > 12 else "")
                out.append(f"{what} {label}: {shown}")
        return out


def diff_fields(spec_side: Any, ours: Any) -> FieldDiff:
    a, b = flatten(spec_side), flatten(ours)
    d = FieldDiff()
    d.added = sorted(set(a) - set(b))
    d.removed = sorted(set(b) - set(a))
    for path in sorted(set(a) & set(b)):
        if a[path].required != b[path].required:
            d.required_changed.append(
                f"{path} (spec {'required' if a[path].required else 'optional'})")
        if a[path].types and b[path].types and a[path].types != b[path].types:
            d.type_changed.append(
                f"{path} (spec {'|'.join(sorted(a[path].types))}, ours "
                f"{'|'.join(sorted(b[path].types))})")
    return d


@dataclass
class OperationDiff:
    operation: str
    method: str
    path: str
    spec_operation_id: str | None
    statuses: tuple[list[str], list[str]] = ([], [])  # (spec 2xx, ours 2xx)
    request: FieldDiff = field(default_factory=FieldDiff)
    response: FieldDiff = field(default_factory=FieldDiff)

    def differs(self) -> bool:
        return (self.spec_operation_id is None or self.statuses[0] != self.statuses[1]
                or not self.request.empty() or not self.response.empty())

    @property
    def own(self) -> bool:
        return is_own(self.operation)

    def lines(self) -> list[str]:
        """Every difference, one per line (what drift compares)."""
        if self.spec_operation_id is None:
            return ["not in the spec (contract from the SDK models or mockcomposio's own)"]
        out = []
        if self.statuses[0] != self.statuses[1]:
            out.append(f"success status: spec {self.statuses[0]}, ours {self.statuses[1]}")
        out += self.request.lines("request") + self.response.lines("response")
        return out


@dataclass
class CoverageRow:
    method: str
    path: str
    operation_id: str
    tag: str
    served_as: str | None
    request_schema: str  # "yes", "no body", "MISSING" or "—" (not served)
    response_schema: str


@dataclass
class DiffReport:
    spec_file: str
    operations: list[OperationDiff]
    coverage: list[CoverageRow]
    unserved_spec_operations: int

    drift: dict[str, list[str]] | None = None  # set by with_drift(): new differences
    known: int = 0  # differing Composio operations whose differences are all known

    @property
    def differing(self) -> list[OperationDiff]:
        """Composio operations that differ (mockcomposio's own routes never do)."""
        return [o for o in self.operations if o.differs() and not o.own]

    @property
    def own(self) -> list[OperationDiff]:
        return [o for o in self.operations if o.own]

    def with_drift(self, baseline: DiffReport) -> DiffReport:
        """Mark as drift what differs here but not against ``baseline`` (the shipped spec)."""
        before = {o.operation: set(o.lines()) for o in baseline.differing}
        drift: dict[str, list[str]] = {}
        for op in self.differing:
            new = [line for line in op.lines() if line not in before.get(op.operation, set())]
            if new:
                drift[f"{op.operation} ({op.method} {op.path})"] = new
        old_rows = {(r.method, r.path) for r in baseline.coverage}
        for row in self.coverage:
            if (row.method, row.path) not in old_rows:
                drift[f"{row.operation_id} ({row.method} {row.path})"] = [
                    "new in the spec" + ("" if row.served_as else "; not served by mockcomposio")]
        new_rows = {(r.method, r.path) for r in self.coverage}
        for row in baseline.coverage:
            if (row.method, row.path) not in new_rows:
                drift[f"{row.operation_id} ({row.method} {row.path})"] = [
                    "no longer in the spec"]
        self.drift = drift
        self.known = sum(1 for o in self.differing
                         if not any(k.startswith(f"{o.operation} (") for k in drift))
        return self

    def coverage_markdown(self) -> str:
        served = sum(1 for r in self.coverage if r.served_as)
        lines = [
            f"Coverage of the official spec's auth-related operations ({served}/"
            f"{len(self.coverage)} served; tags: {', '.join(AUTH_TAGS)}):",
            "",
            "| Spec operation | Method and path | Served by mockcomposio as | Request schema "
            "| Response schema |",
            "|---|---|---|---|---|",
        ]
        for r in self.coverage:
            lines.append(
                f"| `{r.operation_id}` | `{r.method} {r.path}` | "
                + (f"`{r.served_as}`" if r.served_as else "not served")
                + f" | {r.request_schema} | {r.response_schema} |")
        return "\n".join(lines)

    def render(self, markdown: bool = False) -> str:
        lines = [f"# contracts diff against {self.spec_file}" if markdown
                 else f"contracts diff against {self.spec_file}", ""]
        bullet = "- " if markdown else "  "
        own = self.own
        lines.append(f"{len(self.operations) - len(own)} Composio JSON operations served; "
                     f"{len(self.differing)} differ from the spec.")
        if self.drift is not None:
            lines.append(f"Drift since the shipped spec: {len(self.drift)} operation(s)"
                         + (" (none: the spec says what the fake was built from)"
                            if not self.drift else "") + "; "
                         f"{self.known} differ only as they already did (known differences).")
            for head, items in self.drift.items():
                lines += ["", f"## drift: {head}" if markdown else f"DRIFT {head}"]
                lines.extend(bullet + line for line in items)
            lines += ["", "## Known differences" if markdown else "Known differences:"]
        for op in self.differing:
            head = f"{op.operation} ({op.method} {op.path})"
            lines.append("")
            lines.append(f"### {head}" if markdown else head)
            lines.extend(bullet + line for line in op.lines())
        lines += ["", (f"mockcomposio's own routes ({len(own)}: control plane, inspector, "
                       "legacy v1; not part of Composio's v3 spec, never drift): ")
                  + ", ".join(o.operation for o in own)]
        lines += ["", self.coverage_markdown(), "",
                  f"{self.unserved_spec_operations} spec operations outside those tags are not "
                  "served (projects, MCP, tools, triggers, files, ...)."]
        return "\n".join(lines)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _our_spec_part(doc: Any, status: str) -> Any:
    """The spec-derived branch of our stored 2xx schema (what the last regeneration saw)."""
    entry = (doc or {}).get("responses", {}).get(status) or {}
    for part in entry.get("allOf", []):
        if str(part.get("title", "")).startswith("spec:"):
            return part
    return entry


def diff(spec: dict[str, Any], spec_file: str = "SPEC.json") -> DiffReport:
    root = contracts_dir()
    components = spec.get("components", {}).get("schemas", {})
    spec_ops = spec_operations(spec)
    by_key: dict[tuple[str, str], SpecOperation] = {op.key: op for op in spec_ops}
    ours: list[OurOperation] = sorted(json_operations(), key=lambda o: o.operation)
    ours_by_key = {o.key: o for o in ours}
    results = []
    for op in ours:
        spec_op = by_key.get(op.key)
        doc = _load(root / "responses" / f"{op.operation}.json")
        our_2xx = sorted(k for k in (doc or {}).get("responses", {}) if k.startswith("2"))
        result = OperationDiff(op.operation, op.method, op.path,
                               spec_op.operation_id if spec_op else None)
        if spec_op is not None:
            spec_responses = spec_response_schemas(spec_op, components)
            spec_2xx = sorted(k for k in spec_responses if k.startswith("2"))
            result.statuses = (spec_2xx, our_2xx)
            if spec_2xx:
                converted = convert_schema(spec_responses[spec_2xx[0]] or {}, components)
                mine = _our_spec_part(doc, spec_2xx[0] if spec_2xx[0] in our_2xx
                                      else (our_2xx or ["200"])[0])
                result.response = diff_fields(converted, mine)
            spec_request = spec_request_schema(spec_op, components)
            our_request = _load(root / "requests" / f"{op.operation}.json")
            if spec_request is not None or our_request is not None:
                result.request = diff_fields(spec_request or {}, our_request or {})
        results.append(result)
    coverage = []
    unserved = 0
    for sop in spec_ops:
        tag = next((t for t in sop.tags if t in AUTH_TAGS), None)
        if tag is None:
            unserved += 0 if sop.key in ours_by_key else 1
            continue
        served = ours_by_key.get(sop.key)
        request_cell = response_cell = "—"
        if served is not None:
            has_request = (root / "requests" / f"{served.operation}.json").exists()
            request_cell = ("yes" if has_request else
                            "MISSING" if served.json_body else "no body")
            response_cell = ("yes" if (root / "responses" / f"{served.operation}.json").exists()
                             else "MISSING")
        coverage.append(CoverageRow(sop.method, sop.path, sop.operation_id, tag,
                                    served.operation if served else None,
                                    request_cell, response_cell))
    coverage.sort(key=lambda r: (AUTH_TAGS.index(r.tag), r.path, r.method))
    return DiffReport(spec_file, results, coverage, unserved)


def load_spec(path: Path) -> dict[str, Any]:
    """Read and check an OpenAPI file; OSError or ValueError (with the reason) otherwise."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON ({exc}); pass Composio's OpenAPI JSON") from exc
    return check_openapi(doc, str(path))


def diff_file(path: Path | None = None, *, drift: bool = True) -> DiffReport:
    """Diff against ``path`` (default: the shipped subset); with ``drift``, also mark what
    differs from the shipped subset's own differences."""
    shipped = shipped_subset_path()
    report = diff(load_spec(path or shipped), str(path or shipped))
    if drift:
        report.with_drift(diff(load_spec(shipped), str(shipped)))
    return report
