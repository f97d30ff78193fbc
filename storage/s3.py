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
old validators: the read fails and the request starts again.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncGenerator, Hashable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from storage.base import FileChanged, FileStat, StorageUnavailable
from storage.bounded import remember
from storage.spool import SpoolWriter

CHUNK_SIZE = 256 * 1024
MULTIPART_THRESHOLD = 16 * 1024 * 1024
MAX_REMEMBERED = 100_000
_UNAVAILABLE_CODES = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"}


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
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.metadata_ttl = metadata_ttl
        self.timeout = timeout
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                connect_timeout=min(timeout, 5),
                read_timeout=timeout,
                retries={"max_attempts": 2, "mode": "standard"},
                max_pool_connections=64,
            ),
        )
        self._executor = ThreadPoolExecutor(max_workers=64, thread_name_prefix="s3")
        self._meta: dict[str, tuple[float, FileStat | None]] = {}
        self._hashes: dict[Hashable, str] = {}
        self.spool = Path(tempfile.gettempdir())

    def _key(self, path: str) -> str:
        return self.prefix + path

    async def _call(self, method, **kwargs):
        """A boto3 call in the pool; store failures become StorageUnavailable."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, partial(method, **kwargs))
        except Exception as error:  # botocore raises many unrelated classes
            raise _translate(error) from error

    async def stat(self, path: str) -> FileStat | None:
        cached = self._meta.get(path)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            head = await self._call(
                self.client.head_object, Bucket=self.bucket, Key=self._key(path)
            )
        except _Missing:
            stat = None
        else:
            stat = self._file_stat(head)
        remember(self._meta, path, (now + self.metadata_ttl, stat), MAX_REMEMBERED)
        return stat

    def _file_stat(self, head: dict) -> FileStat:
        metadata = head.get("Metadata", {})
        etag = head["ETag"]
        version = (etag, head["LastModified"].timestamp(), head.get("VersionId"))
        mtime = _float(metadata.get("mtime")) or head["LastModified"].timestamp()
        # The uploader's content hash, else the store's own ETag (documented fallback).
        digest = metadata.get("sha256") or etag.strip('"')
        remember(self._hashes, version, digest, MAX_REMEMBERED)
        return FileStat(size=head["ContentLength"], mtime=mtime, version=version)

    async def ready(self) -> bool:
        try:
            await self._call(self.client.head_bucket, Bucket=self.bucket)
        except _Missing:
            return False
        return True

    def forget(self, path: str) -> None:
        self._meta.pop(path, None)

    async def content_hash(self, path: str, expected: FileStat) -> str:
        known = self._hashes.get(expected.version)
        if known is None:  # forgotten under memory pressure: ask the store again
            self.forget(path)
            stat = await self.stat(path)
            if stat is None or stat.version != expected.version:
                raise FileChanged(path)
            known = self._hashes[expected.version]
        return known

    async def open(self, path: str, expected: FileStat) -> S3File:
        return S3File(self, self._key(path), expected)

    async def create(self, path: str) -> S3Writer:
        descriptor, local = tempfile.mkstemp(prefix="media-origin-", suffix=".part")
        os.close(descriptor)
        return await S3Writer.start(path, Path(local), storage=self)

    async def delete(self, path: str) -> bool:
        self.forget(path)
        if await self.stat(path) is None:
            return False
        await self._call(self.client.delete_object, Bucket=self.bucket, Key=self._key(path))
        self.forget(path)
        return True

    async def list(self, folder: str) -> list[tuple[str, FileStat]]:
        prefix = self._key(f"{folder}/" if folder else "")
        listing = await self._call(
            self.client.list_objects_v2, Bucket=self.bucket, Prefix=prefix, Delimiter="/"
        )
        found = []
        for entry in listing.get("Contents", []):
            name = entry["Key"][len(prefix) :]
            if name and not name.startswith("."):
                stat = await self.stat(f"{folder}/{name}" if folder else name)
                if stat is not None:
                    found.append((name, stat))
        return found


class S3File:
    """Reads of one known version: every GET carries If-Match on its store ETag."""

    def __init__(self, storage: S3Storage, key: str, stat: FileStat) -> None:
        self.storage = storage
        self.key = key
        self.stat = stat
        self._body = None

    async def _get(self, start: int, stop: int):
        try:
            response = await self.storage._call(
                self.storage.client.get_object,
                Bucket=self.storage.bucket,
                Key=self.key,
                Range=f"bytes={start}-{stop - 1}",
                IfMatch=self.stat.version[0],
            )
        except _Missing:
            raise FileChanged(self.key) from None
        return response["Body"]

    async def read(self, start: int, stop: int) -> bytes:
        body = await self._get(start, stop)
        data = await self.storage._call(body.read)
        if len(data) != stop - start:
            raise FileChanged(self.key)
        return data

    async def chunks(self, start: int, stop: int) -> AsyncGenerator[bytes, None]:
        self._body = await self._get(start, stop)
        remaining = stop - start
        while remaining > 0:
            chunk = await self.storage._call(self._body.read, amt=min(CHUNK_SIZE, remaining))
            if not chunk:
                raise FileChanged(self.key)
            remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        if self._body is not None:
            self._body.close()


class S3Writer(SpoolWriter):
    """An upload spooled to a local file (the rules check the whole file before
    anything is published), then put with its hash and mtime as metadata; S3
    shows an object only once its PutObject or multipart upload completes."""

    storage: S3Storage

    async def finish(self) -> None:
        if not self._file.closed:
            await self._file.close()

    async def commit(self) -> tuple[FileStat, bool]:
        from boto3.s3.transfer import TransferConfig

        from origin.media_types import content_type_for

        await self.finish()
        storage = self.storage
        storage.forget(self.path)
        try:
            replaced = await storage.stat(self.path) is not None
            await storage._call(
                storage.client.upload_file,
                Filename=str(self.local_path),
                Bucket=storage.bucket,
                Key=storage._key(self.path),
                ExtraArgs={
                    "ContentType": content_type_for(self.path),
                    "Metadata": {"sha256": self.digest, "mtime": f"{time.time():.3f}"},
                },
                Config=TransferConfig(multipart_threshold=MULTIPART_THRESHOLD),
            )
            storage.forget(self.path)
            stat = await storage.stat(self.path)
        finally:
            await self.abort()
        if stat is None:
            raise FileChanged(self.path)
        return stat, replaced


class _Missing(Exception):
    """The object is not there (404)."""


def _translate(error: Exception) -> Exception:
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in ("404", "NoSuchKey", "NotFound") or status == 404:
            return _Missing()
        if code in ("412", "PreconditionFailed") or status == 412:
            return _Missing()  # the version changed under us: read again
        if code in _UNAVAILABLE_CODES or status >= 500:
            return StorageUnavailable(f"the store answered {status} {code}")
        return StorageUnavailable(f"the store refused the request: {status} {code}")
    if isinstance(error, ReadTimeoutError):
        return StorageUnavailable("the store did not answer in time", timeout=True)
    if isinstance(error, ConnectionError):
        return StorageUnavailable(f"the store cannot be reached: {error}")
    return error


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None
