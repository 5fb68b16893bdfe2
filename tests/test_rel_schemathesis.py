"""schemathesis against a strict server with the official spec (issue 19): every operation of
``../shared/spec/openapi-v3.json`` that mockcomposio serves (the coverage table of
``mockcomposio contracts diff``), all four phases (examples, coverage, fuzzing, stateful),
positive and negative data, a fixed seed. Rule: 0 server errors — and on a strict server that
includes every response breaking its contract, which is answered 500.

schemathesis lives in its own venv (its pins clash with ours):
``python -m venv .venv-st && .venv-st/bin/pip install schemathesis`` (``.ci/run`` does it).
Bounded: ``MAX_EXAMPLES`` per operation and a subprocess timeout; marked slow (CI runs it).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from mockcomposio.contract_diff import diff_file
from mockcomposio.engine import Engine
from mockcomposio.server import LiveServer

from .conftest import require_file

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "spec" / "openapi-v3.json"
SCHEMATHESIS = ROOT / ".venv-st" / "bin" / "schemathesis"
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))
TIMEOUT_SECONDS = 1500


def served_operation_ids(spec: Path) -> list[str]:
    return sorted(row.operation_id for row in diff_file(spec).coverage if row.served_as)


@pytest.mark.slow
@pytest.mark.timeout(TIMEOUT_SECONDS + 120)
def test_schemathesis_finds_no_server_error_on_a_strict_server(tmp_path: Path) -> None:
    require_file(SPEC, "the shared spec belongs at ../shared/spec/openapi-v3.json")
    require_file(SCHEMATHESIS, "python -m venv .venv-st && .venv-st/bin/pip install "
                 "schemathesis")
    operations = served_operation_ids(SPEC)
    assert len(operations) >= 20, operations
    args = [str(SCHEMATHESIS), "run", str(SPEC), "--checks", "not_a_server_error",
            "-n", str(MAX_EXAMPLES), "--seed", "19", "--workers", "1", "--no-color",
            "--generation-database", "none", "-H", "x-api-key: schemathesis",
            "--request-timeout", "30", "--report", "junit",
            "--report-junit-path", str(tmp_path / "junit.xml")]
    for operation in operations:
        args += ["--include-operation-id", operation]
    with LiveServer(Engine(seed=19), strict=True) as server:
        proc = subprocess.run([*args, "--url", server.base_url], capture_output=True,
                              text=True, timeout=TIMEOUT_SECONDS, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    summary = out[out.rfind("SUMMARY"):] if "SUMMARY" in out else out[-3000:]
    print(f"\nschemathesis on {len(operations)} served operations:\n{summary}")
    tested = re.search(r"Tested: (\d+)", out)
    cases = re.search(r"(\d+) generated", out)
    assert tested and int(tested.group(1)) == len(operations), summary
    assert cases and int(cases.group(1)) >= 20 * len(operations), summary
    assert "Server error" not in out, out[-6000:]
    assert proc.returncode == 0, out[-6000:]
