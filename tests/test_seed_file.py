"""Seed files (``mockcomposio serve --seed-file``): the schema, JSON and YAML, and applying them."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from mockcomposio import seedfile
from mockcomposio.cli import main
from mockcomposio.engine import Engine
from mockcomposio.tenant import Tenant

from .test_state_file import serve

YAML = """\
version: 1
tenants:
  - api_key: dev-key
    seed: 11
    auth_configs:
      - {ref: gh, toolkit: github, scopes: [repo, "read:org"]}
      - {ref: mail, toolkit: gmail, type: managed}
      - ref: search
        toolkit: serpapi
        status: DISABLED
    connected_accounts:
      - {auth_config: gh, user_id: alice}
      - {auth_config: gh, user_id: bob, status: EXPIRED}
      - {auth_config: mail, user_id: alice, scopes: ["https://mail.google.com/"]}
      - {auth_config: search, user_id: carol, fields: {generic_api_key: sk-test}}
  - api_key: other-key
    connected_accounts:
      - {auth_config: linear, user_id: dave, status: INITIATED}
"""


def test_schema_errors_name_the_path() -> None:
    with pytest.raises(seedfile.SeedError) as info:
        seedfile.validate({"tenants": [{"auth_configs": [{"toolkit": 3}]},
                                       {"api_key": "k", "connected_accounts": [
                                           {"auth_config": "x", "status": "GREAT"}]}],
                           "extra": 1})
    message = str(info.value)
    assert "tenants[0]: 'api_key' is a required property" in message
    assert "tenants[0].auth_configs[0].toolkit: 3 is not of type 'string'" in message
    assert "tenants[1].connected_accounts[0].status: 'GREAT' is not one of" in message
    assert "(top level): Additional properties are not allowed ('extra'" in message


def test_yaml_and_json_seed_files_apply_the_same(tmp_path: Path) -> None:
    yaml_file = tmp_path / "seed.yaml"
    yaml_file.write_text(YAML)
    doc = seedfile.load(yaml_file)
    json_file = tmp_path / "seed.json"
    json_file.write_text(json.dumps(doc))
    assert seedfile.load(json_file) == doc

    results = []
    for _ in range(2):  # the tenant's seed makes ids reproducible
        engine = Engine()
        created = seedfile.apply(engine, doc, "http://127.0.0.1:9")
        results.append(created)
        dev = Tenant(engine, "dev-key", "http://127.0.0.1:9")
        accounts = {(a.user_id, a.toolkit): a for a in dev.accounts()}
        assert {k: a.status for k, a in accounts.items()} == {
            ("alice", "github"): "ACTIVE", ("bob", "github"): "EXPIRED",
            ("alice", "gmail"): "ACTIVE", ("carol", "serpapi"): "ACTIVE"}
        assert accounts[("alice", "github")].requested_scopes == ["repo", "read:org"]
        assert dev.granted_scopes(accounts[("alice", "gmail")].id) == [
            "https://mail.google.com/"]
        search = dev.auth_config(created["dev-key"]["auth_configs"]["search"])
        assert not search.enabled  # disabled after its accounts were made
        other = Tenant(engine, "other-key", "http://127.0.0.1:9")
        assert [(a.user_id, a.status) for a in other.accounts()] == [("dave", "INITIATED")]
    assert results[0]["dev-key"] == results[1]["dev-key"]


def test_bad_seed_files_stop_the_cli_with_the_path(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "seed.json"
    bad.write_text(json.dumps({"tenants": [{"api_key": "k", "connected_accounts": [
        {"auth_config": "nope"}]}]}))
    assert main(["serve", "--port", "0", "--seed-file", str(bad)]) == 2  # before binding
    assert "tenants[0].connected_accounts[0].auth_config: 'nope' is not a ref" in \
        capsys.readouterr().err
    (tmp_path / "broken.yaml").write_text("tenants: [")
    assert main(["serve", "--seed-file", str(tmp_path / "broken.yaml")]) == 2
    assert "does not parse" in capsys.readouterr().err
    assert main(["serve", "--seed-file", str(tmp_path / "missing.json")]) == 2
    assert "cannot read seed file" in capsys.readouterr().err


def test_serve_with_a_seed_file_then_a_state_file(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(YAML)
    state = tmp_path / "state.json"
    with serve(tmp_path, "--seed-file", str(seed), "--state-file", str(state)) as server:
        listed = server.call("GET", "/api/v3.1/connected_accounts?user_ids=alice",
                             key="dev-key")["items"]
        assert sorted(a["toolkit"]["slug"] for a in listed) == ["github", "gmail"]
        assert all(a["status"] == "ACTIVE" for a in listed)
        server.call("DELETE", f"/api/v3.1/connected_accounts/{listed[0]['id']}", key="dev-key")
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(15) == 0
    assert "seeded 2 tenant(s)" in server.stderr.read_text()
    # Restarted with both: the state file wins, the seed file is not applied again.
    with serve(tmp_path, "--seed-file", str(seed), "--state-file", str(state)) as again:
        listed_again: list[Any] = again.call(
            "GET", "/api/v3.1/connected_accounts?user_ids=alice", key="dev-key")["items"]
        assert [a["id"] for a in listed_again] == [listed[1]["id"]]
    assert "not applied" in again.stderr.read_text()
