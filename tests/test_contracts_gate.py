"""`mockcomposio contracts diff` as a CI gate (issue 20): the spec subset ships with the
package, the fake's own routes never count, drift is what is new, bad input is rc 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockcomposio.cli import main
from mockcomposio.contracts.diff import diff_file, shipped_subset_path, spec_subset

SPEC = Path(__file__).resolve().parents[1] / ".." / "shared" / "spec" / "openapi-v3.json"


def _subset() -> dict[str, Any]:
    return dict(json.loads(shipped_subset_path().read_text(encoding="utf-8")))


def test_shipped_subset_is_the_auth_part_of_the_spec_the_contracts_came_from() -> None:
    full = json.loads(SPEC.read_text(encoding="utf-8"))
    assert _subset() == json.loads(json.dumps(spec_subset(full)))
    assert all(path.startswith("/api/v3/") for path in _subset()["paths"])


def test_no_drift_against_the_shipped_subset_or_the_full_spec(
        capsys: pytest.CaptureFixture[str]) -> None:
    for spec in (None, SPEC):
        report = diff_file(spec)
        assert report.drift == {}
        assert report.known == len(report.differing) > 0
    assert main(["contracts", "diff", "--fail-on-drift"]) == 0
    assert main(["contracts", "diff", str(SPEC), "--fail-on-diff"]) == 0
    out = capsys.readouterr().out
    assert "Drift since the shipped spec: 0 operation(s)" in out


def test_own_routes_are_reported_apart_and_never_differ() -> None:
    report = diff_file()
    own = {o.operation for o in report.own}
    assert {"control.clock.update", "inspector.data", "v1.integrations.create"} <= own
    assert not own & {o.operation for o in report.differing}
    text = report.render()
    assert "mockcomposio's own routes" in text and "control.reset" in text
    known = text.split("Known differences:")[1].split("mockcomposio's own routes")[0]
    assert "/_mock" not in known and "/api/v1/" not in known


def _write(tmp_path: Path, doc: Any, name: str = "spec.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_new_fields_and_operations_are_drift(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    spec = _subset()
    op = spec["paths"]["/api/v3/connected_accounts/link"]["post"]
    schema = op["responses"]["201"]["content"]["application/json"]["schema"]
    schema["properties"]["brand_new_field"] = {"type": "string"}
    spec["paths"]["/api/v3/connected_accounts/{nanoid}/transfer"] = {"post": {
        "operationId": "postConnectedAccountsTransfer", "tags": ["Connected Accounts"],
        "responses": {"200": {"description": "ok"}}}}
    drifted = _write(tmp_path, spec)
    report = diff_file(drifted)
    assert report.drift is not None
    heads = list(report.drift)
    assert any(h.startswith("connected_accounts.link (") for h in heads)
    assert report.drift[next(h for h in heads if h.startswith("connected_accounts.link ("))] == [
        "response only in the spec: brand_new_field"]
    assert any("postConnectedAccountsTransfer" in h for h in heads)
    assert main(["contracts", "diff", str(drifted), "--fail-on-drift"]) == 1
    captured = capsys.readouterr()
    assert "DRIFT connected_accounts.link" in captured.out
    assert "drifted from the spec" in captured.err
    assert main(["contracts", "diff", str(drifted)]) == 0  # report only, without the flag


@pytest.mark.parametrize("content", [
    "not json at all", "[1, 2]", '{"swagger": "2.0", "paths": {"/a": {}}}',
    '{"openapi": "3.0.0", "paths": {}}', '{"components": {}}'])
def test_invalid_input_is_rc_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               content: str) -> None:
    assert main(["contracts", "diff", str(_write(tmp_path, content)), "--fail-on-drift"]) == 2
    assert "cannot diff against" in capsys.readouterr().err


def test_missing_file_is_rc_2(tmp_path: Path) -> None:
    assert main(["contracts", "diff", str(tmp_path / "nope.json")]) == 2
