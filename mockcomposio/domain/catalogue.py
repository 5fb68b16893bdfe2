"""The toolkit catalogue: data from ``fixtures/toolkits.json``, read once, shared read-only.

Toolkits are data, not code; this module only indexes them and renders the API shapes.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..resources import fixture_path

OAUTH_SCHEMES = frozenset({"OAUTH2", "OAUTH1", "DCR_OAUTH", "S2S_OAUTH2"})
SECRET_FIELD_NAMES = frozenset({
    "client_secret", "api_key", "generic_api_key", "password", "token", "bearer_token",
    "access_token", "refresh_token", "proxy_auth_key", "private_key", "secret", "consumer_secret",
    "oauth_token_secret", "credentials_json",
})


@dataclass(frozen=True)
class AuthSchemeSpec:
    mode: str
    name: str
    raw: dict[str, Any]
    default_scopes: tuple[str, ...] = ()
    available_scopes: frozenset[str] = frozenset()
    scope_separator: str = " "
    access_token_lifetime: int | None = None
    supports_refresh_token: bool = True

    @property
    def is_oauth(self) -> bool:
        return self.mode in OAUTH_SCHEMES

    def fields(self, stage: str, which: str) -> list[dict[str, Any]]:
        """``stage`` is auth_config_creation or connected_account_initiation."""
        return list(self.raw.get("fields", {}).get(stage, {}).get(which, []))

    def required_field_names(self, stage: str) -> list[str]:
        return [f["name"] for f in self.fields(stage, "required")]

    def secret_field_names(self) -> set[str]:
        names: set[str] = set()
        for stage in ("auth_config_creation", "connected_account_initiation"):
            for which in ("required", "optional"):
                names.update(f["name"] for f in self.fields(stage, which) if f.get("is_secret"))
        return names


@dataclass(frozen=True)
class Toolkit:
    slug: str
    name: str
    raw: dict[str, Any]
    schemes: tuple[AuthSchemeSpec, ...]
    managed_schemes: tuple[str, ...]
    no_auth: bool
    tools: tuple[dict[str, Any], ...] = field(default=())

    def scheme(self, mode: str) -> AuthSchemeSpec | None:
        for spec in self.schemes:
            if spec.mode == mode:
                return spec
        return None

    @property
    def default_scheme(self) -> AuthSchemeSpec | None:
        """The scheme a managed auth config uses: the first managed one."""
        for mode in self.managed_schemes:
            spec = self.scheme(mode)
            if spec is not None:
                return spec
        return None

    @property
    def logo(self) -> str:
        return str(self.raw.get("logo") or f"https://logos.composio.dev/api/{self.slug}")

    def secret_field_names(self) -> frozenset[str]:
        # Asked for every account rendered: computed once per toolkit (the catalogue is fixed).
        cached: frozenset[str] | None = self.__dict__.get("_secret_names")
        if cached is None:
            names = set(SECRET_FIELD_NAMES)
            for spec in self.schemes:
                names |= spec.secret_field_names()
            cached = frozenset(names)
            object.__setattr__(self, "_secret_names", cached)
        return cached


class Catalogue:
    def __init__(self, toolkits: list[Toolkit]) -> None:
        self._by_slug = {t.slug: t for t in toolkits}

    @classmethod
    def load(cls, path: Path | None = None) -> Catalogue:
        data = json.loads((path or fixture_path("toolkits.json")).read_text(encoding="utf-8"))
        return cls([_parse_toolkit(raw) for raw in data["toolkits"]])

    def __iter__(self) -> Any:
        return iter(self._by_slug.values())

    def __len__(self) -> int:
        return len(self._by_slug)

    def get(self, slug: str) -> Toolkit | None:
        return self._by_slug.get(slug.strip().lower())

    def suggest(self, slug: str) -> list[str]:
        return difflib.get_close_matches(slug.strip().lower(), list(self._by_slug), n=3,
                                         cutoff=0.6)


def _parse_toolkit(raw: dict[str, Any]) -> Toolkit:
    schemes = []
    for s in raw.get("auth_schemes", []):
        schemes.append(AuthSchemeSpec(
            mode=s["mode"],
            name=s.get("name", s["mode"]),
            raw=s,
            default_scopes=tuple(s.get("default_scopes", [])),
            available_scopes=frozenset(s.get("available_scopes", s.get("default_scopes", []))),
            scope_separator=s.get("scope_separator", " "),
            access_token_lifetime=s.get("access_token_lifetime_seconds"),
            supports_refresh_token=bool(s.get("supports_refresh_token", True)),
        ))
    return Toolkit(
        slug=raw["slug"].lower(),
        name=raw["name"],
        raw=raw,
        schemes=tuple(schemes),
        managed_schemes=tuple(raw.get("composio_managed_auth_schemes", [])),
        no_auth=bool(raw.get("no_auth", False)),
        tools=tuple(raw.get("tools", [])),
    )


# --- API renderings ---------------------------------------------------------------------------

def field_out(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f["name"],
        "displayName": f.get("displayName", f["name"]),
        "description": f.get("description", ""),
        "type": f.get("type", "string"),
        "required": bool(f.get("required", False)),
        "default": f.get("default"),
        "is_secret": bool(f.get("is_secret", False)),
        "user_visible": bool(f.get("user_visible", True)),
    }


def _meta(t: Toolkit) -> dict[str, Any]:
    raw = t.raw
    return {
        "description": raw.get("description", ""),
        "logo": t.logo,
        "categories": [{"id": c.get("slug", ""), "name": c.get("name", ""),
                        "slug": c.get("slug", "")} for c in raw.get("categories", [])],
        "tools_count": raw.get("tools_count", len(t.tools)),
        "triggers_count": raw.get("triggers_count", 0),
        "version": raw.get("version", "20250101_00"),
        "available_versions": [raw.get("version", "20250101_00")],
        "created_at": raw.get("created_at", "2024-05-01T00:00:00.000Z"),
        "updated_at": raw.get("updated_at", "2025-10-27T00:00:00.000Z"),
        "app_url": raw.get("app_url"),
    }


def toolkit_detail(t: Toolkit) -> dict[str, Any]:
    """``GET /toolkits/{slug}``."""
    details = []
    for s in t.schemes:
        fields = {
            stage: {which: [field_out(f) for f in s.fields(stage, which)]
                    for which in ("required", "optional")}
            for stage in ("auth_config_creation", "connected_account_initiation")
        }
        entry: dict[str, Any] = {
            "mode": s.mode,
            "name": s.name,
            "required_scopes": [],
            "fields": fields,
        }
        if t.raw.get("base_url"):
            entry["proxy"] = {"base_url": t.raw["base_url"]}
        if s.is_oauth:
            entry["deprecated_auth_provider_details"] = {
                "authorization_url": s.raw.get("authorization_url"),
                "token_url": s.raw.get("token_url"),
            }
        details.append(entry)
    return {
        "slug": t.slug,
        "name": t.name,
        "type": "native",
        "enabled": True,
        "is_local_toolkit": False,
        "no_auth": t.no_auth,
        "composio_managed_auth_schemes": list(t.managed_schemes),
        "composio_managed_auth": [
            {"mode": s.mode, "scopes": {"available": sorted(s.available_scopes)},
             "default_scopes": list(s.default_scopes)}
            for s in t.schemes if s.mode in t.managed_schemes
        ],
        "auth_config_details": details,
        "base_url": t.raw.get("base_url"),
        "auth_guide_url": t.raw.get("auth_guide_url"),
        "meta": _meta(t),
        "deprecated": {"toolkitId": f"tk-{t.slug}", "rawProxyInfoByAuthSchemes": []},
        "access": "all",
    }


def toolkit_list_item(t: Toolkit) -> dict[str, Any]:
    """An item of ``GET /toolkits``."""
    return {
        "slug": t.slug,
        "name": t.name,
        "type": "native",
        "auth_schemes": [s.mode for s in t.schemes],
        "composio_managed_auth_schemes": list(t.managed_schemes),
        "is_local_toolkit": False,
        "no_auth": t.no_auth,
        "meta": _meta(t),
        "deprecated": {"toolkitId": f"tk-{t.slug}", "rawProxyInfoByAuthSchemes": []},
    }
