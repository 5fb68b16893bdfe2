"""pytest plugin (registered through the ``pytest11`` entry point): ``pip install mockcomposio``
and the fixtures below are there, with no conftest.

Fixtures:
- ``mock_composio_server`` (session): the fake on a loopback port, one per process (so one
  per pytest-xdist worker); ``.base_url``, ``.engine``.
- ``mock_composio`` (function): a fresh :class:`~mockcomposio.tenant.Tenant` — its own API
  key, project, provider and clock on that server — dropped after the test in O(1). Arrange
  (``add_auth_config``, ``add_account(..., status=...)``), assert (``account(s)``,
  ``requested_scopes``, ``granted_scopes``), move time (``clock``), script consent
  (``consent``).
- ``composio_consent``: the tenant's consent driver: ``complete(redirect_url, decision=,
  scopes=, provider_error=, fields=)`` drives a flow like a browser; ``script("allow",
  "deny", ...)`` queues outcomes for flows the app starts itself.
- ``composio_clock``: the tenant's virtual clock: ``advance(minutes=11)``, ``set()``,
  ``freeze()``, ``expire_token(account_id)``.
- ``composio_webhooks``: the tenant's webhook subscription secret, deliveries so far and an
  in-process receiver (``subscribe()``, ``wait_for()``, ``run_retry()``).
- ``composio_env``: ``COMPOSIO_BASE_URL`` / ``COMPOSIO_API_KEY`` set (and the user/org key
  variables unset) for code that builds its own client.
- ``composio_client``: the official SDK's ``Composio(...)`` pointed at the tenant, tracking off.
- ``composio_tenant_factory``: ``make(**marker_kwargs)`` for more tenants in one test.

Marker ``@pytest.mark.mock_composio(seed=, consent=, strict=, network=, toolkits=,
callback_verifier=)`` overrides, per test, the options ``--mock-composio-seed``,
``--mock-composio-consent``, ``--mock-composio-strict`` and ``--mock-composio-allow-network``
(ini: ``mock_composio_seed``, ``mock_composio_consent``, ``mock_composio_strict``,
``mock_composio_network_guard``); ``toolkits=[{"slug": ..., "auth_schemes": [...]}, ...]`` gives
the test's tenant its own toolkits (also ``mock_composio.add_toolkit(...)``);
``callback_verifier`` (the project's OAuth callback verifier URL) turns callback identity
verification on.

The network guard (see :mod:`mockcomposio.netguard`) is on by default: while tests run,
Composio's real hosts can't be reached from any thread, and a test whose code tried fails.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from .. import netguard
from ..domain.outcomes import Outcome

if TYPE_CHECKING:
    from .consent import ConsentDriver
    from .tenant import Tenant, TenantClock

# pytest imports this module in every process of a project that installs mockcomposio (the
# pytest11 entry point), whether or not its tests use the fake: so it imports only pytest, the
# stdlib network guard and the Outcome value type. The engine, the domain, the HTTP server,
# faker, oauthlib and the contract validators load when a test first asks for a fixture
# (tests/test_plugin_import.py keeps it so).

_tenant_numbers = itertools.count(1)
_MARKER_KEYS = frozenset({"seed", "consent", "strict", "network", "toolkits",
                          "callback_verifier"})
_UNSET_ENV = ("COMPOSIO_USER_API_KEY", "COMPOSIO_ORG_API_KEY", "COMPOSIO_CUSTOM_HEADERS")


@dataclass(frozen=True)
class Settings:
    seed: str | None   # base of the per-test seeds; None: unseeded (random ids)
    consent: str       # "manual" or an outcome applied automatically
    strict: bool
    guard: bool

    def seed_for(self, nodeid: str, index: int = 0) -> int | None:
        """A stable seed per test: independent of order, worker and other tests."""
        if self.seed is None:
            return None
        key = f"{self.seed}:{nodeid}" if index == 0 else f"{self.seed}:{nodeid}:{index}"
        return zlib.crc32(key.encode())


_SETTINGS = pytest.StashKey[Settings]()
_GUARDED = pytest.StashKey[bool]()
_TENANT = pytest.StashKey["Tenant"]()
# Items whose stash holds a tenant, until their reports are written (pytest_runtest_logfinish).
_running_items: dict[str, pytest.Item] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockcomposio", "mockcomposio (offline fake of Composio)")
    group.addoption("--mock-composio-seed", dest="mock_composio_seed", default=None,
                    metavar="SEED",
                    help="base seed for tenant ids, tokens and fake users (each test derives its "
                    "own from it and its node id); 'none' for random. Default 0.")
    group.addoption("--mock-composio-consent", dest="mock_composio_consent", default=None,
                    metavar="MODE",
                    help="what end users do in flows nobody drives: manual (default: nothing), "
                    "allow, deny, error:<oauth_error>, scopes:<a>,<b>.")
    group.addoption("--mock-composio-strict", dest="mock_composio_strict", action="store_true",
                    default=None, help="strict contract checking on every tenant.")
    group.addoption("--mock-composio-allow-network", dest="mock_composio_allow_network",
                    action="store_true", default=False,
                    help="turn off the network guard that blocks Composio's real hosts.")
    parser.addini("mock_composio_seed", "default for --mock-composio-seed", default="0")
    parser.addini("mock_composio_consent", "default for --mock-composio-consent",
                  default="manual")
    parser.addini("mock_composio_strict", "default for --mock-composio-strict", type="bool",
                  default=False)
    parser.addini("mock_composio_network_guard", "block Composio's real hosts during tests",
                  type="bool", default=True)


def _settings(config: pytest.Config) -> Settings:
    seed = config.getoption("mock_composio_seed") or config.getini("mock_composio_seed")
    seed = str(seed).strip()
    consent = str(config.getoption("mock_composio_consent")
                  or config.getini("mock_composio_consent")).strip()
    if consent.lower() != "manual":
        try:
            Outcome.parse(consent)
        except ValueError as exc:
            raise pytest.UsageError(f"--mock-composio-consent: {exc}") from None
    strict = config.getoption("mock_composio_strict")
    if strict is None:
        strict = bool(config.getini("mock_composio_strict"))
    guard = bool(config.getini("mock_composio_network_guard")) and not config.getoption(
        "mock_composio_allow_network")
    return Settings(None if seed.lower() in ("none", "random", "") else seed, consent,
                    bool(strict), guard)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mock_composio(seed=None, consent=None, strict=None, network=None, toolkits=None, "
        "callback_verifier=None): "
        "per-test settings of the mockcomposio tenant: seed (int, or None for random ids), "
        "consent ('manual', 'allow', 'deny', 'error:<code>', 'scopes:<a>,<b>'), strict (bool), "
        "network=True to let this test reach Composio's real hosts, toolkits=[{...}] "
        "user-defined toolkits (contracts/mock/toolkit.schema.json) this tenant sees, "
        "callback_verifier (URL: callback identity verification on; OAuth callbacks wait for "
        "complete_auth).")
    settings = _settings(config)
    config.stash[_SETTINGS] = settings
    config.stash[_GUARDED] = settings.guard
    if settings.guard:
        netguard.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_GUARDED, False):
        netguard.release()
        config.stash[_GUARDED] = False


def pytest_report_header(config: pytest.Config) -> str | None:
    s = config.stash.get(_SETTINGS, None)
    if s is None:
        return None
    return (f"mockcomposio: seed={s.seed if s.seed is not None else 'none'}, "
            f"consent={s.consent}, strict={s.strict}, "
            f"network guard={'on' if s.guard else 'off'}")


def _marker_options(item: pytest.Item) -> dict[str, Any]:
    marker = item.get_closest_marker("mock_composio")
    if marker is None:
        return {}
    if marker.args:
        pytest.fail(f"{item.nodeid}: use keywords in @pytest.mark.mock_composio"
                    f"({', '.join(sorted(_MARKER_KEYS))}=...)", pytrace=False)
    unknown = set(marker.kwargs) - _MARKER_KEYS
    if unknown:
        pytest.fail(f"{item.nodeid}: unknown @pytest.mark.mock_composio option(s) "
                    f"{sorted(unknown)}; known: {sorted(_MARKER_KEYS)}", pytrace=False)
    consent = marker.kwargs.get("consent")
    if consent is not None and str(consent).strip().lower() != "manual":
        try:
            Outcome.parse(consent)
        except ValueError as exc:
            pytest.fail(f"{item.nodeid}: @pytest.mark.mock_composio(consent=...): {exc}",
                        pytrace=False)
    return dict(marker.kwargs)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.config.stash.get(_GUARDED, False):
        network = item.get_closest_marker("mock_composio")
        allowed = bool(network is not None and network.kwargs.get("network"))
        netguard.begin_test(item.nodeid, enforce=not allowed)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    result = yield
    if item.config.stash.get(_GUARDED, False):
        attempts = netguard.take_attempts()
        if attempts:
            pytest.fail(netguard.failure_message(attempts), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    try:
        return (yield)
    finally:
        if item.config.stash.get(_GUARDED, False):
            netguard.end_test()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None],
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        tenant = item.stash.get(_TENANT, None)
        if tenant is not None:
            seed = "None" if tenant.seed is None else str(tenant.seed)
            report.sections.append(("mockcomposio", (
                f"tenant api_key={tenant.api_key} base_url={tenant.base_url} seed={seed} "
                f"consent={tenant.last_consent_mode} strict={tenant.strict}\n"
                f"reproduce the same ids/tokens/users with "
                f"@pytest.mark.mock_composio(seed={seed})")))
    return report


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """All reports of the test are written: let its tenant go (the stash would otherwise keep
    every test's project alive until the session ends)."""
    item = _running_items.pop(nodeid, None)
    if item is not None:
        with contextlib.suppress(KeyError):
            del item.stash[_TENANT]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    n = netguard.telemetry_blocked()
    if n and terminalreporter.config.stash.get(_GUARDED, False):
        terminalreporter.write_line(
            f"mockcomposio: network guard blocked {n} SDK telemetry request(s) to "
            "telemetry.composio.dev (the SDK's telemetry thread ignores allow_tracking=False "
            "in worker threads); nothing left the machine.")


# -- fixtures --------------------------------------------------------------------------------

_SERVER = pytest.StashKey[Any]()


def _shared_server(config: pytest.Config) -> Any:
    """The session's server, started on first use and stopped when pytest unconfigures. The
    per-test fixtures reach it through here rather than by requesting the session fixture:
    resolving one more fixture for every test is a measurable part of their overhead."""
    server = config.stash.get(_SERVER, None)
    if server is None:
        from ..engine import Engine
        from ..http.policy import Policy
        from ..server import LiveServer

        # Strict contract checking is per tenant (Project.strict_contracts), not server-wide,
        # so one server serves strict and lenient tests alike. The session's own server: every
        # tenant on it is this test run's, so the inspector and the control plane may see them
        # all, and none is evicted behind a long-lived fixture's back (each test's tenant is
        # dropped at teardown, so they do not pile up).
        server = config.stash[_SERVER] = LiveServer(
            Engine(max_tenants=None), policy=Policy(all_tenants=True)).start()
        config.add_cleanup(server.stop)
    return server


@pytest.fixture(scope="session")
def mock_composio_server(pytestconfig: pytest.Config) -> Any:
    """The fake on a loopback port for the whole session (one per xdist worker)."""
    return _shared_server(pytestconfig)


def _new_tenant(server: Any, config: pytest.Config, nodeid: str, options: dict[str, Any],
                index: int) -> Tenant:
    from .tenant import Tenant

    settings = config.stash.get(_SETTINGS, None) or _settings(config)
    api_key = f"test-{_worker()}-{next(_tenant_numbers)}"
    seed = options["seed"] if "seed" in options else settings.seed_for(nodeid, index)
    engine = server.engine
    engine.reset(api_key, seed=seed)  # a fresh project, seeded: O(1), no server restart
    tenant = Tenant(engine, api_key, server.base_url, seed=seed,
                    strict=bool(options.get("strict", settings.strict)))
    consent = options.get("consent") or settings.consent
    if consent != "manual":
        tenant.consent.set_mode(consent)
    _ = tenant.project  # adopt now: hooks for scripted consent, strict flag
    if options.get("toolkits"):
        from ..domain.catalogue import CatalogueError

        try:
            tenant.add_toolkits(options["toolkits"])
        except CatalogueError as exc:
            engine.drop(api_key)
            pytest.fail(f"{nodeid}: @pytest.mark.mock_composio(toolkits=...): {exc}",
                        pytrace=False)
    if options.get("callback_verifier"):
        tenant.set_callback_verifier(str(options["callback_verifier"]))
    return tenant


@functools.cache
def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")  # fixed for the process's life


@pytest.fixture
def mock_composio(request: pytest.FixtureRequest) -> Iterator[Tenant]:
    """A fresh tenant (own API key and project) on the session's server; dropped after."""
    mock_composio_server = _shared_server(request.config)
    node = request.node
    tenant = _new_tenant(mock_composio_server, request.config, node.nodeid,
                         _marker_options(node), 0)
    node.stash[_TENANT] = tenant
    _running_items[node.nodeid] = node
    try:
        yield tenant
    finally:
        violations = _violations_of(mock_composio_server, tenant)
        mock_composio_server.engine.drop(tenant.api_key)
    if violations:
        pytest.fail(_violation_message(violations), pytrace=False)


def _violations_of(server: Any, tenant: Tenant) -> list[Any]:
    project = server.engine.projects.get(tenant.api_key)
    return list(project.contract_violations) if project is not None else []


def _violation_message(violations: list[Any]) -> str:
    lines = [f"mockcomposio (strict): {len(violations)} response(s) of the fake broke their "
             "contract; each was answered as a 500 Mock_ContractViolation instead:"]
    lines += [f"  {v}" for v in violations[:10]]
    lines.append("This is a bug in mockcomposio or its contracts/, not in your code; run "
                 "without strict=True to carry on, and please report it.")
    return "\n".join(lines)


class TenantFactory:
    """What ``composio_tenant_factory`` hands out: ``make(seed=, consent=, strict=,
    network=)`` (or call the factory itself) for another tenant of the same server, with the
    test's marker options as defaults. Every tenant made is dropped after the test."""

    def __init__(self, make: Callable[[dict[str, Any]], Tenant]) -> None:
        self._make = make
        self.made: list[Tenant] = []

    def make(self, **options: Any) -> Tenant:
        unknown = set(options) - _MARKER_KEYS
        if unknown:
            raise TypeError(f"unknown tenant option(s) {sorted(unknown)}; known: "
                            f"{sorted(_MARKER_KEYS)}")
        tenant = self._make(options)
        self.made.append(tenant)
        return tenant

    __call__ = make


@pytest.fixture
def composio_tenant_factory(request: pytest.FixtureRequest) -> Iterator[TenantFactory]:
    """``make(seed=..., consent=..., strict=...)``: more tenants for one test (e.g. two apps)."""
    mock_composio_server = _shared_server(request.config)
    node = request.node
    base = _marker_options(node)
    factory = TenantFactory(lambda options: _new_tenant(
        mock_composio_server, request.config, node.nodeid, {**base, **options},
        len(factory.made) + 1))

    violations: list[Any] = []
    try:
        yield factory
    finally:
        for tenant in factory.made:
            violations += _violations_of(mock_composio_server, tenant)
            mock_composio_server.engine.drop(tenant.api_key)
    if violations:
        pytest.fail(_violation_message(violations), pytrace=False)


@pytest.fixture
def composio_consent(mock_composio: Tenant) -> ConsentDriver:
    """The tenant's :class:`~mockcomposio.testing.ConsentDriver`."""
    return mock_composio.consent


@pytest.fixture
def composio_clock(mock_composio: Tenant) -> TenantClock:
    """The tenant's :class:`~mockcomposio.TenantClock`."""
    return mock_composio.clock


@pytest.fixture
def composio_webhooks(mock_composio: Tenant) -> Any:
    """The tenant's :class:`~mockcomposio.testing.webhooks.TenantWebhooks`: its subscription's
    ``secret``, the ``deliveries`` so far, an in-process ``receiver_url``, ``wait_for``."""
    return mock_composio.webhooks


@pytest.fixture
def composio_env(mock_composio: Tenant, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``COMPOSIO_BASE_URL`` / ``COMPOSIO_API_KEY`` for the test; user/org keys unset."""
    for key in _UNSET_ENV:
        monkeypatch.delenv(key, raising=False)
    for key, value in mock_composio.env.items():
        monkeypatch.setenv(key, value)
    return mock_composio.env


@pytest.fixture
def composio_client(mock_composio: Tenant) -> Any:
    """``Composio(api_key=..., base_url=..., allow_tracking=False)`` for the tenant."""
    try:
        from composio import Composio
    except ImportError:  # pragma: no cover - depends on the user's environment
        pytest.fail("the composio_client fixture needs the official SDK: pip install composio")
    return Composio(api_key=mock_composio.api_key, base_url=mock_composio.base_url,
                    allow_tracking=False)
