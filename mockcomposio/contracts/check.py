"""``mockcomposio contracts check``: run a scripted scenario against any server and report every
response that breaks ``contracts/responses``.

The scenario (auth configs, toolkits, Connect Link, connected accounts, a Tool Router session,
and deliberate errors) uses only public API calls, so it runs against mockcomposio or against a
real (or recorded) Composio backend. It cleans up what it created. Only the standard library is
used for HTTP, so the check itself adds no dependency.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import contracts

API = "/api/v3.1"


@dataclass
class Step:
    name: str
    operation: str
    method: str
    path: str
    status: int
    expected: str  # "2xx" or "4xx"
    problems: list[str] = field(default_factory=list)
    skipped: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Report:
    base_url: str
    steps: list[Step] = field(default_factory=list)

    @property
    def violations(self) -> list[Step]:
        return [s for s in self.steps if s.problems]

    def render(self) -> str:
        lines = [f"contracts check against {self.base_url}"]
        for s in self.steps:
            mark = "SKIP" if s.skipped else ("ok  " if s.ok else "FAIL")
            lines.append(f"  {mark} {s.name:<38} {s.method:<6} {s.path} -> {s.status or '-'}"
                         f" ({s.operation})" + (f" [{s.skipped}]" if s.skipped else ""))
            lines.extend(f"         - {p}" for p in s.problems)
        checked = sum(1 for s in self.steps if not s.skipped)
        lines.append(f"{checked} responses checked, {len(self.violations)} breaking the "
                     "contracts")
        return "\n".join(lines)


class Client:
    def __init__(self, base_url: str, api_key: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def send(self, method: str, path: str, body: Any = None, *, auth: bool = True,
             query: dict[str, str] | None = None) -> tuple[int, Any, str]:
        url = self.base_url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = None if body is None else json.dumps(body).encode()
        headers = {"accept": "application/json"}
        if auth:
            headers["x-api-key"] = self.api_key
        if data is not None:
            headers["content-type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text), text
        except json.JSONDecodeError:
            return status, _NOT_JSON, text


_NOT_JSON = object()


class Scenario:
    """The scripted calls; each response is checked as it arrives."""

    def __init__(self, client: Client, toolkit: str = "github",
                 api_key_toolkit: str = "serpapi", user_id: str = "contracts-check") -> None:
        self.client = client
        self.toolkit = toolkit
        self.api_key_toolkit = api_key_toolkit
        self.user_id = user_id
        self.report = Report(client.base_url)
        self.cleanup: list[Callable[[], None]] = []

    def call(self, name: str, operation: str, method: str, path: str, body: Any = None, *,
             expected: str = "2xx", auth: bool = True,
             query: dict[str, str] | None = None) -> Any:
        status, payload, text = self.client.send(method, path, body, auth=auth, query=query)
        step = Step(name, operation, method, path, status, expected)
        if payload is _NOT_JSON:
            step.problems.append(f"response body is not JSON: {text[:120]!r}")
            payload = None
        else:
            step.problems.extend(contracts.response_problems(operation, status, payload))
        if f"{status // 100}xx" != expected:
            step.problems.insert(0, f"expected a {expected} status, got {status}"
                                 + _error_message(payload))
        self.report.steps.append(step)
        return payload if 200 <= status < 300 else None

    def skip(self, name: str, operation: str, method: str, path: str, why: str) -> None:
        self.report.steps.append(Step(name, operation, method, path, 0, "", skipped=why))

    def run(self) -> Report:
        try:
            self._run()
        finally:
            for undo in reversed(self.cleanup):
                with contextlib.suppress(OSError):
                    undo()
        return self.report

    def _run(self) -> None:
        tk = self.toolkit
        self.call("toolkits: list", "toolkits.list", "GET", f"{API}/toolkits",
                  query={"limit": "5"})
        self.call("toolkits: get", "toolkits.get", "GET", f"{API}/toolkits/{tk}")
        self.call("toolkits: unknown slug (404)", "toolkits.get", "GET",
                  f"{API}/toolkits/no-such-toolkit-zz9", expected="4xx")

        created = self.call("auth config: create (managed)", "auth_configs.create", "POST",
                            f"{API}/auth_configs",
                            {"toolkit": {"slug": tk},
                             "auth_config": {"type": "use_composio_managed_auth",
                                             "name": "contracts-check"}})
        ac_id = _dig(created, "auth_config", "id")
        if not isinstance(ac_id, str):
            self.skip("auth config: the rest", "auth_configs.get", "GET",
                      f"{API}/auth_configs/{{id}}", "create failed")
            return
        self.cleanup.append(lambda: self._quiet("DELETE", f"{API}/auth_configs/{ac_id}"))
        self.call("auth config: get", "auth_configs.get", "GET", f"{API}/auth_configs/{ac_id}")
        self.call("auth config: list", "auth_configs.list", "GET", f"{API}/auth_configs",
                  query={"toolkit_slug": tk, "limit": "10"})
        self.call("auth config: update", "auth_configs.update", "PATCH",
                  f"{API}/auth_configs/{ac_id}",
                  {"type": "default", "tool_access_config": {
                      "tools_for_connected_account_creation": []}})
        self.call("auth config: disable", "auth_configs.set_status", "PATCH",
                  f"{API}/auth_configs/{ac_id}/DISABLED")
        self.call("auth config: enable", "auth_configs.set_status", "PATCH",
                  f"{API}/auth_configs/{ac_id}/ENABLED")

        linked = self.call("connect link: create", "connected_accounts.link", "POST",
                           f"{API}/connected_accounts/link",
                           {"auth_config_id": ac_id, "user_id": self.user_id})
        ca_id = _dig(linked, "connected_account_id")
        if isinstance(ca_id, str):
            self.cleanup.append(
                lambda: self._quiet("DELETE", f"{API}/connected_accounts/{ca_id}"))
            self.call("connected account: get", "connected_accounts.get", "GET",
                      f"{API}/connected_accounts/{ca_id}")
        else:
            self.skip("connected account: get", "connected_accounts.get", "GET",
                      f"{API}/connected_accounts/{{id}}", "link failed")
        self.call("connected account: list", "connected_accounts.list", "GET",
                  f"{API}/connected_accounts",
                  query={"user_ids": self.user_id, "auth_config_ids": ac_id})
        self._api_key_account()

        session = self.call("tool router: create session", "tool_router.create_session", "POST",
                            f"{API}/tool_router/session",
                            {"user_id": self.user_id, "toolkits": {"enable": [tk]},
                             "manage_connections": {"enable": True}})
        sid = _dig(session, "session_id")
        if isinstance(sid, str):
            base = f"{API}/tool_router/session/{sid}"
            self.call("tool router: get session", "tool_router.get_session", "GET", base)
            self.call("tool router: session toolkits", "tool_router.toolkits", "GET",
                      f"{base}/toolkits", query={"limit": "5"})
            self.call("tool router: delete session", "tool_router.delete_session", "DELETE",
                      base)

        # read-only: a subscription's target rules differ (the real API wants HTTPS, the fake
        # loopback), and a project has only one subscription to spare
        self.call("webhooks: event types", "webhook_subscriptions.list_event_types", "GET",
                  f"{API}/webhook_subscriptions/event_types")
        self.call("webhooks: list subscriptions", "webhook_subscriptions.list", "GET",
                  f"{API}/webhook_subscriptions")

        self.call("error: unknown auth config (404)", "auth_configs.get", "GET",
                  f"{API}/auth_configs/ac_doesnotexist1", expected="4xx")
        self.call("error: invalid body (400)", "auth_configs.create", "POST",
                  f"{API}/auth_configs", {"auth_config": {"type": "nope"}}, expected="4xx")
        self.call("error: no API key (401)", "auth_configs.list", "GET", f"{API}/auth_configs",
                  auth=False, expected="4xx")
        self.call("error: unknown connected account (404)", "connected_accounts.get", "GET",
                  f"{API}/connected_accounts/ca_doesnotexist1", expected="4xx")
        self.call("auth config: delete", "auth_configs.delete", "DELETE",
                  f"{API}/auth_configs/{ac_id}")

    def _api_key_account(self) -> None:
        """A custom API-key auth config and an account initiated with its key (initiating on a
        Composio-managed OAuth config is retired in the real API)."""
        created = self.call("auth config: create (custom API key)", "auth_configs.create",
                            "POST", f"{API}/auth_configs",
                            {"toolkit": {"slug": self.api_key_toolkit},
                             "auth_config": {"type": "use_custom_auth", "authScheme": "API_KEY",
                                             "name": "contracts-check-key",
                                             "credentials": {}}})
        ac_id = _dig(created, "auth_config", "id")
        if not isinstance(ac_id, str):
            return
        self.cleanup.append(lambda: self._quiet("DELETE", f"{API}/auth_configs/{ac_id}"))
        initiated = self.call(
            "connected account: initiate (API key)", "connected_accounts.create", "POST",
            f"{API}/connected_accounts",
            {"auth_config": {"id": ac_id},
             "connection": {"user_id": self.user_id,
                            "state": {"authScheme": "API_KEY",
                                      "val": {"status": "ACTIVE",
                                              "generic_api_key": "contracts-check-key"}}}})
        ca_id = _dig(initiated, "id")
        if not isinstance(ca_id, str):
            return
        path = f"{API}/connected_accounts/{ca_id}"
        self.call("connected account: get (ACTIVE)", "connected_accounts.get", "GET", path)
        self.call("connected account: disable", "connected_accounts.update_status", "PATCH",
                  f"{path}/status", {"enabled": False})
        self.call("connected account: enable", "connected_accounts.update_status", "PATCH",
                  f"{path}/status", {"enabled": True})
        self.call("connected account: delete", "connected_accounts.delete", "DELETE", path)
        self.call("auth config: delete (API key)", "auth_configs.delete", "DELETE",
                  f"{API}/auth_configs/{ac_id}")

    def _quiet(self, method: str, path: str) -> None:
        self.client.send(method, path)


def _dig(payload: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def _error_message(payload: Any) -> str:
    message = _dig(payload, "error", "message")
    return f": {message}" if isinstance(message, str) else ""


def check(base_url: str, api_key: str = "contracts-check", *, toolkit: str = "github",
          api_key_toolkit: str = "serpapi") -> Report:
    return Scenario(Client(base_url, api_key), toolkit=toolkit,
                    api_key_toolkit=api_key_toolkit).run()
