"""The ``media-origin`` command."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from origin.cli.completion import completion_script
from origin.cli.errors import CommandError
from origin.cli.parser import build_parser
from origin.config import (
    CONFIG_ENV,
    SIGNING_KEY_ENV,
    TOKEN_ENV,
    ApiConfig,
    Config,
    ConfigError,
    ServerConfig,
    StorageConfig,
    resolve_config,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = QuietPipe(sys.stdout)
    if args.command == "completion":
        out.write(completion_script(parser, args.shell))
        return 0
    if args.command == "serve" and args.workers > 1:
        _multiprocess_metrics()  # before prometheus-client is imported, here or in a fork
    try:
        config = _config(args)
        if config is None:
            return 2
        return COMMANDS[args.command](config, args, out)
    except CommandError as error:
        print(f"media-origin {_named(args)}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C is the operator's own choice: no traceback, the shell's usual 130.
        print(f"media-origin {args.command}: interrupted", file=sys.stderr)
        return 130


def _named(args: argparse.Namespace) -> str:
    """``whatsapp renew``: the command as typed, for its error lines."""
    action = getattr(args, "action", None)
    return f"{args.command} {action}" if action else args.command


class QuietPipe:
    """stdout that a closed pipe (``media-origin upload … | head``) silences instead
    of ending the command with a BrokenPipeError traceback: the command carries on
    (an upload under way is finished, not abandoned half-way) and exits with its
    usual status; only the printing stops. Each write is flushed, so a reader sees
    each uploaded link as it is stored."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.closed_by_reader = False

    def write(self, text: str) -> int:
        if self.closed_by_reader:
            return len(text)
        try:
            self.stream.write(text)
            self.stream.flush()
        except BrokenPipeError:
            self._silence()
        return len(text)

    def flush(self) -> None:
        if not self.closed_by_reader:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._silence()

    def _silence(self) -> None:
        """From now on stdout is /dev/null: what is left in the buffer goes nowhere,
        and the interpreter's last flush at exit finds nothing to complain about."""
        self.closed_by_reader = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self.stream.fileno())
        os.close(devnull)

    def isatty(self) -> bool:
        return self.stream.isatty()


def _multiprocess_metrics() -> None:
    """Workers write their metrics to files in a fresh folder; /metrics adds them up.
    The folder is removed when the server exits (by the process that made it: a
    forked worker inherits the exit handler too)."""
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="media-origin-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)


def needs_storage(args: argparse.Namespace) -> bool:
    """Whether the command reads the storage, so needs a config with a storage root.
    ``upload`` and ``sign`` talk to (or sign for) a server, and ``explain URL`` only
    fetches a URL: run from any folder, they must not stop at a missing ./media."""
    if args.command in ("upload", "sign"):
        return False
    if args.command == "explain":
        return not args.target.lower().startswith(("http://", "https://"))
    if args.command == "check":  # files on disk alone are checked as they are
        return not args.paths or not all(Path(path).exists() for path in args.paths)
    return True


def _config(args: argparse.Namespace) -> Config | None:
    """The checked config, or None after printing the one-line error."""
    given = args.config or os.environ.get(CONFIG_ENV) or (Path.cwd() / "config.toml").exists()
    try:
        if not needs_storage(args) and not given:
            return client_config()
        return resolve_config(args.config)
    except ConfigError as error:
        print(f"media-origin {args.command}: {error}", file=sys.stderr)
        return None


def client_config() -> Config:
    """What a command that needs no storage runs on when no config is found: the
    built-in default's server address and the usual secret names, and no storage."""
    key = os.environ.get(SIGNING_KEY_ENV)
    return Config(
        source="built-in client default (no config file found)",
        path=None,
        server=ServerConfig(),
        storage=StorageConfig(root=None),
        policies=_default_policies(),
        api=ApiConfig(
            token_env=TOKEN_ENV,
            token=os.environ.get(TOKEN_ENV) or None,
            signing_key=key.encode() if key else None,
        ),
    )


def _default_policies():
    from origin.policy import PolicyTable

    return PolicyTable()


def warn_if_private(base_url: str) -> None:
    """One stderr line when links would name an address Meta cannot reach: links to
    a loopback or private address work in a local browser and fail on WhatsApp."""
    host = urlsplit(base_url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
        where = (
            "a loopback"
            if address.is_loopback
            else "a private"
            if address.is_private or address.is_link_local
            else None
        )
    except ValueError:
        where = "a loopback" if host == "localhost" or host.endswith(".localhost") else None
    if where is None:
        return
    print(
        f"media-origin: warning: base_url {base_url} is {where} address, which Meta "
        "cannot fetch; set [server] base_url in the config to the public https:// "
        "address of this server (a CDN, a reverse proxy or a tunnel)",
        file=sys.stderr,
        flush=True,
    )


def check(config: Config, args: argparse.Namespace, out: QuietPipe) -> int:
    from origin.cli.check import run_check

    return run_check(config, args.paths, args.json, out)


def convert(config: Config, args: argparse.Namespace, out: QuietPipe) -> int:
    from origin.cli.convert import run_convert

    return run_convert(config, args.paths, args.target, args.dry_run, args.replace, args.json, out)


def explain(config: Config, args: argparse.Namespace, out: QuietPipe) -> int:
    from origin.cli.explain import run_explain

    return run_explain(config, args.target, args.json, out)


def upload(config: Config, args: argparse.Namespace, out: QuietPipe) -> int:
    from origin.cli.client import run_upload

    url = args.url
    if args.deprecated_server is not None:
        if url is not None and url != args.deprecated_server:
            raise CommandError("give the server's address once, with --url")
        print(
            "media-origin upload: warning: --server URL is deprecated, use --url URL "
            "(--server will mean only the HTTP server, as for serve)",
            file=sys.stderr,
        )
        url = args.deprecated_server
    return run_upload(config, args.sources, args.to, url, args.force, out, warn_if_private)


def sign(config: Config, args: argparse.Namespace, out: QuietPipe) -> int:
    from origin.cli.client import run_sign

    if config.api.signing_key is None:
        where = (
            f"the config {config.source} has no [api] signing_key_env"
            if config.path is not None
            else f"no config was found (--config, ${CONFIG_ENV}, ./config.toml) "
            f"and ${SIGNING_KEY_ENV} is not set"
        )
        raise CommandError(
            f"signing needs the server's key: {where}; give the server's config with "
            f"--config PATH, or set {SIGNING_KEY_ENV}"
        )
    warn_if_private(config.server.base_url)
    return run_sign(config, args.path, args.ttl, out)


def whatsapp(config: Config, args: argparse.Namespace, out: QuietPipe) -> int:
    import time

    from origin.cli import whatsapp as bridge
    from origin.cli.failures import run_failures

    if args.action == "upload":
        return bridge.run_upload(config, args.paths, args.number, args.json, out)
    if args.action == "renew":
        return bridge.run_renew(config, args.older_than, args.json, out, time.time())
    if args.action == "message":
        path = "/" + args.path.lstrip("/")  # a stored path, with or without its first /
        request = bridge.MessageRequest(
            path, args.to, args.caption, args.by, args.number, args.send
        )
        return bridge.run_message(config, request, out)
    seconds, text = args.since
    log = Path(args.access_log) if args.access_log else None
    return run_failures(config, seconds, text, log, args.json, out, time.time())


def serve(config: Config, args: argparse.Namespace, out: QuietPipe) -> int:
    from origin.cli.ports import refuse_if_served
    from origin.cli.servers import RUNNERS

    host = args.host or config.server.host
    port = args.port or config.server.port
    refuse_if_served(host, port)
    warn_if_private(config.server.base_url)
    print(
        f"media-origin: serving {config.storage.describe()} on http://{host}:{port} "
        f"under {args.server}, {args.workers} worker(s) (config: {config.source})",
        file=sys.stderr,
        flush=True,
    )
    print(f"media-origin: {conversion_line(config)}", file=sys.stderr, flush=True)
    RUNNERS[args.server](config, host, port, args.workers)
    return 0


def conversion_line(config: Config) -> str:
    """Whether ffmpeg and ffprobe are here: said once, at start-up, not at the first upload."""
    from origin.convert.tools import find_tools

    tools = find_tools(config.convert.ffmpeg, config.convert.ffprobe)
    if tools.missing is not None:
        return f"conversion: pictures only: {tools.missing}"
    workers, cpus = config.convert.concurrency, config.convert.cpus
    cores = "every core" if cpus is None else f"cores {','.join(map(str, sorted(cpus)))}"
    return f"conversion: {tools.version or 'ffmpeg'}, {workers} at a time on {cores}"


COMMANDS: dict[str, Callable[[Config, argparse.Namespace, QuietPipe], int]] = {
    "serve": serve,
    "check": check,
    "convert": convert,
    "explain": explain,
    "upload": upload,
    "sign": sign,
    "whatsapp": whatsapp,
}
