"""Every code example of README.md and docs/ runs (issue 20), so the docs cannot drift from
the behaviour again.

- A ```python block that defines ``test_*`` functions is a pytest module run with the plugin
  (strict contract mode). All such blocks run in one pytest process (each block its own
  module); each block is one test here, green when every test function of it passed.
- Any other ```python block runs as a script, against a live server: the docs' address
  ``http://127.0.0.1:8000`` is replaced with that server's.
- A ```bash block after ``<!-- docs-test: live-server -->`` runs under ``bash -euo
  pipefail`` against the live server (same replacement; curl fails on HTTP errors).
- A block after ``<!-- docs-test: seed-file -->`` is a seed file: it is loaded and applied to
  a fresh engine, every account it declares created.
- ``<!-- docs-test: ci-recipe -->`` blocks are run by tests/test_newcomer.py in a fresh venv.

docs/contributing.md describes this for doc writers.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mockcomposio import LiveServer
from mockcomposio.engine import Engine
from mockcomposio.http.policy import Policy

ROOT = Path(__file__).resolve().parents[1]
DOC_URL = "http://127.0.0.1:8000"
MARKER = re.compile(r"<!--\s*docs-test:\s*([\w-]+)\s*-->")


@dataclass(frozen=True)
class Block:
    file: str  # relative to the repo root
    line: int  # of the opening fence
    lang: str
    code: str
    marker: str | None

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def module(self) -> str:
        stem = re.sub(r"[^A-Za-z0-9]+", "_", self.file.removesuffix(".md")).strip("_").lower()
        return f"test_doc_{stem}_{self.line}"

    @property
    def test_names(self) -> list[str]:
        tree = ast.parse(self.code)
        return [n.name for n in tree.body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                and n.name.startswith("test_")]


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks_of(path: Path) -> list[Block]:
    """Fenced blocks of a Markdown file (``` fences at any indentation, dedented)."""
    out: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped.startswith("```") and not stripped.startswith("````"):
            lang = stripped[3:].strip().split(" ")[0].split("{")[0].strip().lower()
            start = i
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()),
                            "")
            found = MARKER.search(previous)
            out.append(Block(str(path.relative_to(ROOT)), start + 1, lang,
                             textwrap.dedent("\n".join(body)) + "\n",
                             found.group(1) if found else None))
        i += 1
    return out


ALL = [b for path in doc_files() for b in blocks_of(path)]
PYTHON = [b for b in ALL if b.lang in ("python", "py")]
PYTEST_BLOCKS = [b for b in PYTHON if b.test_names]
SCRIPT_BLOCKS = [b for b in PYTHON if not b.test_names]
BASH_BLOCKS = [b for b in ALL if b.lang in ("bash", "sh") and b.marker == "live-server"]
SEED_BLOCKS = [b for b in ALL if b.marker == "seed-file"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COMPOSIO_", "PYTEST_", "MOCKCOMPOSIO_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    env["TELEMETRY_DISABLED"] = "true"
    return env


def test_the_docs_have_examples_of_every_kind() -> None:
    assert len(PYTEST_BLOCKS) >= 15 and SCRIPT_BLOCKS and BASH_BLOCKS and SEED_BLOCKS
    files = {b.file for b in PYTEST_BLOCKS}
    assert {"README.md", "docs/getting-started.md", "docs/token-lifecycle.md",
            "docs/property-tests.md"} <= files
    for block in PYTHON:
        compile(block.code, block.id, "exec")  # a syntax error names its page and line


# -- pytest blocks -------------------------------------------------------------------------------

@dataclass
class PytestRun:
    output: str
    outcomes: dict[tuple[str, str], str]  # (module, test name) -> passed|failed|error|skipped


@pytest.fixture(scope="module")
def pytest_run(tmp_path_factory: pytest.TempPathFactory) -> PytestRun:
    work = tmp_path_factory.mktemp("docs-pytest")
    for block in PYTEST_BLOCKS:
        (work / f"{block.module}.py").write_text(
            f"# {block.id}\n" + block.code, encoding="utf-8")
    report = work / "report.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(work),
         "-c", os.devnull, "--mock-composio-strict", "--continue-on-collection-errors",
         f"--junitxml={report}", str(work)],
        cwd=work, env=_env(), capture_output=True, text=True, timeout=900)
    outcomes: dict[tuple[str, str], str] = {}
    if report.exists():
        for case in ET.parse(report).getroot().iter("testcase"):
            module = case.get("classname", "").split(".")[-1]
            name = case.get("name", "").split("[")[0]
            state = "passed"
            for child in case:
                if child.tag in ("failure", "error", "skipped"):
                    state = child.tag
            if outcomes.get((module, name), "passed") == "passed":
                outcomes[(module, name)] = state
    return PytestRun(proc.stdout + proc.stderr, outcomes)


@pytest.mark.sdk
@pytest.mark.parametrize("block", PYTEST_BLOCKS, ids=lambda b: b.id)
def test_docs_pytest_example(block: Block, pytest_run: PytestRun) -> None:
    got = {name: pytest_run.outcomes.get((block.module, name), "not run")
           for name in block.test_names}
    if any(state != "passed" for state in got.values()):
        section = [line for line in pytest_run.output.splitlines()
                   if block.module in line or "Error" in line or "assert" in line]
        pytest.fail(f"{block.id}: {got}\n" + "\n".join(section[:60])
                    + f"\n--- full output ---\n{pytest_run.output[-6000:]}", pytrace=False)


# -- scripts and shell -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    # As `mockcomposio serve --admin-key docs-admin`: the docs show cross-tenant calls with it.
    server = LiveServer(Engine(), strict=True, policy=Policy(admin_key="docs-admin")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.sdk
@pytest.mark.parametrize("block", SCRIPT_BLOCKS, ids=lambda b: b.id)
def test_docs_script_example(block: Block, live: LiveServer, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(block.code.replace(DOC_URL, live.base_url), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"{block.id} failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.parametrize("block", BASH_BLOCKS, ids=lambda b: b.id)
def test_docs_shell_example(block: Block, live: LiveServer, tmp_path: Path) -> None:
    script = tmp_path / "example.sh"
    script.write_text(
        # Every curl of the example must succeed: an HTTP error fails the block.
        'curl() { command curl -sS --fail-with-body "$@"; echo; }\n'
        + block.code.replace(DOC_URL, live.base_url), encoding="utf-8")
    proc = subprocess.run(["bash", "-euo", "pipefail", str(script)], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{block.id} failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.parametrize("block", SEED_BLOCKS, ids=lambda b: b.id)
def test_docs_seed_file_example(block: Block, tmp_path: Path) -> None:
    from mockcomposio import seedfile

    path = tmp_path / f"seed.{block.lang}"
    path.write_text(block.code, encoding="utf-8")
    doc = seedfile.load(path)
    engine = Engine()
    seedfile.check(engine, doc)
    created = seedfile.apply(engine, doc, "http://127.0.0.1:8000")
    for tenant in doc["tenants"]:
        project = engine.project(tenant["api_key"])
        assert len(project.accounts) == len(tenant.get("connected_accounts", [])), created
