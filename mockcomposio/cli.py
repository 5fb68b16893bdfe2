"""``mockcomposio`` command line (argparse)."""

from __future__ import annotations

import argparse
import logging
import sys

from . import __version__


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _serve(args: argparse.Namespace) -> int:
    import gc
    import os

    # Start-up allocates hundreds of thousands of objects (modules, classes, the route table)
    # and makes no garbage worth collecting: with aiohttp loaded, the collections it triggers
    # cost more than all our imports (bench/startup.py). Collection resumes once serving.
    was_enabled, was_frozen = gc.isenabled(), gc.get_freeze_count() > 0
    gc.disable()
    held: list[int] = []  # the state file's lock, held until the server has stopped
    try:
        return _serve_locked(args, held)
    finally:
        # stopped (or refused to start): leave the collector as we found it, which matters
        # when main() runs inside another program (our tests)
        if not was_frozen:
            gc.unfreeze()
        if was_enabled:
            gc.enable()
        else:  # ready() turned it on for serving
            gc.disable()
        for fd in held:
            os.close(fd)


def _serve_locked(args: argparse.Namespace, held: list[int]) -> int:
    import gc
    import os
    from pathlib import Path

    from .engine import Engine
    from .http.app import create_app  # noqa: F401  (imported now: frozen below)
    from .http.policy import Policy, normalise_hosts
    from .http.routes import ROUTES  # noqa: F401
    from .server import serve_forever

    # What is imported lives as long as the process: moved out of the collector's sight, so
    # no later collection scans it again.
    gc.freeze()

    level = args.log_level or ("info" if args.log_requests else "warning")
    logging.basicConfig(level=getattr(logging, level.upper()),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    if args.max_tenants < 0:
        print("mockcomposio: --max-tenants must be 0 (no cap) or more", file=sys.stderr)
        return 2
    admin_key = args.admin_key or os.environ.get("MOCKCOMPOSIO_ADMIN_KEY") or None
    policy = Policy(all_tenants=args.all_tenants, admin_key=admin_key,
                    allowed_hosts=normalise_hosts(args.allowed_host))
    engine = Engine(seed=args.seed, max_tenants=args.max_tenants)
    if args.catalogue:
        from .domain.catalogue import CatalogueError, load_definitions_file

        try:  # every file checked before any is used: nothing half-loaded
            toolkits = [t for name in args.catalogue for t in load_definitions_file(Path(name))]
        except CatalogueError as exc:
            print(f"mockcomposio: {exc}", file=sys.stderr, flush=True)
            return 2
        engine.extend_catalogue(toolkits, replace=args.catalogue_replace)
        print(f"mockcomposio: {len(toolkits)} toolkit(s) from {', '.join(args.catalogue)} "
              f"{'replace' if args.catalogue_replace else 'extend'} the catalogue "
              f"({len(engine.catalogue)} toolkits)", file=sys.stderr, flush=True)
    elif args.catalogue_replace:
        print("mockcomposio: --catalogue-replace needs --catalogue FILE", file=sys.stderr)
        return 2
    engine.webhook_allow_any_host = args.webhook_allow_any_host
    state_file = Path(args.state_file) if args.state_file else None
    restored = False
    seed_doc = None
    seed_errors: tuple[type[Exception], ...] = ()
    if state_file is not None or args.seed_file:
        from . import seedfile, snapshot  # only then: a plain `serve` starts leaner

        seed_errors = (seedfile.SeedError,)

        try:
            if state_file is not None:
                held.append(snapshot.lock_state_file(state_file))
                for orphan in snapshot.remove_orphans(state_file):
                    print(f"mockcomposio: removed {orphan}, left by a server that was killed "
                          "while saving", file=sys.stderr, flush=True)
            seed_doc = seedfile.load(Path(args.seed_file)) if args.seed_file else None
            if seed_doc is not None and seed_doc.get("toolkits"):
                # the seed file's shared toolkits are configuration: they apply even when the
                # state file is restored (tenants' auth configs may use them)
                engine.extend_catalogue(seedfile.shared_toolkits(seed_doc))
            if state_file is not None and state_file.exists():
                projects = snapshot.import_snapshot(engine, snapshot.read_file(state_file))
                restored = True
                print(f"mockcomposio: restored {len(projects)} tenant(s) from {state_file}",
                      file=sys.stderr, flush=True)
            if seed_doc is not None and not restored:
                seedfile.check(engine, seed_doc)
        except (snapshot.SnapshotError, seedfile.SeedError) as exc:
            print(f"mockcomposio: {exc}", file=sys.stderr, flush=True)
            return 2
    if seed_doc is not None and restored:
        print(f"mockcomposio: {args.seed_file} not applied: the state file already holds the "
              "server's state (the seed file only initialises a new one; its toolkits apply)",
              file=sys.stderr)
        seed_doc = None
    if not _is_loopback(args.host):
        print(f"mockcomposio: WARNING: listening on {args.host}, reachable from other machines. "
              "The fake accepts any API key and has no real security; bind 127.0.0.1 unless "
              "you need this (e.g. inside a container). Requests must name it by IP address, "
              "localhost, or a name given with --allowed-host.", file=sys.stderr, flush=True)

    def prepare(base_url: str) -> None:
        if seed_doc is not None:
            # All-or-nothing: serve_forever saves nothing if this raises, and we exit 2.
            created = seedfile.apply(engine, seed_doc, base_url)
            print(f"mockcomposio: seeded {len(created)} tenant(s) from {args.seed_file}",
                  file=sys.stderr, flush=True)

    def ready(base_url: str) -> None:
        gc.enable()
        # The first line printed is the base URL, so scripts can read it.
        print(base_url, flush=True)
        print(f"mockcomposio {__version__} serving the Composio API at {base_url}/api/v3.1 "
              f"(inspector: {base_url}/_mock/, health: {base_url}/_mock/health). "
              "Ctrl-C stops it.", file=sys.stderr, flush=True)

    try:
        serve_forever(engine, args.host, args.port, ready, state_file=state_file,
                      prepare=prepare, strict=args.strict, policy=policy,
                      response_cache=not args.no_response_cache)
    except OSError as exc:
        print(f"mockcomposio: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    except seed_errors as exc:
        print(f"mockcomposio: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0


def _contracts_check(args: argparse.Namespace) -> int:
    from .contracts.check import check

    report = check(args.base_url, args.api_key, toolkit=args.toolkit,
                   api_key_toolkit=args.api_key_toolkit)
    print(report.render())
    return 1 if report.violations else 0


def _contracts_diff(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .contracts.diff import diff_file

    try:
        report = diff_file(Path(args.spec) if args.spec else None)
    except (OSError, ValueError) as exc:
        print(f"mockcomposio: cannot diff against {args.spec}: {exc}", file=sys.stderr)
        return 2
    print(report.coverage_markdown() if args.coverage_only
          else report.render(markdown=args.format == "markdown"))
    if args.fail_on_drift and report.drift:
        print(f"mockcomposio: {len(report.drift)} operation(s) drifted from the spec the fake "
              "was built from (see DRIFT above)", file=sys.stderr)
        return 1
    return 0


DEFAULT_MAX_TENANTS = 10_000  # the Engine's default (not imported: keeps --help fast)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockcomposio",
                                     description="An offline fake of Composio's auth API.")
    parser.add_argument("--version", action="version", version=f"mockcomposio {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the fake server")
    serve.add_argument("--host", default="127.0.0.1",
                       help="interface to bind (default: 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=int, default=8000,
                       help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--seed", type=int, default=None,
                       help="seed ids and fake data for reproducible runs")
    serve.add_argument("--log-level", default=None,
                       choices=["debug", "info", "warning", "error"],
                       help="default warning; info logs one line per request")
    serve.add_argument("--log-requests", action="store_true",
                       help="log one line per request (the same as --log-level info); off by "
                       "default: a log line per request costs a busy server more than the "
                       "request itself")
    serve.add_argument("--state-file", metavar="PATH", default=None,
                       help="load state from PATH at start (if it exists) and save it there "
                       "atomically after changes (off the event loop; a change is on disk "
                       "within 200 ms plus one save's duration, see docs/guarantees.md) and "
                       "at shutdown. One server per file (locked)")
    serve.add_argument("--strict", action="store_true",
                       help="validate every response against contracts/ and answer a 500 "
                       "Mock_ContractViolation instead of a response that breaks it (for CI "
                       "of the fake itself, or to be sure what you test against is faithful)")
    serve.add_argument("--no-response-cache", action="store_true",
                       help="render every read afresh: by default a repeated GET of an auth "
                       "config, toolkit or connected account (or their lists) of an unchanged "
                       "tenant is answered with the bytes sent last time (any change, expiry "
                       "or fault makes it render again; see docs/performance.md)")
    serve.add_argument("--seed-file", metavar="PATH", default=None,
                       help="tenants, auth configs and accounts to start with (JSON or YAML; "
                       "schema: contracts/mock/seed-file.schema.json); ignored when "
                       "--state-file already exists")
    serve.add_argument("--catalogue", metavar="FILE", action="append", default=[],
                       help="your own toolkits (JSON or YAML: a list of definitions, or "
                       "{\"toolkits\": [...]}; schema: contracts/mock/toolkit.schema.json), "
                       "added to the built-in catalogue (a built-in slug is replaced); "
                       "repeatable. A bad definition stops the server (exit 2) naming the field")
    serve.add_argument("--catalogue-replace", action="store_true",
                       help="serve only the --catalogue toolkits, not the built-in ones")
    serve.add_argument("--webhook-allow-any-host", action="store_true",
                       help="let webhook subscriptions target any host, not only loopback and "
                       "localhost (Composio's own hosts stay refused); same as "
                       "MOCKCOMPOSIO_WEBHOOK_ALLOW_ANY_HOST=1")
    serve.add_argument("--allowed-host", metavar="NAME", action="append", default=[],
                       help="also answer requests whose Host is NAME (repeatable; '.example.com' "
                       "allows its subdomains, '*' any host). IP addresses, localhost and "
                       "*.localhost are always allowed; other names get a 403 (DNS rebinding)")
    serve.add_argument("--all-tenants", action="store_true",
                       help="let any caller act on every tenant: GET /_mock/state?all=true, "
                       "POST /_mock/reset {\"all\": true}, multi-tenant imports, and the "
                       "inspector listing every tenant. Off by default: each API key sees only "
                       "its own tenant (use on a server only you use)")
    serve.add_argument("--admin-key", metavar="SECRET", default=None,
                       help="requests with header x-mock-admin-key: SECRET may act on every "
                       "tenant (as --all-tenants, for them only); also read from "
                       "$MOCKCOMPOSIO_ADMIN_KEY")
    serve.add_argument("--max-tenants", type=int, default=DEFAULT_MAX_TENANTS, metavar="N",
                       help=f"live tenants kept (default {DEFAULT_MAX_TENANTS}); creating one "
                       "more forgets the least recently used idle ones (down to 90%%). "
                       "0: no cap")
    serve.set_defaults(func=_serve)

    contracts = sub.add_parser("contracts", help="check servers and specs against contracts/")
    csub = contracts.add_subparsers(dest="contracts_command", required=True)
    chk = csub.add_parser("check", help="run a scripted scenario against a server and report "
                          "responses that break the schemas (exit 1 on violations)")
    chk.add_argument("--base-url", required=True,
                     help="server root, e.g. http://127.0.0.1:8000 (no /api suffix)")
    chk.add_argument("--api-key", default="contracts-check",
                     help="x-api-key to send (default: contracts-check)")
    chk.add_argument("--toolkit", default="github",
                     help="toolkit with Composio-managed auth to use (default: github)")
    chk.add_argument("--api-key-toolkit", default="serpapi",
                     help="toolkit with an API_KEY scheme for a custom auth config "
                     "(default: serpapi)")
    chk.set_defaults(func=_contracts_check)
    dif = csub.add_parser("diff", help="operations and fields that differ between our "
                          "contracts and an OpenAPI file, plus a coverage table")
    dif.add_argument("spec", nargs="?", default=None,
                     help="Composio's OpenAPI 3 JSON file (default: the auth subset of the "
                     "spec the contracts were built from, shipped in the package)")
    dif.add_argument("--format", choices=["text", "markdown"], default="text")
    dif.add_argument("--coverage-only", action="store_true",
                     help="print only the Markdown coverage table")
    dif.add_argument("--fail-on-drift", "--fail-on-diff", dest="fail_on_drift",
                     action="store_true",
                     help="exit 1 when the spec differs in a way the shipped spec did not "
                     "(known differences and mockcomposio's own routes never count); "
                     "invalid input exits 2")
    dif.set_defaults(func=_contracts_diff)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
