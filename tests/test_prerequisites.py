"""The prerequisite helpers of tests/conftest.py: a missing spec file, SDK or browser is a skip
on a developer's machine and a failure under CI (so CI cannot go green with suites skipped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import in_ci, require, require_file, require_module

pytest_plugins = ["pytester"]


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_under_ci_a_missing_prerequisite_fails(monkeypatch: pytest.MonkeyPatch,
                                               value: str, tmp_path: Path) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci()
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        require(False, "the thing", "install it")
    with pytest.raises(pytest.fail.Exception, match="no_such_module_xyz"):
        require_module("no_such_module_xyz", "pip install it")
    with pytest.raises(pytest.fail.Exception, match=r"missing\.json"):
        require_file(tmp_path / "missing.json", "put it there")


@pytest.mark.parametrize("value", [None, "", "0", "false"])
def test_outside_ci_a_missing_prerequisite_skips(monkeypatch: pytest.MonkeyPatch,
                                                 value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert not in_ci()
    with pytest.raises(pytest.skip.Exception, match="install it"):
        require(False, "the thing", "install it")


def test_present_prerequisites_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "1")
    require(True, "x", "y")
    assert require_module("json", "stdlib").dumps([]) == "[]"
    assert require_file(Path(__file__), "here") == Path(__file__)


def test_every_test_has_a_timeout(pytestconfig: pytest.Config) -> None:
    """pytest-timeout is configured (pyproject): a stuck subprocess fails its test."""
    assert pytestconfig.pluginmanager.hasplugin("timeout")
    assert 60 <= float(pytestconfig.getini("timeout")) <= 600


def test_a_hung_test_fails_on_the_timeout(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("import time\n\ndef test_hangs():\n    time.sleep(60)\n")
    result = pytester.runpytest_subprocess("--timeout=2")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Timeout*"])
