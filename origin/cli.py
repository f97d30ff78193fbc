"""The ``media-origin`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from origin import __version__
from origin.config import ConfigError
from origin.servers import RUNNERS

DEFAULT_SERVER = "granian"  # chosen by bench/run.py: see README "Performance"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="media-origin",
        description="A link host for WhatsApp media messages sent by link.",
    )
    parser.add_argument("--version", action="version", version=f"media-origin {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve the storage over HTTP")
    serve.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $MEDIA_ORIGIN_CONFIG, else ./config.toml, "
        "else the built-in default serving ./media)",
    )
    serve.add_argument("--host", metavar="H", help="address to bind (default: [server] host)")
    serve.add_argument(
        "--port", metavar="P", type=_port, help="TCP port to bind (default: [server] port)"
    )
    serve.add_argument(
        "--server",
        choices=sorted(RUNNERS),
        default=DEFAULT_SERVER,
        help=f"the HTTP server to run under (default: {DEFAULT_SERVER})",
    )
    return parser


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
    if args.command == "serve":
        return serve(args)
    return 2


def serve(args: argparse.Namespace) -> int:
    from origin.app import resolve_config

    try:
        config = resolve_config(args.config)
    except ConfigError as error:
        print(f"media-origin: {error}", file=sys.stderr)
        return 2
    host = args.host or config.server.host
    port = args.port or config.server.port
    print(
        f"media-origin: serving {config.storage.root} on http://{host}:{port} "
        f"under {args.server} (config: {config.source})",
        file=sys.stderr,
        flush=True,
    )
    RUNNERS[args.server](config, host, port)
    return 0
