"""The docs site builds with `mkdocs build --strict`, every page is in the nav, the generated
toolkit tables match the catalogue, and the README stays short (issue 20)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mockcomposio import expiring_toolkits, toolkits

ROOT = Path(__file__).resolve().parents[1]


def _nav_files(entries: object) -> list[str]:
    out: list[str] = []
    if isinstance(entries, list):
        for entry in entries:
            out += _nav_files(entry)
    elif isinstance(entries, dict):
        for value in entries.values():
            out += _nav_files(value)
    elif isinstance(entries, str):
        out.append(entries)
    return out


def _mkdocs_config() -> dict[str, object]:
    # mkdocs.yml has no custom tags; a plain load is enough to read the nav.
    return dict(yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8")))


def test_every_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    nav = _nav_files(_mkdocs_config()["nav"])
    pages = sorted(str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md"))
    assert sorted(nav) == pages, "add new pages to mkdocs.yml's nav (and remove dead entries)"


def test_readme_is_short_and_its_links_resolve() -> None:
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) < 15_000
    links = re.findall(r"\]\(((?:docs|bench)/[^)#]+)", readme)
    assert len(links) > 15
    for link in links:
        assert (ROOT / link).exists(), link


def test_generated_tables_list_the_catalogue() -> None:
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import hooks  # docs/hooks.py
    finally:
        sys.path.remove(str(ROOT / "docs"))
    table = hooks.toolkits_table()
    for t in toolkits():
        assert f"| `{t.slug}` | {t.name} |" in table
    expiring = hooks.expiring_table()
    for slug in expiring_toolkits():
        assert f"| `{slug}` |" in expiring
    assert "never expire: `github`" in expiring
    page = hooks.render("a\n<!-- mockcomposio:expiring -->\nb")
    assert "<!--" not in page and "googlecalendar" in page


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
        import mkdocstrings  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"the docs toolchain is missing ({exc.name}): pip install -e '.[docs]'",
                    pytrace=False)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                           "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    site = tmp_path / "site"
    for page in _nav_files(_mkdocs_config()["nav"]):
        html = page.removesuffix(".md")
        target = site / ("index.html" if html == "index" else f"{html}/index.html")
        assert target.exists(), page
    toolkits_html = (site / "toolkits" / "index.html").read_text(encoding="utf-8")
    assert all(f"<code>{t.slug}</code>" in toolkits_html for t in toolkits())
    api = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("expire_token", "disable_auth_config", "final_url", "acomplete"):
        assert name in api, name
    for img in ("inspector.png", "connect-link.png", "consent.png"):
        assert (site / "img" / img).exists(), img
