"""MkDocs hook: pages generated from the fixture data the fake serves, so the docs cannot
list a toolkit the fake lacks (or miss one it has).

``<!-- mockcomposio:toolkits -->`` becomes the catalogue table and
``<!-- mockcomposio:expiring -->`` the list of toolkits whose access tokens expire, both
from :func:`mockcomposio.toolkits` (the same data ``fixtures/toolkits.json`` gives the
server). tests/test_docs_build.py checks the output.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # build the docs of this checkout, not an installed copy
    sys.path.insert(0, str(ROOT))

TOOLKITS_MARK = "<!-- mockcomposio:toolkits -->"
EXPIRING_MARK = "<!-- mockcomposio:expiring -->"


def _lifetime(seconds: int | None) -> str:
    if seconds is None:
        return "never"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def toolkits_table() -> str:
    from mockcomposio import toolkits

    rows = ["| toolkit | name | auth schemes | Composio-managed | access token expires after "
            "| default scopes |", "|---|---|---|---|---|---|"]
    for t in toolkits():
        scopes = ", ".join(f"`{s}`" for s in t.default_scopes[:4])
        if len(t.default_scopes) > 4:
            scopes += f" (+{len(t.default_scopes) - 4})"
        rows.append(f"| `{t.slug}` | {t.name} | {', '.join(t.auth_schemes) or '—'} | "
                    f"{'yes' if t.managed else 'no'} | "
                    f"{_lifetime(t.token_lifetime) if 'OAUTH2' in t.auth_schemes else '—'} | "
                    f"{scopes or '—'} |")
    return "\n".join(rows)


def expiring_table() -> str:
    from mockcomposio import toolkits

    rows = ["| toolkit | access token lifetime | refresh token |", "|---|---|---|"]
    for t in toolkits():
        if t.expires:
            rows.append(f"| `{t.slug}` | {_lifetime(t.token_lifetime)} "
                        f"({t.token_lifetime} s) | {'yes' if t.refreshes else 'no'} |")
    never = ", ".join(f"`{t.slug}`" for t in toolkits()
                      if "OAUTH2" in t.auth_schemes and not t.expires)
    return "\n".join(rows) + f"\n\nOAuth toolkits whose fake tokens never expire: {never}."


def render(markdown: str) -> str:
    if TOOLKITS_MARK in markdown:
        markdown = markdown.replace(TOOLKITS_MARK, toolkits_table())
    if EXPIRING_MARK in markdown:
        markdown = markdown.replace(EXPIRING_MARK, expiring_table())
    return markdown


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return render(markdown)
