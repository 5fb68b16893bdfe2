"""``mockcomposio`` command line (argparse)."""

from __future__ import annotations

import argparse
import logging
import sys


def _serve(args: argparse.Namespace) -> int:
    from .engine import Engine
    from .server import serve_forever

    logging.basicConfig(level=getattr(logging, args.log_level.upper()),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)

    def ready(base_url: str) -> None:
        # The first line printed is the base URL, so scripts can read it.
        print(base_url, flush=True)
        print(f"mockcomposio serving the Composio API at {base_url}/api/v3.1 "
              f"(health: {base_url}/_mock/health). Ctrl-C stops it.", file=sys.stderr,
              flush=True)

    try:
        serve_forever(Engine(seed=args.seed), args.host, args.port, ready)
    except OSError as exc:
        print(f"mockcomposio: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockcomposio",
                                     description="An offline fake of Composio's auth API.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the fake server")
    serve.add_argument("--host", default="127.0.0.1",
                       help="interface to bind (default: 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=int, default=8000,
                       help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--seed", type=int, default=None,
                       help="seed ids and fake data for reproducible runs")
    serve.add_argument("--log-level", default="info",
                       choices=["debug", "info", "warning", "error"],
                       help="one line per request at info level")
    serve.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
