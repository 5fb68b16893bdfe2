"""Why a target is missed: ``python -m bench.profile [--seconds S] [--top N]``.

* The server under load: mockcomposio's app in its own process under cProfile while the
  aiohttp client drives one GET at concurrency 50; the functions with the most own time.
* The server's start-up: ``python -X importtime -m mockcomposio serve --port 0`` until its
  first line; the slowest imports (cumulative, top level of each package).
"""

from __future__ import annotations

import argparse
import io
import json
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import run_load
from bench.servers import API_KEY

ROOT = Path(__file__).resolve().parents[1]


def serving(seconds: float, top: int) -> str:
    out = []
    for name in ("ac", "list"):
        prof = Path(tempfile.mkdtemp(prefix="mockcomposio-prof-")) / "mock.prof"
        proc = subprocess.Popen([sys.executable, "-m", "bench.servers", "mock", "--profile",
                                 str(prof)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        base = info["base_url"]
        url = {"ac": f"{base}/api/v3.1/auth_configs/{info['auth_config_id']}",
               "list": f"{base}/api/v3.1/connected_accounts?user_ids={info['user_id']}"}[name]
        result = run_load(url, {"x-api-key": API_KEY}, 50, seconds)
        proc.terminate()
        proc.wait(30)
        text = io.StringIO()
        stats = pstats.Stats(str(prof), stream=text)
        stats.strip_dirs().sort_stats("tottime").print_stats(top)
        body = text.getvalue()
        body = body[body.index("   ncalls"):] if "   ncalls" in body else body
        gc_stats = json.loads(Path(str(prof) + ".gc.json").read_text())
        gc_line = ", ".join(f"gen {g}: {int(n)} in {secs * 1000:.0f} ms"
                            for g, (n, secs) in gc_stats.items())
        out.append(f"### GET {url.split(base)[1]} at concurrency 50 ({result.requests} "
                   f"requests in {result.seconds:.1f} s, under cProfile)\n\n"
                   f"```\n{body.rstrip()}\n```\n\nGarbage collections (not in cProfile): "
                   f"{gc_line}.\n")
    return "\n".join(out)


def startup(top: int) -> str:
    proc = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "mockcomposio", "serve",
                             "--port", "0", "--log-level", "warning"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # ready: every import of the start-up is done
    proc.terminate()
    _, err = proc.communicate(timeout=30)
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        try:
            micros = int(cumulative)
        except ValueError:
            continue
        depth = len(name) - len(name.lstrip())
        if depth <= 3:  # top-level imports and their direct children
            rows.append((micros, name.rstrip()))
    rows.sort(reverse=True)
    table = "\n".join(f"{m / 1000:8.1f} ms  {n}" for m, n in rows[:top])
    return ("### `mockcomposio serve` start-up: slowest imports (cumulative)\n\n"
            f"```\n{table}\n```\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    print(serving(args.seconds, args.top))
    print(startup(args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
