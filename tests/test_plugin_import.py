"""pytest imports our plugin (the ``pytest11`` entry point) in every process of a project that
installs mockcomposio, used or not: that import must stay light. What it may not pull in is
checked here in a fresh interpreter (a count of modules, not a timing)."""

from __future__ import annotations

from .serving import modules_loaded_after

HEAVY = ("faker", "oauthlib", "jsonschema", "jsonschema_rs", "referencing", "aiohttp",
         "asyncio", "urllib.request", "mockcomposio.engine", "mockcomposio.domain.project",
         "mockcomposio.contracts", "mockcomposio.testing.tenant", "mockcomposio.testing.consent")


def _modules_after(code: str) -> list[str]:
    return modules_loaded_after(code, HEAVY)


def test_importing_the_plugin_imports_nothing_heavy() -> None:
    # pytest itself is loaded first, as when pytest imports the entry point
    assert _modules_after("import pytest\nimport mockcomposio.testing.plugin") == []


def test_old_plugin_path_and_package_are_light_too() -> None:
    assert _modules_after("import pytest\nimport mockcomposio.pytest_plugin") == []
    assert _modules_after("import mockcomposio, mockcomposio.testing") == []


def test_lazy_names_still_resolve() -> None:
    from mockcomposio import testing
    from mockcomposio.testing.consent import ConsentDriver, Outcome

    assert testing.ConsentDriver is ConsentDriver and testing.Outcome is Outcome


def test_a_tenant_without_oauth_or_strict_loads_no_faker_oauthlib_or_validators() -> None:
    # What a test that only arranges API-key accounts pays: no faker, no oauthlib, no schemas.
    code = ("from mockcomposio.engine import Engine\n"
            "from mockcomposio.testing.tenant import Tenant\n"
            "t = Tenant(Engine(), 'k', 'http://127.0.0.1:9')\n"
            "ac = t.add_auth_config('serpapi')\n"
            "t.add_account(ac, 'user-1')\n")
    loaded = _modules_after(code)
    assert not {"faker", "oauthlib", "jsonschema", "jsonschema_rs"} & set(loaded), loaded
