"""Regenerate ``fixtures/catalogue.json``: Composio's toolkit listing merged with our detail.

Usage (from a checkout with ``../shared`` beside it)::

    python -m mockcomposio.catalogue_gen [LISTING.json] [--detail fixtures/toolkits.json]
        [--out fixtures/catalogue.json] [--check]

Inputs:

* ``LISTING.json`` (default ``../shared/spec/toolkits-api-2025-07.json``): a real
  ``GET /api/v3/toolkits`` result (slug, name, auth schemes, Composio-managed schemes, no_auth,
  description, categories, dates).
* ``fixtures/toolkits.json``: curated detail (fields, scopes, token lifetimes, provider URLs,
  tools) of the toolkits we know closely. A curated entry wins for every key it has; its
  schemes keep their fields; schemes the listing adds take the standard fields of their scheme
  (``fixtures/scheme_templates.json``, applied when the catalogue is loaded).
* The BEARER_TOKEN rule: every toolkit with OAUTH2 also gets a custom BEARER_TOKEN scheme
  (Composio changelog 2026-04-07), never Composio-managed.

Each entry records where it came from in ``provenance``: ``listing`` (the listing file, or
``curated`` for an entry only ``toolkits.json`` has), ``detail`` (``curated`` or ``template``)
and, per scheme, ``curated``, ``listing+template`` or ``rule+template``. ``--check`` exits 1
when the committed file differs from what the inputs give (CI runs the same check as a test).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .domain.catalogue import BEARER_RULE_SCHEME, CATALOGUE_FILE, validate_definitions
from .resources import fixture_path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LISTING = ROOT.parent / "shared" / "spec" / "toolkits-api-2025-07.json"
LISTING_SOURCE = {
    "file": "toolkits-api-2025-07.json",
    "repository": "ComposioHQ/composio",
    "commit": "3e989ec1d5d4a1a922d430d393329c7a6c3c7e82",
    "path": "ts/packages/cli/test/__mocks__/toolkits.json",
    "date": "2025-07-29",
    "what": "a cached real GET /api/v3/toolkits result (see ../shared/spec/SOURCES.md)",
}


def clean_slug(raw: str) -> str:
    """Listing slugs are used as they are (``_21risk`` included), trimmed and lower-cased."""
    return raw.strip().lower()


def _listing_entry(src: Mapping[str, Any]) -> dict[str, Any]:
    meta = src.get("meta") or {}
    updated = str(meta.get("updated_at") or "")
    version = (updated[:10].replace("-", "") + "_00") if len(updated) >= 10 else "20250101_00"
    slug = clean_slug(src["slug"])
    return {
        "slug": slug,
        "name": str(src.get("name") or slug).strip(),
        "description": str(meta.get("description") or "").strip(),
        "logo": f"https://logos.composio.dev/api/{slug}",
        "categories": [{"id": str(c["id"]), "name": str(c["name"])}
                       for c in meta.get("categories") or []],
        "created_at": meta.get("created_at"),
        "updated_at": meta.get("updated_at"),
        "version": version,
        "no_auth": bool(src.get("no_auth", False)),
        "composio_managed_auth_schemes": [str(m) for m in
                                          src.get("composio_managed_auth_schemes") or []],
        "auth_schemes": [str(m) for m in src.get("auth_schemes") or []],
    }


def merge(listing: Mapping[str, Any] | None, curated: Mapping[str, Any] | None
          ) -> dict[str, Any]:
    """One catalogue entry from its listing entry and/or curated entry (see module doc)."""
    assert listing is not None or curated is not None
    base = _listing_entry(listing) if listing is not None else {}
    entry: dict[str, Any] = {**base, **(curated or {})}
    scheme_origin: dict[str, str] = {}
    schemes: list[Any] = []
    for s in (curated or {}).get("auth_schemes", []):
        schemes.append(s)
        scheme_origin[s["mode"]] = "curated"
    for mode in base.get("auth_schemes", []):
        if mode not in scheme_origin:
            schemes.append({"mode": mode})
            scheme_origin[mode] = "listing+template"
    # The listing names a managed scheme it does not list for two toolkits (chatwork, front:
    # API_KEY only, OAUTH2 managed); Composio manages it, so the toolkit has it.
    for mode in entry.get("composio_managed_auth_schemes", []):
        if mode not in scheme_origin:
            schemes.append({"mode": mode})
            scheme_origin[mode] = "managed+template"
    if "OAUTH2" in scheme_origin and BEARER_RULE_SCHEME not in scheme_origin:
        schemes.append({"mode": BEARER_RULE_SCHEME})
        scheme_origin[BEARER_RULE_SCHEME] = "rule+template"
    entry["auth_schemes"] = schemes
    # dates are listing data; curated entries keep theirs when they have them
    for key in ("created_at", "updated_at"):
        if entry.get(key) is None:
            entry.pop(key, None)
    entry["provenance"] = {
        "listing": "toolkits-api-2025-07" if listing is not None else "curated",
        "detail": "curated" if curated is not None else "template",
        "schemes": scheme_origin,
    }
    return entry


def generate(listing: list[dict[str, Any]], curated: list[dict[str, Any]]) -> dict[str, Any]:
    # Composio sorts toolkits by usage by default; the listing has no usage figures, so the
    # curated toolkits (the popular ones, in their file's order) come first.
    curated = [{**c, "usage_rank": i} for i, c in enumerate(curated, 1)]
    by_slug_curated = {c["slug"]: c for c in curated}
    entries: dict[str, dict[str, Any]] = {}
    for src in listing:
        slug = clean_slug(src["slug"])
        entries[slug] = merge(src, by_slug_curated.get(slug))
    for slug, c in by_slug_curated.items():
        if slug not in entries:
            entries[slug] = merge(None, c)
    toolkits = [entries[s] for s in sorted(entries)]
    validate_definitions(toolkits, "catalogue")
    counts: dict[str, int] = {}
    for t in toolkits:
        for origin in t["provenance"]["schemes"].values():
            counts[origin] = counts.get(origin, 0) + 1
    return {
        "$comment": "GENERATED by `python -m mockcomposio.catalogue_gen` from the listing below "
        "and fixtures/toolkits.json (curated detail); do not edit by hand. Schemes without "
        "fields take them from fixtures/scheme_templates.json when loaded.",
        "catalogue_version": 2,
        "source": LISTING_SOURCE,
        "provenance_legend": {
            "listing": "toolkits-api-2025-07: the entry is in the real listing; curated: only "
                       "in fixtures/toolkits.json",
            "detail": "curated: fields/scopes/token lifetimes from fixtures/toolkits.json; "
                      "template: every scheme follows fixtures/scheme_templates.json",
            "schemes.curated": "the scheme as curated in fixtures/toolkits.json",
            "usage_rank": "stand-in for Composio's usage ranking (sort_by=usage, the default "
                          "order): the curated toolkits first, in fixtures/toolkits.json order; "
                          "toolkits without one follow by slug",
            "schemes.listing+template": "listed for the toolkit by the real listing; fields "
                                        "from the scheme's template",
            "schemes.managed+template": "Composio-managed in the listing but missing from "
                                        "its auth_schemes; fields from the template",
            "schemes.rule+template": "not listed; added because every OAuth2 toolkit accepts "
                                     "a custom BEARER_TOKEN auth config (Composio changelog "
                                     "2026-04-07); fields from the template",
        },
        "counts": {"toolkits": len(toolkits),
                   "curated": sum(t["provenance"]["detail"] == "curated" for t in toolkits),
                   "schemes": dict(sorted(counts.items()))},
        "toolkits": toolkits,
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def build(listing_path: Path, detail_path: Path) -> tuple[str, dict[str, Any]]:
    raw = listing_path.read_bytes()
    listing = json.loads(raw)
    curated = json.loads(detail_path.read_text(encoding="utf-8"))["toolkits"]
    doc = generate(listing, curated)
    doc["source"] = {**doc["source"], "sha256": hashlib.sha256(raw).hexdigest()}
    return render(doc), doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mockcomposio.catalogue_gen",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("listing", nargs="?", default=str(DEFAULT_LISTING),
                        help="a GET /api/v3/toolkits result (default: %(default)s)")
    parser.add_argument("--detail", default=str(fixture_path("toolkits.json")),
                        help="curated detail (default: %(default)s)")
    parser.add_argument("--out", default=str(fixture_path(CATALOGUE_FILE)),
                        help="where to write (default: %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if --out is not up to date")
    args = parser.parse_args(argv)
    try:
        text, doc = build(Path(args.listing), Path(args.detail))
    except (OSError, ValueError, KeyError) as exc:
        print(f"catalogue_gen: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            print(f"catalogue_gen: {out} is out of date; run python -m "
                  "mockcomposio.catalogue_gen", file=sys.stderr)
            return 1
        print(f"{out} is up to date ({doc['counts']['toolkits']} toolkits)")
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}: {doc['counts']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
