"""The jsonschema_rs fast path of contract validation gives jsonschema's verdicts (and, through
the fallback, its messages) on a corpus of real and mutated payloads."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest

from mockcomposio import contracts
from mockcomposio.contract_check import check
from mockcomposio.engine import Engine
from mockcomposio.server import LiveServer
from tests.test_contracts_property import Pool, valid_bodies

MUTATIONS_PER_PAYLOAD = 7  # enough of both verdicts whatever the scenario returns
ODD_VALUES: list[Any] = [None, 0, -1, 1.5, True, "", "x", [], [1], {}, {"zz": 1}]


@pytest.fixture(autouse=True)
def fast_path_on() -> Iterator[None]:
    previous = contracts.set_fast_path(True)
    yield
    contracts.set_fast_path(previous)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node[:3]):
            yield from _paths(value, (*prefix, i))


def mutations(payload: Any, rng: random.Random) -> list[Any]:
    """Variants of a payload, most of them invalid: a key dropped, a value retyped, an unknown
    key added, at any depth."""
    paths = list(_paths(payload))
    out = []
    for _ in range(MUTATIONS_PER_PAYLOAD):
        mutant = copy.deepcopy(payload)
        path = rng.choice(paths)
        if not path:
            out.append(rng.choice(ODD_VALUES))
            continue
        parent = mutant
        for step in path[:-1]:
            parent = parent[step]
        action = rng.choice(["drop", "retype", "add"])
        if action == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[f"zz_unknown_{rng.randrange(100)}"] = rng.choice(ODD_VALUES)
        else:
            parent[path[-1]] = rng.choice(ODD_VALUES)
        out.append(mutant)
    return out


def recorded_responses(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, Any]]:
    """Every response of the `contracts check` scenario against a live server (~30 operations,
    successes and error envelopes)."""
    seen: list[tuple[str, int, Any]] = []
    original = contracts.response_problems

    def record(operation: str, status: int, payload: Any) -> list[str]:
        seen.append((operation, status, copy.deepcopy(payload)))
        return original(operation, status, payload)

    monkeypatch.setattr(contracts, "response_problems", record)
    with LiveServer(Engine(seed=5)) as live:
        report = check(live.base_url)
    monkeypatch.undo()
    assert report.violations == [], report.render()
    return seen


def _response_key(operation: str, status: int) -> str:
    doc = contracts._response_doc(operation)
    assert doc is not None
    code = str(status)
    return next(k for k in (code, f"{code[0]}XX", "default") if k in doc[1])


def test_fast_path_is_installed_and_offline() -> None:
    assert contracts.fast_path_available(), "pip install jsonschema-rs (a dependency)"
    with pytest.raises(Exception, match="refusing to fetch"):
        contracts._fast_validator("https://contracts.invalid/not-there.json")


def test_fast_and_jsonschema_agree_on_responses(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(20261202)
    corpus: list[tuple[str, int, Any]] = []
    for operation, status, payload in recorded_responses(monkeypatch):
        corpus.append((operation, status, payload))
        corpus.extend((operation, status, m) for m in mutations(payload, rng))
    verdicts = {True: 0, False: 0}
    for operation, status, payload in corpus:
        key = _response_key(operation, status)
        uri = contracts._response_doc(operation)[0]  # type: ignore[index]
        fast = contracts._fast_validator(f"{uri}#/responses/{key}").is_valid(payload)
        slow = contracts._response_validator(operation, key).is_valid(payload)
        assert fast == slow, (operation, status, json.dumps(payload)[:500])
        verdicts[slow] += 1
        # and the public function answers exactly as jsonschema alone does
        fast_problems = contracts.response_problems(operation, status, payload)
        contracts.set_fast_path(False)
        try:
            assert contracts.response_problems(operation, status, payload) == fast_problems
        finally:
            contracts.set_fast_path(True)
    assert len({op for op, _, _ in corpus}) >= 15
    assert verdicts[True] >= 40 and verdicts[False] >= 100, verdicts


def test_fast_and_jsonschema_agree_on_requests() -> None:
    rng = random.Random(7)
    pool = Pool(["ac_aaaaaaaaaaaa", "ac_bbbbbbbbbbbb"], ["ca_cccccccccccc"], ["trs_dddddddddddd"])
    operations = [p.stem for p in contracts.contracts_dir().glob("requests/*.json")]
    verdicts = {True: 0, False: 0}
    for operation in operations:
        ref = contracts._request_ref(operation)
        assert ref is not None
        slow_validator = contracts._validator("requests", operation)
        bodies = valid_bodies(operation, pool)
        for body in [*bodies, *(m for b in bodies for m in mutations(b, rng))]:
            fast = contracts._fast_validator(ref).is_valid(body)
            slow = slow_validator.is_valid(body)
            assert fast == slow, (operation, body)
            verdicts[slow] += 1

            def outcome() -> Any:
                try:
                    contracts.validate_request(operation, body)  # noqa: B023
                except contracts.ComposioError as err:
                    return err.envelope("r")
                return None

            with_fast = outcome()
            contracts.set_fast_path(False)
            try:
                assert outcome() == with_fast
            finally:
                contracts.set_fast_path(True)
    assert verdicts[True] >= 15 and verdicts[False] >= 30, verdicts


def test_values_jsonschema_rs_cannot_take_fall_back_to_jsonschema() -> None:
    # dicts with an int key are not JSON: jsonschema_rs refuses them, jsonschema judges them
    good: dict[Any, Any] = {"status": "ok", "projects": 1, 1: "x"}
    bad: dict[Any, Any] = {"status": "ok", 1: "x"}
    assert contracts.response_problems("control.health", 200, good) == []
    assert contracts.response_problems("control.health", 200, bad) == [
        "(body): 'projects' is a required property"]
