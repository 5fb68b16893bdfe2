"""Plugin behaviour seen from a downstream suite: markers, options, ini, the network guard and
failure reports, each checked by running a small suite in-process with pytester."""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]

ARGS = ("-p", "no:cacheprovider", "-p", "no:randomly",
        "-o", "asyncio_default_fixture_loop_scope=function")


def test_guard_fails_a_test_even_when_app_code_swallows_the_error(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import httpx

        def test_app_swallows(mock_composio):
            try:
                httpx.get("https://backend.composio.dev/api/v3/toolkits")
            except httpx.HTTPError:
                pass  # the app logs and carries on: the guard still fails the test

        def test_clean(mock_composio):
            pass
    """)
    result = pytester.runpytest(*ARGS)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*mockcomposio network guard: refused to connect to backend.composio.dev:443 during "
        "test_guard_fails*::test_app_swallows*@pytest.mark.mock_composio(network=True)*",
    ])


def test_guard_error_is_an_oserror_with_the_fix_in_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import socket, pytest
        from mockcomposio.netguard import ComposioNetworkBlocked

        def test_raw_socket():
            with pytest.raises(ConnectionRefusedError) as info:
                socket.create_connection(("backend.composio.dev", 443), timeout=1)
            assert isinstance(info.value, ComposioNetworkBlocked)
            assert "base_url=mock_composio.base_url" in str(info.value)
    """)
    result = pytester.runpytest(*ARGS)
    # The test expected the refusal, but it was still an attempt to reach Composio.
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*refused to connect to backend.composio.dev:443*"])


_ALLOWED = """
    import socket
    import pytest
    from mockcomposio import netguard

    @pytest.fixture
    def fake_dns(monkeypatch):
        monkeypatch.setattr(netguard, "_original", lambda *a, **k: ["resolved"])

    {marker}
    def test_reaches(fake_dns):
        assert socket.getaddrinfo("backend.composio.dev", 443) == ["resolved"]
"""


@pytest.mark.mock_composio(network=True)  # the inner runs share this process's guard
@pytest.mark.parametrize(("marker", "args", "ini"), [
    ("@pytest.mark.mock_composio(network=True)", (), ""),
    ("", ("--mock-composio-allow-network",), ""),
    ("", (), "[pytest]\nmock_composio_network_guard = false\n"),
])
def test_guard_can_be_switched_off(pytester: pytest.Pytester, marker: str,
                                   args: tuple[str, ...], ini: str) -> None:
    if ini:
        pytester.makeini(ini)
    pytester.makepyfile(_ALLOWED.format(marker=marker))
    result = pytester.runpytest(*ARGS, *args)
    result.assert_outcomes(passed=1)
    guard_on = pytester.makepyfile(test_on=_ALLOWED.format(marker=""))
    if not args and not ini:  # without the switch the same test is refused
        pytester.runpytest(*ARGS, str(guard_on)).assert_outcomes(failed=1)


def test_report_header_and_failure_section(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_broken(mock_composio):
            mock_composio.add_account("github", "u1")
            assert mock_composio.accounts() == []
    """)
    result = pytester.runpytest(*ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "mockcomposio: seed=0, consent=manual, strict=False, network guard=on",
        "*- mockcomposio -*",
        "tenant api_key=test-* base_url=http://127.0.0.1:* seed=* consent=manual strict=False",
        "reproduce the same ids/tokens/users with @pytest.mark.mock_composio(seed=*)",
    ])


def test_options_and_marker_overrides(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import zlib
        import pytest

        def test_from_options(mock_composio, request):
            assert mock_composio.seed == zlib.crc32(f"7:{request.node.nodeid}".encode())
            assert mock_composio.consent.mode == "auto"
            assert mock_composio.consent.default.decision == "deny"
            assert mock_composio.strict and mock_composio.project.strict_contracts

        @pytest.mark.mock_composio(seed=None, consent="manual", strict=False)
        def test_marker_wins(mock_composio):
            assert mock_composio.seed is None
            assert mock_composio.consent.mode == "manual"
            assert not mock_composio.strict

        @pytest.mark.mock_composio(consent="scopes:repo")
        def test_marker_outcome(mock_composio):
            assert mock_composio.consent.default.scopes == ("repo",)
    """)
    result = pytester.runpytest(*ARGS, "--mock-composio-seed=7", "--mock-composio-consent=deny",
                                "--mock-composio-strict")
    result.assert_outcomes(passed=3)


def test_ini_settings_and_unseeded_runs(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmock_composio_seed = none\nmock_composio_consent = allow\n"
                     "mock_composio_strict = true\n")
    pytester.makepyfile("""
        def test_it(mock_composio):
            assert mock_composio.seed is None
            assert mock_composio.consent.mode == "auto" and mock_composio.strict
    """)
    pytester.runpytest(*ARGS).assert_outcomes(passed=1)


def test_bad_marker_and_option_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.mock_composio(sede=3)
        def test_typo(mock_composio):
            pass
    """)
    result = pytester.runpytest(*ARGS)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown @pytest.mark.mock_composio option(s)*sede*known*"])
    bad = pytester.runpytest(*ARGS, "--mock-composio-consent=maybe")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--mock-composio-consent: unknown consent outcome 'maybe'*"])


def test_ids_do_not_depend_on_test_order(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_make(mock_composio, n):
            ac = mock_composio.add_auth_config("github")
            account = mock_composio.add_account(ac, mock_composio.new_user_id())
            print(f"ID[{n}]={ac.id},{account.id},{account.user_id}")
    """)
    forward = pytester.runpytest(*ARGS, "-s")
    forward.assert_outcomes(passed=4)
    pytester.makeconftest("""
        def pytest_collection_modifyitems(items):
            items.reverse()
    """)
    backward = pytester.runpytest(*ARGS, "-s")
    backward.assert_outcomes(passed=4)

    def ids(text: str) -> dict[str, str]:
        return dict(re.findall(r"ID\[(\d)\]=(\S+)", text))

    first, second = ids(forward.stdout.str()), ids(backward.stdout.str())
    assert len(first) == 4 and first == second
    assert len(set(first.values())) == 4


def test_strict_marker_turns_a_contract_violation_into_a_failure(
        pytester: pytest.Pytester) -> None:
    # A response of the fake that breaks its contract (here: an auth config without its id,
    # patched in) is refused with a 500 and fails the strict test; a lenient test is served.
    pytester.makepyfile("""
        import json, urllib.error, urllib.request
        import pytest
        from mockcomposio.domain import render

        @pytest.fixture
        def broken_renderer(monkeypatch):
            real = render.auth_config
            def without_id(project, ac):
                body = real(project, ac)
                del body["id"]
                return body
            monkeypatch.setattr(render, "auth_config", without_id)

        def get_config(tenant):
            ac = tenant.add_auth_config("github")
            req = urllib.request.Request(f"{tenant.base_url}/api/v3/auth_configs/{ac.id}",
                                         headers=tenant.headers)
            try:
                with urllib.request.urlopen(req) as resp:
                    return resp.status, json.load(resp)
            except urllib.error.HTTPError as err:
                return err.code, json.load(err)

        @pytest.mark.mock_composio(strict=True)
        def test_strict(mock_composio, broken_renderer):
            status, body = get_config(mock_composio)
            assert status == 500 and body["error"]["slug"] == "Mock_ContractViolation"

        def test_lenient(mock_composio, broken_renderer):
            status, body = get_config(mock_composio)
            assert status == 200 and "id" not in body
    """)
    result = pytester.runpytest(*ARGS)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_strict*",
        "*1 response(s) of the fake broke their contract*",
        "*auth_configs.get*",
    ])
