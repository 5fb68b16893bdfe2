"""The newcomer's path, scripted (issue 20): build the wheel, install it in a fresh virtual
environment with the official SDK and pytest, copy the getting-started test verbatim from
docs/getting-started.md, run it green; then run the contracts CI recipe from docs/contracts.md
in that venv. Slow (a venv and package installs from the registry)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .test_docs_examples import blocks_of

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "spec" / "openapi-v3.json"
SPEC_URL = "https://backend.composio.dev/api/v3/openapi.json"

pytestmark = [pytest.mark.slow, pytest.mark.sdk]


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None,
         timeout: int = 900) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def test_fresh_venv_wheel_and_the_getting_started_test(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist),
          str(ROOT)], cwd=tmp_path)
    [wheel] = dist.glob("mockcomposio-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("mockcomposio/py.typed", "mockcomposio/_data/fixtures/toolkits.json",
                    "mockcomposio/_data/fixtures/spec/openapi-auth-subset.json",
                    "mockcomposio/_data/contracts/responses/auth_configs.get.json"):
        assert shipped in names, shipped

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          str(wheel), "composio==0.29.0", "pytest"], cwd=tmp_path, timeout=1500)

    # The first test of the getting-started page, verbatim.
    [first] = [b for b in blocks_of(ROOT / "docs" / "getting-started.md")
               if b.lang == "python"][:1]
    project = tmp_path / "myapp"
    project.mkdir()
    (project / "test_connect.py").write_text(first.code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COMPOSIO_", "PYTEST_", "PYTHON"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    proc = _run([str(python), "-m", "pytest", "test_connect.py", "-p", "no:cacheprovider"],
                cwd=project, env=env, timeout=600)
    assert "1 passed" in proc.stdout
    # It ran against the wheel, not this checkout.
    where = _run([str(python), "-c", "import mockcomposio; print(mockcomposio.__file__)"],
                 cwd=project, env=env).stdout
    assert str(venv) in where

    # The three-line CI recipe of docs/contracts.md: its pip line installs the same wheel, its
    # curl line fetches the shared copy of the spec (offline) instead of Composio's.
    [recipe] = [b for b in blocks_of(ROOT / "docs" / "contracts.md") if b.marker == "ci-recipe"]
    lines = recipe.code.strip().splitlines()
    assert len(lines) == 3 and lines[0] == "pip install mockcomposio" and SPEC_URL in lines[1]
    script = "\n".join([f"pip install --quiet --disable-pip-version-check {wheel}",
                        lines[1].replace(SPEC_URL, SPEC.resolve().as_uri()), lines[2]])
    proc = _run(["bash", "-euo", "pipefail", "-c", script], cwd=project, env=env)
    assert "Drift since the shipped spec: 0 operation(s)" in proc.stdout
