"""``media-origin upload`` and ``media-origin sign``: the API's own client, and
signed links made offline with the same key the server checks."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from origin.config import Config
from origin.errors import CommandError
from origin.signing import signed_url

CHUNK = 256 * 1024


class ClientError(CommandError):
    pass


def upload_targets(sources: list[str], folder: str) -> list[tuple[Path, str]]:
    """(local file, stored path): a folder uploads recursively, keeping its layout."""
    folder = "/" + folder.strip("/")
    found = []
    for source in sources:
        path = Path(source)
        if path.is_file():
            found.append((path, f"{folder.rstrip('/')}/{path.name}"))
        elif path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = file.relative_to(path)
                if not any(part.startswith(".") for part in relative.parts):
                    found.append((file, f"{folder.rstrip('/')}/{path.name}/{relative.as_posix()}"))
        else:
            raise ClientError(f"{source}: no such file or folder")
    return found


def run_upload(
    config: Config, sources: list[str], folder: str, server: str | None, force: bool, out: TextIO
) -> int:
    import httpx

    token_env = config.api.token_env or "MEDIA_ORIGIN_TOKEN"
    token = os.environ.get(token_env)
    if not token:
        raise ClientError(f"set {token_env} to the API token")
    base = (server or f"http://{config.server.host}:{config.server.port}").rstrip("/")
    targets = upload_targets(sources, folder)
    progress = _Progress(sum(file.stat().st_size for file, _ in targets))
    headers = {"authorization": f"Bearer {token}"}
    failed = 0
    try:
        with httpx.Client(base_url=base, timeout=300, headers=headers) as http:
            for file, stored in targets:
                query = "?force=true" if force else ""
                response = http.put(quote(stored) + query, content=_read(file, progress))
                progress.clear()
                failed += not _report(stored, response, out)
    except httpx.HTTPError as error:
        raise ClientError(f"{base}: {error}") from None
    finally:
        progress.clear()
    return 1 if failed else 0


def _report(stored: str, response, out: TextIO) -> bool:
    """Print the link, or why the file was refused; whether it was stored."""
    is_json = response.headers.get("content-type") == "application/json"
    body = response.json() if is_json else {}
    if response.status_code in (200, 201):
        out.write(f"{stored}\t{body.get('signed_url') or body.get('versioned_url')}\n")
        for warning in body.get("warnings", []):
            out.write(f"  warning: {warning['code']}: {warning['message']}\n")
        return True
    message = body.get("message") or response.text.strip()
    out.write(f"{stored}\trefused ({response.status_code}): {message}\n")
    return False


def _read(file: Path, progress: _Progress) -> Iterator[bytes]:
    with file.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            progress.add(len(chunk))
            yield chunk


class _Progress:
    """A bar on a terminal's stderr for uploads worth watching (over 1 MB in all)."""

    def __init__(self, total: int) -> None:
        self.total, self.sent, self.shown = total, 0, 0.0
        self.enabled = sys.stderr.isatty() and total > 1_000_000

    def add(self, size: int) -> None:
        self.sent += size
        now = time.monotonic()
        if self.enabled and now - self.shown > 0.1:
            self.shown = now
            done = self.sent / self.total
            bar = "#" * int(done * 30)
            sys.stderr.write(f"\r[{bar:<30}] {done:4.0%} of {self.total / 1e6:.1f} MB")
            sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 60 + "\r")


def run_sign(config: Config, path: str, ttl: int, out: TextIO) -> int:
    key = config.api.signing_key
    if key is None:
        raise ClientError("signing needs [api] signing_key_env and that environment variable set")
    url_path = "/" + path.lstrip("/")
    out.write(signed_url(config.server.base_url, key, url_path, int(time.time()) + ttl) + "\n")
    return 0
