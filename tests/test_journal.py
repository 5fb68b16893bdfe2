"""The request journal (GET /_mock/journal), secret redaction, near-miss hints, request log."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from mockcomposio.domain.journal import (
    ENTRY_BYTES,
    MAX_SHARED_TEXTS,
    Journal,
    JournalEntry,
    request_id_text,
    select,
)
from mockcomposio.domain.redact import REDACTED, redact, redact_form, redact_query
from mockcomposio.http.app import did_you_mean

from .conftest import KEY, OTHER

V31 = "/api/v3.1"
Client = TestClient[Any, Any]


# -- redaction ---------------------------------------------------------------------------------

def test_redact_hides_every_secret_key_at_any_depth() -> None:
    body = {
        "api_key": "k", "X-API-Key": "k", "client_secret": "s", "access_token": "a",
        "refresh_token": "r", "id_token": "i", "password": "p", "token": "t",
        "code_verifier": "v", "generic_api_key": "g", "bearer_token": "b",
        "nested": [{"credentials": {"client_id": "public", "client_secret": "hidden"}}],
        "error": {"code": 302, "message": "m"},  # a numeric code is not a secret
        "empty": {"access_token": None, "token": ""},  # nothing to hide
    }
    out = redact(body)
    for key in ("api_key", "X-API-Key", "client_secret", "access_token", "refresh_token",
                "id_token", "password", "token", "code_verifier", "generic_api_key",
                "bearer_token"):
        assert out[key] == REDACTED, key
    assert out["nested"][0]["credentials"] == {"client_id": "public", "client_secret": REDACTED}
    assert out["error"] == {"code": 302, "message": "m"}
    assert out["empty"] == {"access_token": None, "token": ""}
    assert body["api_key"] == "k"  # a copy: the original is untouched
    assert redact({"code": "auth-code-123"}) == {"code": REDACTED}
    long = {"items": [{"token": "t"}] * 12}
    assert redact(long, max_items=2) == {"items": [{"token": REDACTED}] * 2 + ["… 10 more"]}


def test_redact_hides_the_catalogues_secret_fields_too() -> None:
    # The journal hides what the API masks: every field the catalogue calls secret.
    body = {"proxy_config": {"proxy_url": "https://p", "proxy_auth_key": "pk-123456"},
            "credentials": {"private_key": "-----BEGIN", "consumer_secret": "cs-1"}}
    assert redact(body) == {
        "proxy_config": {"proxy_url": "https://p", "proxy_auth_key": REDACTED},
        "credentials": {"private_key": REDACTED, "consumer_secret": REDACTED}}


def test_redact_query_and_form() -> None:
    assert redact_query("") == ""
    assert redact_query("limit=5&cursor=x") == "limit=5&cursor=x"
    assert redact_query("state=abc&code=xyz&api_key=k") == \
        f"state=abc&code={REDACTED}&api_key={REDACTED}"
    for _ in range(2):  # short queries are remembered, long ones parsed each time: same rules
        long = "code=xyz&" + "limit=5&" * 60 + "api_key=k"
        assert len(long) > 256
        assert redact_query(long) == f"code={REDACTED}&" + "limit=5&" * 60 + \
            f"api_key={REDACTED}"
        assert redact_query("code=xyz") == f"code={REDACTED}"
    assert redact_form({"client_secret": ["s"], "scope": ["a", "b"]}) == \
        {"client_secret": REDACTED, "scope": ["a", "b"]}


def test_select_filters_entries() -> None:
    def entry(seq: int, method: str, path: str, status: int, op: str | None) -> JournalEntry:
        return JournalEntry(seq, 0.0, 0.0, method, path, "", status, 1.0, f"r{seq}", op)

    entries = [entry(1, "GET", "/api/v3.1/toolkits", 200, "toolkits.list"),
               entry(2, "POST", "/api/v3.1/auth_configs", 400, "auth_configs.create"),
               entry(3, "POST", "/api/v3.1/auth_configs", 201, "auth_configs.create"),
               entry(4, "GET", "/nope", 404, None)]
    assert [e.seq for e in select(entries, method="post")] == [2, 3]
    assert [e.seq for e in select(entries, status=4)] == [2, 4]
    assert [e.seq for e in select(entries, status=201)] == [3]
    assert [e.seq for e in select(entries, path_prefix="/api/v3.1/auth")] == [2, 3]
    assert [e.seq for e in select(entries, operation="toolkits.list")] == [1]
    assert [e.seq for e in select(entries, limit=2)] == [3, 4]
    assert select(entries, limit=0) == []


def test_did_you_mean_compares_fixed_segments() -> None:
    routes = [("GET", "/api/v3.1/connected_accounts/{id}"), ("GET", "/api/v3.1/toolkits"),
              ("POST", "/api/v3.1/connected_accounts/link")]
    assert did_you_mean("GET", "/api/v3.1/connected_account/ca_abc", routes) == \
        "GET /api/v3.1/connected_accounts/{id}"
    assert did_you_mean("GET", "/api/v3.1/toolkit", routes) == "GET /api/v3.1/toolkits"
    assert did_you_mean("GET", "/something/else/entirely", routes) is None


# -- over HTTP ---------------------------------------------------------------------------------

async def journal(api: Client, query: str = "", headers: dict[str, str] = KEY) -> Any:
    resp = await api.get(f"/_mock/journal{query}", headers=headers)
    assert resp.status == 200, await resp.text()
    return (await resp.json())["entries"]


async def test_every_request_of_a_tenant_is_journaled_with_secrets_redacted(api: Client) -> None:
    resp = await api.post(f"{V31}/auth_configs", headers={**KEY, "x-request-id": "req-1"}, json={
        "toolkit": {"slug": "github"},
        "auth_config": {"type": "use_custom_auth", "auth_scheme": "OAUTH2",
                        "credentials": {"client_id": "cid", "client_secret": "very-secret"}}})
    assert resp.status == 201, await resp.text()
    await api.get(f"{V31}/toolkits?limit=2", headers=KEY)
    await api.get(f"{V31}/toolkits", headers=OTHER)
    entries = await journal(api)
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", f"{V31}/auth_configs", 201), ("GET", f"{V31}/toolkits", 200)]
    created = entries[0]
    assert created["request_id"] == "req-1"
    assert created["operation"] == "auth_configs.create"
    assert created["request_body"]["auth_config"]["credentials"] == {
        "client_id": "cid", "client_secret": REDACTED}
    assert "very-secret" not in str(created)
    assert created["response_body"]["auth_config"]["id"].startswith("ac_")
    assert created["duration_ms"] >= 0 and created["fault"] is None
    assert entries[1]["query"] == "limit=2"
    assert len(await journal(api, headers=OTHER)) == 1  # per tenant
    # The control plane is not journaled (reading the journal does not grow it).
    assert len(await journal(api)) == 2


async def test_journal_filters_and_clear(api: Client) -> None:
    await api.get(f"{V31}/toolkits", headers=KEY)
    await api.get(f"{V31}/auth_configs/ac_missing", headers=KEY)
    await api.post(f"{V31}/auth_configs", json={"toolkit": {"slug": "nope"}}, headers=KEY)
    assert [e["status"] for e in await journal(api, "?status=4")] == [404, 404]
    assert [e["operation"] for e in await journal(api, "?method=POST")] == [
        "auth_configs.create"]
    assert len(await journal(api, f"?path_prefix={V31}/auth_configs")) == 2
    assert [e["operation"] for e in await journal(api, "?operation=toolkits.list")] == [
        "toolkits.list"]
    assert [e["status"] for e in await journal(api, "?limit=1")] == [404]
    bad = await api.get("/_mock/journal?limit=many", headers=KEY)
    assert bad.status == 400
    resp = await api.delete("/_mock/journal", headers=KEY)
    assert (await resp.json())["cleared"] == 3
    assert await journal(api) == []


async def test_unmatched_requests_get_a_near_miss_hint(api: Client) -> None:
    await journal(api)  # the tenant exists (an unrouted request never creates one)
    resp = await api.get(f"{V31}/connected_account/ca_123", headers=KEY)
    assert resp.status == 404
    message = (await resp.json())["error"]["message"]
    assert "Did you mean GET /api/v3.1/connected_accounts/{id}?" in message
    [entry] = await journal(api)
    assert entry["operation"] is None
    assert "connected_accounts/{id}" in entry["hint"]


async def test_faults_show_in_the_journal(api: Client) -> None:
    await api.post("/_mock/faults", headers=KEY,
                   json={"operation": "toolkits.list", "preset": "rate_limit"})
    await api.get(f"{V31}/toolkits", headers=KEY)
    await api.get(f"{V31}/toolkits", headers=KEY)
    first, second = await journal(api)
    assert first["status"] == 429 and first["fault"].startswith("rate_limit@toolkits.list")
    assert first["response_body"]["error"]["slug"] == "Rate_Limit_Exceeded"
    assert second["status"] == 200 and second["fault"] is None


async def test_pages_and_provider_requests_are_journaled_to_their_tenant(api: Client) -> None:
    resp = await api.post(f"{V31}/auth_configs", json={"toolkit": {"slug": "github"}},
                          headers=KEY)
    ac = (await resp.json())["auth_config"]["id"]
    resp = await api.post(f"{V31}/connected_accounts/link",
                          json={"auth_config_id": ac, "user_id": "u"}, headers=KEY)
    redirect = (await resp.json())["redirect_url"]
    token = redirect.rsplit("/", 1)[1]
    assert (await api.get(f"/link/{token}")).status == 200
    assert (await api.get(f"/link/{token}", headers=OTHER)).status == 200
    ops = [e["operation"] for e in await journal(api)]
    assert ops[-2:] == ["flow.link_page", "flow.link_page"]
    assert await journal(api, headers=OTHER) == []
    await api.get("/link/lk_unknown000000")  # resolves to no tenant: not journaled
    assert len(await journal(api)) == 4


async def test_request_log_line_redacts_secrets_in_the_query(api: Client,
                                                             caplog: pytest.LogCaptureFixture,
                                                             ) -> None:
    with caplog.at_level(logging.INFO, logger="mockcomposio.http"):
        await api.get(f"{V31}/toolkits?api_key=leaky&limit=1",
                      headers={**KEY, "x-request-id": "rid-9"})
    [line] = [r.getMessage() for r in caplog.records if "rid-9" in r.getMessage()]
    assert line.startswith(f"GET {V31}/toolkits?api_key=REDACTED&limit=1 200 ")
    assert "leaky" not in line and line.endswith("ms rid-9")


@pytest.mark.parametrize("raw", [b'{"id":"ac_1"}', None, b"x" * (ENTRY_BYTES + 1)])
def test_the_common_entry_is_the_same_as_a_fully_checked_one(raw: bytes | None) -> None:
    """``Journal.answered`` (the request path's shortcut, which stores a row) gives exactly
    the entry the general constructor builds for a request without body, hint or fault."""
    args = (1.5, 2.5, "GET", "/api/v3.1/auth_configs/ac_1", "limit=5", 200, 0.3, "rid",
            "auth_configs.get")
    journal = Journal()
    journal.answered(*args, raw)
    [quick] = journal.entries()
    full = JournalEntry(1, *args, response_raw=raw)
    assert {name: getattr(quick, name) for name in JournalEntry.__slots__} == \
        {name: getattr(full, name) for name in JournalEntry.__slots__}
    assert journal.bytes == full.size
    assert quick.as_json() == full.as_json()


def test_rows_and_entries_share_the_caps_and_read_back_as_the_same_objects() -> None:
    """Rows (``Journal.answered``) and entries (``append``) are trimmed by one count and one
    byte budget, oldest first, and a row read once is the same entry on every later read."""
    journal = Journal(limit=5, byte_limit=10**9)
    for i in range(8):
        if i % 2:
            journal.answered(0.0, 0.0, "GET", f"/p{i}", "", 200, 1.0, f"r{i}", "op", b"{}")
        else:
            journal.append(JournalEntry(journal.next_seq(), 0.0, 0.0, "POST", f"/p{i}", "",
                                        201, 1.0, f"r{i}", "op"))
    entries = journal.entries()
    assert [e.path for e in entries] == [f"/p{i}" for i in range(3, 8)]
    assert [e.seq for e in entries] == [4, 5, 6, 7, 8]
    assert journal.dropped == 3
    assert journal.bytes == sum(e.size for e in entries)
    assert all(a is b for a, b in zip(entries, journal.entries(), strict=True))
    assert [e.path for e in journal] == [e.path for e in entries]
    by_bytes = Journal(limit=100, byte_limit=3000)
    for _ in range(20):
        by_bytes.answered(0.0, 0.0, "GET", "/p", "", 200, 1.0, "r", "op", b"x" * 500)
    assert 0 < by_bytes.bytes <= 3000 and by_bytes.dropped == 20 - len(by_bytes)


# -- the journal's columns ---------------------------------------------------------------------

_OPS = st.lists(st.one_of(
    st.tuples(st.just("row"), st.integers(0, 9), st.integers(0, 300)),
    st.tuples(st.just("entry"), st.integers(0, 9), st.integers(0, 300)),
    st.tuples(st.just("read"), st.just(0), st.just(0)),
    st.tuples(st.just("clear"), st.just(0), st.just(0)),
), max_size=120)


@settings(max_examples=150, deadline=None)
@given(ops=_OPS, limit=st.integers(0, 40), byte_limit=st.integers(400, 6000))
def test_the_journal_keeps_what_a_plain_list_with_its_caps_keeps(
        ops: list[tuple[str, int, int]], limit: int, byte_limit: int) -> None:
    """Rows and whole entries, reads between writes, clears, any count and byte caps (the
    ring wraps and grows at every point): the journal holds exactly the newest requests a
    list trimmed oldest-first would, with their seq, path, request id and size, and an entry
    read once is the same object while it is kept."""
    journal = Journal(limit=limit, byte_limit=byte_limit)
    model: list[tuple[int, str, str, int]] = []  # seq, path, request id, size
    seen: dict[int, JournalEntry] = {}
    seq = dropped = 0
    for kind, n, body in ops:
        if kind == "read":
            for entry in journal.entries():
                assert seen.setdefault(entry.seq, entry) is entry
            continue
        if kind == "clear":
            journal.clear()
            model.clear()
            continue
        seq += 1
        path = "".join(["/p/", str(n)])  # a new string each time, as a request's path is
        raw = b"x" * body
        if kind == "row":
            number = seq * 7 if n % 2 else 0  # a drawn id, or the caller's own
            request_id = request_id_text(number) if number else f"given-{seq}"
            journal.answered(1.0, 2.0, "GET", path, "", 200, 0.5, request_id, "op", raw, number)
            size = 400 + len(path) + body
        else:
            request_id = f"entry-{seq}"
            entry = JournalEntry(journal.next_seq(), 1.0, 2.0, "POST", path, "", 201, 0.5,
                                 request_id, "op", response_raw=raw)
            journal.append(entry)
            size = entry.size
        model.append((seq, path, request_id, size))
        while len(model) > 1 and (len(model) > limit or sum(m[3] for m in model) > byte_limit):
            model.pop(0)
            dropped += 1
    entries = journal.entries()
    assert [(e.seq, e.path, e.request_id, e.size) for e in entries] == model
    assert len(journal) == len(model) and journal.bytes == sum(m[3] for m in model)
    assert journal.dropped == dropped
    assert all(seen.get(e.seq, e) is e for e in entries)


def test_a_repeated_request_leaves_no_object_of_its_own_in_the_journal() -> None:
    """A repeated, cached read (same path text, shared response bytes, a drawn request id)
    keeps none of the objects it was journaled with: no memory is held per request, so a
    busy server reuses memory still in the CPU's cache (bench/RESULTS.md, round 6)."""
    journal = Journal(limit=50)
    body = b'{"id": "ac_1"}'
    journal.answered(0.0, 0.0, "GET", "/api/v3.1/auth_configs/ac_1", "", 200, 0.1, "first",
                     "auth_configs.get", body, 0)
    for i in range(2, 301):  # the path seen before; the ring fills and wraps
        path = "".join(["/api/v3.1/auth_configs/", "ac_1"])  # new each time, like aiohttp's
        at, wall_time, duration_ms = time.time(), time.time(), time.perf_counter()
        request_id = request_id_text(i)
        given_objects = (path, at, wall_time, duration_ms, request_id)
        references = [sys.getrefcount(o) for o in given_objects]
        journal.answered(at, wall_time, "GET", path, "", 200, duration_ms, request_id,
                         "auth_configs.get", body, i)
        assert [sys.getrefcount(o) for o in given_objects] == references, i
    last = journal.entries()[-1]
    assert (last.path, last.request_id, last.seq, last.response_body) == (
        "/api/v3.1/auth_configs/ac_1", request_id_text(300), 300, {"id": "ac_1"})


def test_the_shared_texts_are_bounded_and_never_change_a_row() -> None:
    journal = Journal(limit=10)
    for i in range(MAX_SHARED_TEXTS + 50):
        journal.answered(0.0, 0.0, "GET", f"/p/{i}", f"q={i}", 200, 0.1, "rid", "op", None, 0)
    assert len(journal._shared) <= MAX_SHARED_TEXTS
    assert [(e.path, e.query) for e in journal] == [
        (f"/p/{i}", f"q={i}") for i in range(MAX_SHARED_TEXTS + 40, MAX_SHARED_TEXTS + 50)]
