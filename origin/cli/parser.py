"""The command line's grammar: the parser of ``media-origin`` and its subcommands,
their help texts and argument checks (``origin.cli.completion`` builds the
shell completion from it)."""

from __future__ import annotations

import argparse
from typing import NoReturn
from urllib.parse import urlsplit

from origin import __version__
from origin.config import CONFIG_ENV, TOKEN_ENV
from origin.policy import CONVERT_AS

SERVERS = ("granian", "uvicorn")  # origin.cli.servers runs them; imported only to serve
DEFAULT_SERVER = "granian"  # chosen by bench/run.py: see README "Performance"


# What each subcommand's --help ends with: a description, then examples to copy.
HELP: dict[str, tuple[str, str]] = {
    "serve": (
        "Serve the storage over HTTP, with the folder policies of the config.\n"
        "Refuses to start (exit 2) when its address is already served.",
        "examples:\n"
        "  media-origin serve\n"
        "  media-origin serve --config /etc/media-origin/config.toml --port 8081\n"
        "  media-origin serve --server uvicorn --workers 4",
    ),
    "convert": (
        "Convert stored files into what WhatsApp accepts: the converted file is written\n"
        "next to the original with its new extension (clip.mov -> clip.mp4), never over\n"
        "an existing file unless --replace. Exit 1 if any file could not be converted.",
        "examples:\n"
        "  media-origin convert /to-convert\n"
        "  media-origin convert --as voice /voice/note.webm\n"
        "  media-origin convert --dry-run --json /campaigns/clip.mov",
    ),
    "check": (
        "Check stored files against WhatsApp's media rules: type, size, codecs.\n"
        "Exit 1 if any file would be rejected.",
        "examples:\n"
        "  media-origin check\n"
        "  media-origin check /campaigns media/stickers/hi.webp\n"
        "  media-origin check --json /campaigns > report.json",
    ),
    "explain": (
        "Show the headers a link answers with and how Meta will fetch and cache it.\n"
        "An http(s):// URL is fetched once and needs no config; a stored path is\n"
        "answered from the configured storage.",
        "examples:\n"
        "  media-origin explain /campaigns/promo.png\n"
        "  media-origin explain https://media.example.com/campaigns/promo.png",
    ),
    "upload": (
        "Upload files or folders through a server's upload API (needs the API token\n"
        f"in ${TOKEN_ENV}, or the variable the config's [api] token_env names).\n"
        "A file goes to FOLDER/its-name; a folder's contents go under FOLDER, keeping\n"
        "their layout below it (the folder's own name is not added). Two sources that\n"
        "would land on the same stored path are refused before anything is sent, and\n"
        "so is a file over WhatsApp's limit for its kind.",
        "examples:\n"
        "  media-origin upload promo.jpg --to /campaigns\n"
        "  media-origin upload ./batch --to /campaigns/batch    # batch/a.jpg -> "
        "/campaigns/batch/a.jpg\n"
        "  media-origin upload a.pdf --to /docs --url https://media.example.com",
    ),
    "sign": (
        "Print a signed, expiring link to a stored path, made offline with the key\n"
        "the server checks ([api] signing_key_env, else $MEDIA_ORIGIN_SIGNING_KEY).",
        "examples:\n"
        "  media-origin sign /invoices/INV-0001.pdf\n"
        "  media-origin sign /invoices/INV-0001.pdf --ttl 10m",
    ),
    "whatsapp": (
        "Media IDs for stored files and the failures the status webhooks reported,\n"
        "through the provider of the config's [whatsapp] table (README, Sending by ID).",
        "examples:\n"
        "  media-origin whatsapp upload /campaigns/promo.jpg\n"
        "  media-origin whatsapp message /campaigns/promo.jpg --to 15551234567\n"
        "  media-origin whatsapp renew --older-than 20\n"
        "  media-origin whatsapp failures --since 24h --access-log access.log",
    ),
    "whatsapp upload": (
        "Upload stored files to the provider and print their media IDs; the bytes are\n"
        "checked first, and a valid ID recorded for the same bytes is reused.\n"
        "Exit 1 if any file could not be uploaded.",
        "examples:\n"
        "  media-origin whatsapp upload /campaigns/promo.jpg /docs/prices.pdf\n"
        "  media-origin whatsapp upload --number 1234567890 --json /campaigns",
    ),
    "whatsapp renew": (
        "Upload again the recorded IDs that are due (within [whatsapp] renew_days of\n"
        "their 30-day expiry), or every ID uploaded at least --older-than DAYS ago.\n"
        "Exit 1 if any renewal failed.",
        "examples:\n"
        "  media-origin whatsapp renew\n"
        "  media-origin whatsapp renew --older-than 0     # every ID, now",
    ),
    "whatsapp message": (
        "Print the JSON body of a send-media request for a stored file, by its media\n"
        "ID (uploaded when needed) or its versioned link; --send posts it to the\n"
        "provider's messages endpoint and prints the message's wamid instead.",
        "examples:\n"
        "  media-origin whatsapp message /campaigns/promo.jpg --to 15551234567\n"
        "  media-origin whatsapp message /docs/prices.pdf --to 15551234567 --by link\n"
        "  media-origin whatsapp message /campaigns/promo.jpg --to 15551234567 --send",
    ),
    "whatsapp failures": (
        "Print the failed messages the status webhooks reported, grouped by cause, with\n"
        "the advice for each, joined to the file sent and Meta's fetches of it (from a\n"
        "JSON access log given with --access-log).",
        "examples:\n"
        "  media-origin whatsapp failures\n"
        "  media-origin whatsapp failures --since 24h --access-log /var/log/media-origin.log\n"
        "  media-origin whatsapp failures --json | jq '.[].cause'",
    ),
    "completion": (
        "Print a shell completion script for media-origin.",
        "examples:\n"
        '  eval "$(media-origin completion bash)"     # in ~/.bashrc\n'
        '  eval "$(media-origin completion zsh)"      # in ~/.zshrc',
    ),
}


class Parser(argparse.ArgumentParser):
    """argparse, with a bad command line told in one line (argparse's usage block
    first buries it); the usage is one --help away, and the line says so."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="media-origin",
        description="A link host for WhatsApp media messages sent by link.",
        epilog="Run 'media-origin COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"media-origin {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, within=commands) -> argparse.ArgumentParser:
        description, epilog = HELP[name]
        return within.add_parser(
            name.split()[-1],
            help=summary,
            description=description,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    serve = command("serve", "serve the storage over HTTP")
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
    check = command(
        "check", "check stored files against WhatsApp's media rules (exit 1 if any is rejected)"
    )
    _config_option(check)
    check.add_argument("--json", action="store_true", help="print a JSON list of reports")
    check.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders, on disk or as stored paths (default: the whole storage)",
    )
    convert = command(
        "convert", "convert stored files into what WhatsApp accepts (exit 1 if any failed)"
    )
    _config_option(convert)
    convert.add_argument("--as", dest="target", choices=CONVERT_AS, help="what to make")
    convert.add_argument(
        "--dry-run", action="store_true", help="convert in a temporary folder, store nothing"
    )
    convert.add_argument(
        "--replace", action="store_true", help="write over a file already at the new name"
    )
    convert.add_argument("--json", action="store_true", help="print a JSON list of outcomes")
    convert.add_argument("paths", nargs="+", metavar="PATH", help="stored files or folders")
    explain = command("explain", "show a link's headers and how Meta will fetch and cache it")
    _config_option(explain)
    explain.add_argument("--json", action="store_true", help="print the explanation as JSON")
    explain.add_argument(
        "target", metavar="TARGET", help="a stored path (/campaigns/promo.jpg) or an http(s):// URL"
    )
    upload = command("upload", "upload files or folders through the API")
    _config_option(upload, client=True)
    upload.add_argument("sources", nargs="+", metavar="FILE_OR_FOLDER")
    upload.add_argument(
        "--to", required=True, metavar="FOLDER", help="stored folder, e.g. /campaigns"
    )
    upload.add_argument(
        "--url",
        metavar="URL",
        type=_url,
        help="the server's address (default: http://[server] host:port of the config)",
    )
    # The old spelling, for one release: --server names the HTTP server everywhere else.
    upload.add_argument("--server", dest="deprecated_server", type=_url, help=argparse.SUPPRESS)
    upload.add_argument("--force", action="store_true", help="store files the rules refuse")
    sign = command("sign", "print a signed, expiring link to a stored path")
    _config_option(sign, client=True)
    sign.add_argument("path", metavar="PATH")
    sign.add_argument(
        "--ttl", default="1h", type=_duration, help="how long the link works (default: 1h)"
    )
    whatsapp = command("whatsapp", "media IDs and failed messages (README: Sending by ID)")
    _whatsapp_commands(whatsapp, command)
    completion = command("completion", "print a shell completion script (bash or zsh)")
    completion.add_argument("shell", choices=("bash", "zsh"))
    return parser


def _whatsapp_commands(whatsapp: argparse.ArgumentParser, command) -> None:
    actions = whatsapp.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, summary: str) -> argparse.ArgumentParser:
        parser = command(f"whatsapp {name}", summary, within=actions)
        _config_option(parser)
        return parser

    def number(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--number", metavar="ID", help="the phone_number_id (needed when several are set)"
        )

    upload = action("upload", "upload stored files and print their media IDs")
    number(upload)
    upload.add_argument("--json", action="store_true", help="print a JSON list of outcomes")
    upload.add_argument("paths", nargs="+", metavar="PATH", help="stored files or folders")
    renew = action("renew", "upload again the IDs that are due, or older than DAYS")
    renew.add_argument(
        "--older-than", metavar="DAYS", type=_days, help="every ID uploaded DAYS ago or more"
    )
    renew.add_argument("--json", action="store_true", help="print a JSON list of outcomes")
    message = action("message", "print (or --send) a send-media request body")
    message.add_argument("path", metavar="PATH", help="a stored file, e.g. /campaigns/promo.jpg")
    message.add_argument("--to", required=True, metavar="NUMBER", help="the recipient (E.164)")
    message.add_argument("--caption", metavar="TEXT", help="for an image, video or document")
    message.add_argument(
        "--by", choices=("id", "link"), help="media ID or link (default: id with [whatsapp])"
    )
    number(message)
    message.add_argument("--send", action="store_true", help="post it, print the wamid")
    failures = action("failures", "print the failed messages, by cause, with advice")
    failures.add_argument(
        "--since", default="1h", type=_since, help="statuses stamped this recently (default: 1h)"
    )
    failures.add_argument(
        "--access-log", metavar="FILE", help="the server's JSON access log, for Meta's fetches"
    )
    failures.add_argument("--json", action="store_true", help="print a JSON list of failures")


def _days(value: str) -> float:
    try:
        days = float(value)
    except ValueError:
        days = -1.0
    if not 0 <= days <= 3650:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of days (0 or more)")
    return days


def _since(value: str) -> tuple[int, str]:
    return _duration(value), value


def _workers(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of workers (1 to 64)")
    return int(value)


def _duration(value: str) -> int:
    from origin.serve.links import parse_duration

    try:
        return parse_duration(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _url(value: str) -> str:
    """An http(s):// address: 'localhost:8080' would be taken for a path by httpx."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an http(s):// URL (e.g. http://127.0.0.1:8080)"
        )
    return value


def _config_option(parser: argparse.ArgumentParser, client: bool = False) -> None:
    """--config; a client command without one needs no storage, and says so."""
    fallback = (
        "else built-in defaults that need no storage"
        if client
        else "else the built-in default serving ./media"
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help=f"config file (default: ${CONFIG_ENV}, else ./config.toml, {fallback})",
    )


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (1 to 65535)")
    return port
