"""An S3-compatible bucket as storage (AWS S3, R2, MinIO, Ceph, GCS's S3 API).

boto3, called in a thread pool: measured against aiobotocore and obstore in
bench/s3_clients.py, it had the shortest time to first byte, the highest
throughput and the least memory. Credentials come from the standard AWS
environment variables and files, never from config.toml.

Validators: an upload through the API stores the content hash and the
modification time as object metadata (``x-amz-meta-sha256``,
``x-amz-meta-mtime``), so every instance sends the same ETag and Last-Modified
without reading the bytes. An object put by another tool has no such
metadata: its ETag is then the store's own ETag (an MD5, or ``md5-N`` for a
multipart upload) and Last-Modified the store's upload time; both are the same
from every instance too.

Object metadata is cached per instance for ``metadata_ttl`` seconds: a
replaced object is served by every instance at most that long after the
replacement. Bodies are always read with ``If-Match`` on the store ETag that
the headers were built from, so a replaced object is never served with the
old validators: ``open`` (or a later read) raises FileChanged, which forgets
the path's cached metadata, and the request starts again.

``timeout`` bounds every store call as the client sees it, botocore's retries
included: a call that has not answered by then is given up (a 504), and a body
read or an upload is given up once it has gone that long without moving a byte
(a large upload on a slow link may take longer as a whole, a stalled one never
does). botocore's own connect and read timeouts, per attempt, only make sure
that the pool thread of a call given up ends on its own soon after.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Hashable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from storage.base import FileChanged, FileStat, FolderNames, OpenFile
from storage.bounded import remember
from storage.records import S3Records
from storage.s3_calls import Missing, S3Calls
from storage.s3_file import KEPT_SKIP_LIMIT, S3File, S3Version
from storage.s3_writer import S3Writer
from storage.spool import open_spool

MAX_REMEMBERED = 100_000
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class _Cached:
    """A stat (None: no object) and when it stops being believed."""

    expires: float
    stat: FileStat | None


class S3Storage:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        metadata_ttl: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.metadata_ttl = metadata_ttl
        self.timeout = timeout
        self.calls = S3Calls(bucket, self.prefix, endpoint_url, region, timeout)
        self.records = S3Records(self.calls)
        self._meta: dict[str, _Cached] = {}
        self._hashes: dict[Hashable, str] = {}

    async def stat(self, path: str) -> FileStat | None:
        cached = self._meta.get(path)
        now = time.monotonic()
        if cached is not None and cached.expires > now:
            return cached.stat
        try:
            head = await self.calls.call("head_object", Key=self.calls.key(path))
        except Missing:
            stat = None
        else:
            stat = self._file_stat(head)
        remember(self._meta, path, _Cached(now + self.metadata_ttl, stat), MAX_REMEMBERED)
        return stat

    def _file_stat(self, head: dict[str, Any]) -> FileStat:
        stat, digest = _described(head)
        remember(self._hashes, stat.version, digest, MAX_REMEMBERED)
        return stat

    def digest_of(self, stat: FileStat) -> str | None:
        """The content hash a HEAD or GET of that version said, if still remembered."""
        return self._hashes.get(stat.version)

    async def ready(self) -> bool:
        """Whether objects can actually be read, within one ``timeout`` in all: the
        prefix is listed (one key) and that object's metadata read. HeadBucket alone
        answers for credentials that may see the bucket but not read from it, while
        every GET is a 503."""
        try:
            async with asyncio.timeout(self.timeout):
                listing = await self.calls.call("list_objects_v2", Prefix=self.prefix, MaxKeys=1)
                for entry in listing.get("Contents", [])[:1]:
                    with contextlib.suppress(Missing):  # deleted since: still readable
                        await self.calls.call("head_object", Key=entry["Key"])
        except TimeoutError:
            raise self.calls.timed_out() from None
        except Missing:  # no such bucket
            return False
        return True

    async def writable(self) -> bool:
        """A bucket's write permission cannot be asked without writing: assumed, and
        a refused upload is a 503 that says so."""
        return True

    def close(self) -> None:
        """Nothing to leave: uploads spool to temporary files removed as they finish."""

    def forget(self, path: str) -> None:
        self._meta.pop(path, None)

    async def content_hash(
        self, path: str, expected: FileStat, opened: OpenFile | None = None
    ) -> str:
        """From the object's metadata, which every stat remembers: never the bytes
        (``opened`` changes nothing here)."""
        known = self._hashes.get(expected.version)
        if known is None:  # forgotten under memory pressure: ask the store again
            self.forget(path)
            stat = await self.stat(path)
            if stat is None or stat.version != expected.version:
                raise FileChanged(path)
            known = self._hashes[expected.version]
        return known

    async def open(
        self, path: str, expected: FileStat, start: int = 0, stop: int | None = None
    ) -> S3File:
        """One GET, If-Match'ed on the ETag ``expected`` was built from, before it
        returns, of ``[start, stop)`` (the whole object, or a Range's part); its
        body is kept for the first read. A HEAD first would cost two requests for
        every GET (26 ms to the first byte against 13, measured on moto)."""
        etag = getattr(expected.version, "etag", None)
        if etag is None:  # a version no stored object has (an upload superseded)
            raise FileChanged(f"/{path}: not a stored version")
        key = self.calls.key(path)
        part = _part(start, expected.size if stop is None else stop, expected.size)
        extra = {"Range": f"bytes={part[0]}-{part[1] - 1}"} if part else {}
        try:
            response = await self.calls.call("get_object", Key=key, IfMatch=etag, **extra)
        except Missing:
            self.forget(path)
            raise FileChanged(f"/{path}: replaced or removed since its stat") from None
        forget = partial(self.forget, path)
        body = response["Body"]
        if part:
            return S3File(self.calls, key, expected, forget, body, kept_range=part)
        return S3File(self.calls, key, expected, forget, body, KEPT_SKIP_LIMIT)

    async def open_current(self, path: str) -> S3File | None:
        """One GET with no condition: the object it streams *is* the version, and its
        own response headers describe it, so no replace can come in between (a
        HEAD then a conditional GET can each meet another upload)."""
        self.forget(path)
        key = self.calls.key(path)
        try:
            response = await self.calls.call("get_object", Key=key)
        except Missing:
            return None
        stat = self._file_stat(response)
        return S3File(self.calls, key, stat, partial(self.forget, path), response["Body"])

    async def create(self, path: str, content_type: str | None = None) -> S3Writer:
        """Spooled to a temporary file; ``content_type`` is stored with the object."""
        descriptor, local = tempfile.mkstemp(prefix="media-origin-", suffix=".part")
        os.close(descriptor)
        file = await open_spool(path, Path(local))
        return S3Writer(path, Path(local), file, self, content_type or DEFAULT_CONTENT_TYPE)

    async def delete(self, path: str) -> bool:
        self.forget(path)
        if await self.stat(path) is None:
            return False
        await self.calls.call("delete_object", Key=self.calls.key(path))
        self.forget(path)
        return True

    async def list(self, folder: str) -> list[tuple[str, FileStat]]:
        found = []
        for name in (await self.names(folder)).files:
            stat = await self.stat(f"{folder}/{name}" if folder else name)
            if stat is not None:
                found.append((name, stat))
        return found

    async def names(self, folder: str) -> FolderNames:
        """Every page of the listing, with ``/`` as the delimiter: the keys directly
        under the folder, and the folders as common prefixes."""
        files, folders = await self.calls.folder(self.calls.key(f"{folder}/" if folder else ""))
        return FolderNames(_shown(files), _shown(folders))


def _shown(names: list[str]) -> tuple[str, ...]:
    return tuple(sorted(name for name in names if name and not name.startswith(".")))


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _part(start: int, stop: int, size: int) -> tuple[int, int] | None:
    """``[start, stop)`` when it is a part of the object (a Range to ask for), else None."""
    return (start, stop) if (start, stop) != (0, size) and start < stop else None


def _described(head: dict[str, Any]) -> tuple[FileStat, str]:
    """The version a HEAD or GET describes, and its content hash: the uploader's
    (our metadata), else the store's own ETag (the documented fallback)."""
    metadata = head.get("Metadata", {})
    etag = head["ETag"]
    version = S3Version(etag, head["LastModified"].timestamp(), head.get("VersionId"))
    mtime = _float(metadata.get("mtime")) or head["LastModified"].timestamp()
    digest = metadata.get("sha256") or etag.strip('"')
    return FileStat(size=head["ContentLength"], mtime=mtime, version=version), digest
