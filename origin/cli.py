"""The ``media-origin`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from origin import __version__
from origin.config import Config, ConfigError
from origin.errors import CommandError

SERVERS = ("granian", "uvicorn")  # origin.servers runs them; imported only to serve
DEFAULT_SERVER = "granian"  # chosen by bench/run.py: see README "Performance"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="media-origin",
        description="A link host for WhatsApp media messages sent by link.",
    )
    parser.add_argument("--version", action="version", version=f"media-origin {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve the storage over HTTP")
    _config_option(serve)
    serve.add_argument("--host", metavar="H", help="address to bind (default: [server] host)")
    serve.add_argument(
        "--port", metavar="P", type=_port, help="TCP port to bind (default: [server] port)"
    )
    serve.add_argument(
        "--workers", metavar="N", type=_workers, default=1, help="worker processes (default: 1)"
    )
    serve.add_argument(
        "--server",
        choices=SERVERS,
        default=DEFAULT_SERVER,
        help=f"the HTTP server to run under (default: {DEFAULT_SERVER})",
    )
    check = commands.add_parser(
        "check",
        help="check stored files against WhatsApp's media rules (exit 1 if any is rejected)",
    )
    _config_option(check)
    check.add_argument("--json", action="store_true", help="print a JSON list of reports")
    check.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders, on disk or as stored paths (default: the whole storage)",
    )
    explain = commands.add_parser(
        "explain", help="show a link's headers and how Meta will fetch and cache it"
    )
    _config_option(explain)
    explain.add_argument("--json", action="store_true", help="print the explanation as JSON")
    explain.add_argument(
        "target", metavar="TARGET", help="a stored path (/campaigns/promo.jpg) or an http(s):// URL"
    )
    upload = commands.add_parser("upload", help="upload files or folders through the API")
    _config_option(upload)
    upload.add_argument("sources", nargs="+", metavar="FILE_OR_FOLDER")
    upload.add_argument(
        "--to", required=True, metavar="FOLDER", help="stored folder, e.g. /campaigns"
    )
    upload.add_argument(
        "--server", metavar="URL", help="the origin's URL (default: http://[server] host:port)"
    )
    upload.add_argument("--force", action="store_true", help="store files the rules refuse")
    sign = commands.add_parser("sign", help="print a signed, expiring link to a stored path")
    _config_option(sign)
    sign.add_argument("path", metavar="PATH")
    sign.add_argument(
        "--ttl", default="1h", type=_duration, help="how long the link works (default: 1h)"
    )
    return parser


def _workers(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of workers (1 to 64)")
    return int(value)


def _duration(value: str) -> int:
    from origin.signing import parse_duration

    try:
        return parse_duration(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $MEDIA_ORIGIN_CONFIG, else ./config.toml, "
        "else the built-in default serving ./media)",
    )


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (1 to 65535)")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve" and args.workers > 1:
        _multiprocess_metrics()  # before prometheus-client is imported, here or in a fork
    config = _config(args)
    if config is None:
        return 2
    try:
        return COMMANDS[args.command](config, args)
    except CommandError as error:
        print(f"media-origin {args.command}: {error}", file=sys.stderr)
        return 2


def _multiprocess_metrics() -> None:
    """Workers write their metrics to files in a fresh folder; /metrics adds them up."""
    import os
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="media-origin-metrics-")


def _config(args: argparse.Namespace) -> Config | None:
    """The checked config, or None after printing the one-line error."""
    from origin.app import resolve_config

    try:
        return resolve_config(args.config)
    except ConfigError as error:
        print(f"media-origin: {error}", file=sys.stderr)
        return None


def check(config: Config, args: argparse.Namespace) -> int:
    from origin.check import run_check

    return run_check(config, args.paths, args.json, sys.stdout)


def explain(config: Config, args: argparse.Namespace) -> int:
    from origin.explain import run_explain

    return run_explain(config, args.target, args.json, sys.stdout)


def upload(config: Config, args: argparse.Namespace) -> int:
    from origin.client import run_upload

    return run_upload(config, args.sources, args.to, args.server, args.force, sys.stdout)


def sign(config: Config, args: argparse.Namespace) -> int:
    from origin.client import run_sign

    return run_sign(config, args.path, args.ttl, sys.stdout)


def serve(config: Config, args: argparse.Namespace) -> int:
    from origin.servers import RUNNERS

    host = args.host or config.server.host
    port = args.port or config.server.port
    print(
        f"media-origin: serving {config.storage.describe()} on http://{host}:{port} "
        f"under {args.server}, {args.workers} worker(s) (config: {config.source})",
        file=sys.stderr,
        flush=True,
    )
    RUNNERS[args.server](config, host, port, args.workers)
    return 0


COMMANDS = {"serve": serve, "check": check, "explain": explain, "upload": upload, "sign": sign}
