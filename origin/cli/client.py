"""``media-origin upload`` and ``media-origin sign``: the API's own client, and
signed links made offline with the same key the server checks."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO
from urllib.parse import quote, urlsplit

from origin.cli.errors import CommandError
from origin.cli.progress import Progress, bytes_sent
from origin.config import TOKEN_ENV, Config
from origin.serve.links import signed_url

CHUNK = 256 * 1024


class ClientError(CommandError):
    pass


def upload_targets(sources: list[str], folder: str) -> list[tuple[Path, str]]:
    """(local file, stored path) for each file to upload.

    A file goes to ``folder/its-name``; a folder's contents go under ``folder``
    itself, keeping their layout below it, as ``cp -r dir/. folder`` or ``rsync
    dir/ folder`` would: ``upload batch --to /campaigns/batch`` stores
    ``batch/a.jpg`` as ``/campaigns/batch/a.jpg``, never ``/campaigns/batch/batch/``.
    Dot-files and dot-folders in a folder are skipped. Two sources that would land
    on the same stored path are refused before anything is sent: one would
    silently replace the other.
    """
    folder = "/" + folder.strip("/")
    prefix = folder.rstrip("/")
    found: list[tuple[Path, str]] = []
    for source in sources:
        path = Path(source)
        if path.is_file():
            found.append((path, f"{prefix}/{path.name}"))
        elif path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = file.relative_to(path)
                if not any(part.startswith(".") for part in relative.parts):
                    found.append((file, f"{prefix}/{relative.as_posix()}"))
        elif path.exists():
            raise ClientError(f"{source}: not a regular file or a folder")
        else:
            raise ClientError(f"{source}: no such file or folder")
    first: dict[str, Path] = {}
    for file, stored in found:
        if stored in first:
            raise ClientError(
                f"{first[stored]} and {file} would both be stored as {stored}; "
                "upload them with different --to folders"
            )
        first[stored] = file
    return found


def refuse_over_limit(targets: list[tuple[Path, str]], force: bool) -> None:
    """Refuse, before a byte is sent, a file the server would refuse for its size,
    or one that cannot be read: a 6 MB image need not travel to be told it is over
    5 MB, and an upload must not stop half-way at an unreadable file. The limits are the
    upload API's: WhatsApp's for the file's kind, or with --force the hard limit."""
    from origin.upload.staging import HARD_LIMIT
    from origin.whatsapp.problems import format_size
    from origin.whatsapp.rules import rule_for_name, shrink_hint

    for file, stored in targets:
        try:
            with file.open("rb"):
                size = file.stat().st_size
        except OSError as error:
            raise ClientError(f"{file}: cannot read it: {error.strerror}") from None
        rule = rule_for_name(stored)
        limit = HARD_LIMIT if force or rule is None else rule.max_bytes
        if size <= limit:
            continue
        if limit < HARD_LIMIT:
            article = "an" if rule.whatsapp_type[0] in "aeiou" else "a"
            what = f"WhatsApp's limit for {article} {rule.whatsapp_type} ({rule.extensions[0]})"
            fix = (
                f"{shrink_hint(rule.whatsapp_type, file.name)}; or add --force to store "
                "it anyway (WhatsApp will refuse to send it)"
            )
        else:
            what = "the largest file the server stores, even with --force"
            fix = shrink_hint(rule.whatsapp_type if rule else None, file.name)
        raise ClientError(
            f"{file} is {format_size(size)}, over {what}, {format_size(limit)}: {fix}"
        )


def run_upload(
    config: Config,
    sources: list[str],
    folder: str,
    server: str | None,
    force: bool,
    out: TextIO,
    warn: Callable[[str], None] | None = None,
) -> int:
    """Upload each file by PUT and print its link; ``warn`` is told, once, the
    address the first link names (the server's base_url, which decides it)."""
    import httpx

    token_env = config.api.token_env or TOKEN_ENV
    token = os.environ.get(token_env)
    if not token:
        raise ClientError(f"set {token_env} to the API token")
    base = (server or f"http://{config.server.host}:{config.server.port}").rstrip("/")
    targets = upload_targets(sources, folder)
    refuse_over_limit(targets, force)
    total = sum(file.stat().st_size for file, _ in targets)
    progress = Progress(total, bytes_sent, worth_showing=total > 1_000_000)
    headers = {"authorization": f"Bearer {token}"}
    failed = 0
    try:
        with httpx.Client(base_url=base, timeout=300, headers=headers) as http:
            for file, stored in targets:
                query = "?force=true" if force else ""
                response = http.put(quote(stored) + query, content=_read(file, progress))
                progress.clear()
                link = _report(stored, response, out)
                failed += link is None
                if link and warn is not None:
                    parts = urlsplit(link)
                    warn(f"{parts.scheme}://{parts.netloc}")
                    warn = None
    except httpx.HTTPError as error:
        raise ClientError(f"{base}: {error}") from None
    finally:
        progress.clear()
    return 1 if failed else 0


def _report(stored: str, response, out: TextIO) -> str | None:
    """Print the link, or why the file was refused; the link if it was stored."""
    is_json = response.headers.get("content-type") == "application/json"
    body = response.json() if is_json else {}
    if response.status_code in (200, 201):
        link = body.get("signed_url") or body.get("versioned_url") or ""
        out.write(f"{stored}\t{link}\n")
        for warning in body.get("warnings", []):
            out.write(f"  warning: {warning['code']}: {warning['message']}\n")
        return link
    message = body.get("message") or response.text.strip()
    out.write(f"{stored}\trefused ({response.status_code}): {message}\n")
    return None


def _read(file: Path, progress: Progress) -> Iterator[bytes]:
    with file.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            progress.advance(len(chunk))
            yield chunk


def run_sign(config: Config, path: str, ttl: int, out: TextIO) -> int:
    key = config.api.signing_key
    if key is None:
        raise ClientError("signing needs [api] signing_key_env and that environment variable set")
    url_path = "/" + path.lstrip("/")
    out.write(signed_url(config.server.base_url, key, url_path, int(time.time()) + ttl) + "\n")
    return 0
