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
import socket
import tempfile
import time
from collections.abc import AsyncGenerator, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from storage.base import FileChanged, FileStat, OpenFile, StorageUnavailable
from storage.bounded import remember
from storage.spool import SpoolWriter, open_spool

CHUNK_SIZE = 256 * 1024
MULTIPART_THRESHOLD = 16 * 1024 * 1024
MAX_REMEMBERED = 100_000
DEFAULT_CONTENT_TYPE = "application/octet-stream"
POOL_THREADS = 64  # store calls in flight at once; the rest wait (inside their deadline)
# Attempts per call, the first included: a quick 5xx or SlowDown is worth another
# try while the deadline lasts; a silent store is not (its first attempt uses it all).
MAX_ATTEMPTS = 2
MAX_CONNECT_SECONDS = 5.0
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
                connect_timeout=min(timeout, MAX_CONNECT_SECONDS),
                read_timeout=timeout,
                retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
                max_pool_connections=POOL_THREADS,
            ),
        )
        self._executor = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="s3")
        self._meta: dict[str, tuple[float, FileStat | None]] = {}
        self._hashes: dict[Hashable, str] = {}
        self.spool = Path(tempfile.gettempdir())

    def _key(self, path: str) -> str:
        return self.prefix + path

    async def _call(self, method, **kwargs):
        """A boto3 call in the pool, given up after ``timeout`` seconds however many
        attempts botocore is making; store failures become StorageUnavailable."""
        return await self._wait(self._executor.submit(partial(method, **kwargs)))

    async def _wait(self, future: Future, progress: _Progress | None = None):
        """The result of a call submitted to the pool, within the deadline: ``timeout``
        seconds in all, or, with ``progress``, ``timeout`` seconds without progress.

        A call given up keeps its pool thread until botocore's per-attempt timeouts
        end it; a call still queued is cancelled and never runs.
        """
        waiter = asyncio.wrap_future(future)
        started = time.monotonic()
        try:
            while not waiter.done():
                quiet_since = started if progress is None else max(started, progress.last)
                left = self.timeout - (time.monotonic() - quiet_since)
                if left <= 0:
                    raise StorageUnavailable(
                        f"the store did not answer within {self.timeout:g} s", timeout=True
                    )
                await asyncio.wait({waiter}, timeout=left)
            return waiter.result()
        except StorageUnavailable:
            waiter.cancel()
            raise
        except asyncio.CancelledError:
            waiter.cancel()  # the request is gone: a queued call need not run
            raise
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
        """Whether objects can actually be read, within one ``timeout`` in all: the
        prefix is listed (one key) and that object's metadata read. HeadBucket alone
        answers for credentials that may see the bucket but not read from it, while
        every GET is a 503."""
        try:
            async with asyncio.timeout(self.timeout):
                listing = await self._call(
                    self.client.list_objects_v2, Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1
                )
                for entry in listing.get("Contents", [])[:1]:
                    with contextlib.suppress(_Missing):  # deleted since: still readable
                        await self._call(
                            self.client.head_object, Bucket=self.bucket, Key=entry["Key"]
                        )
        except TimeoutError:
            raise StorageUnavailable(
                f"the store did not answer within {self.timeout:g} s", timeout=True
            ) from None
        except _Missing:  # no such bucket
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

    async def open(self, path: str, expected: FileStat) -> S3File:
        return S3File(self, self._key(path), expected)

    async def open_current(self, path: str) -> S3File | None:
        """One GET with no condition: the object it streams *is* the version, and its
        own response headers describe it, so no replace can come in between (a
        HEAD then a conditional GET can each meet another upload)."""
        self.forget(path)
        try:
            response = await self._call(
                self.client.get_object, Bucket=self.bucket, Key=self._key(path)
            )
        except _Missing:
            return None
        return S3File(self, self._key(path), self._file_stat(response), pinned=response["Body"])

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


# A range of a pinned object that starts further in is asked for anew (If-Match'ed):
# skipping more than this would cost more than the rare lost race it avoids.
PINNED_SKIP_LIMIT = 16 * 1024 * 1024


class S3File:
    """Reads of one known version: every GET carries If-Match on its store ETag."""

    def __init__(self, storage: S3Storage, key: str, stat: FileStat, pinned=None) -> None:
        """``pinned``: the unread body of the whole object, from ``open_current``'s
        GET; the first read uses it."""
        self.storage = storage
        self.key = key
        self.stat = stat
        self._body = pinned
        self._reading: Future | None = None  # the body read a pool thread is in
        self._pinned_unread = pinned is not None

    async def _get(self, start: int, stop: int):
        if self._pinned_unread:
            self._pinned_unread = False
            if start <= PINNED_SKIP_LIMIT:
                # The pinned GET streams the whole object: read past what the range
                # leaves out rather than ask again, which another upload could win.
                while start > 0:
                    skipped = await self._read(self._body, min(CHUNK_SIZE, start))
                    if not skipped:
                        raise FileChanged(f"{self.key}: the body ended early")
                    start -= len(skipped)
                return self._body
        try:
            response = await self.storage._call(
                self.storage.client.get_object,
                Bucket=self.storage.bucket,
                Key=self.key,
                Range=f"bytes={start}-{stop - 1}",
                IfMatch=self.stat.version[0],
            )
        except _Missing:
            raise FileChanged(f"{self.key}: replaced since its stat") from None
        self._release()
        self._body = response["Body"]
        return self._body

    async def _read(self, body, amount: int | None = None) -> bytes:
        """One read of the body in the pool, given up after ``timeout`` without a byte."""
        self._reading = self.storage._executor.submit(body.read, amount)
        return await self.storage._wait(self._reading)

    async def read(self, start: int, stop: int) -> bytes:
        data = await self._read(await self._get(start, stop), stop - start)
        if len(data) != stop - start:
            raise FileChanged(f"{self.key}: {len(data)} bytes of {stop - start}")
        return data

    async def chunks(self, start: int, stop: int) -> AsyncGenerator[bytes, None]:
        body = await self._get(start, stop)
        remaining = stop - start
        while remaining > 0:
            chunk = await self._read(body, min(CHUNK_SIZE, remaining))
            if not chunk:
                raise FileChanged(f"{self.key}: the body ended early")
            remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        self._release()

    def _release(self) -> None:
        """Close the body. Under a read a pool thread is still in (one given up at
        the deadline), its connection is shut down instead: the read ends at once,
        where a store that trickles bytes would hold it, and the thread, which the
        interpreter waits for at exit, for as long as it trickled. That thread
        closes the body when its read ends."""
        body, self._body = self._body, None
        if body is None:
            return
        if self._reading is not None and not self._reading.done():
            self._reading.add_done_callback(lambda _: body.close())
            _shut_down(body)
        else:
            body.close()


def _shut_down(body) -> None:
    """Shut the socket under a botocore StreamingBody down (urllib3 2's response
    keeps its connection while the body is being read); a no-op if it is gone."""
    connection = getattr(getattr(body, "_raw_stream", None), "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class S3Writer(SpoolWriter):
    """An upload spooled to a local file (the rules check the whole file before
    anything is published), then put with its hash and mtime as metadata; S3
    shows an object only once its PutObject or multipart upload completes."""

    def __init__(
        self, path: str, local_path: Path, file: Any, storage: S3Storage, content_type: str
    ) -> None:
        super().__init__(path, local_path, file)
        self.storage = storage
        self._content_type = content_type

    async def finish(self) -> None:
        if not self._file.closed:
            await self._file.close()

    async def commit(self) -> tuple[FileStat, bool]:
        from boto3.s3.transfer import TransferConfig

        await self.finish()
        storage = self.storage
        storage.forget(self.path)
        try:
            replaced = await storage.stat(self.path) is not None
            # Bounded by progress, not in all: a 100 MB upload may rightly take longer
            # than the timeout; a store that stops taking bytes, or answering once it
            # has them all, is given up after ``timeout`` seconds of that.
            progress = _Progress()
            upload = partial(
                storage.client.upload_file,
                Filename=str(self.local_path),
                Bucket=storage.bucket,
                Key=storage._key(self.path),
                ExtraArgs={
                    "ContentType": self._content_type,
                    "Metadata": {"sha256": self.digest, "mtime": f"{time.time():.3f}"},
                },
                Config=TransferConfig(multipart_threshold=MULTIPART_THRESHOLD),
                Callback=progress,
            )
            await storage._wait(storage._executor.submit(upload), progress)
            storage.forget(self.path)
            stat = await storage.stat(self.path)
        finally:
            await self.abort()
        if stat is None or storage._hashes.get(stat.version) != self.digest:
            # A concurrent upload replaced ours before the HEAD: describe our own
            # bytes under a version that matches no stored object, so nothing
            # cached for the path can carry our digest for another's bytes.
            stat = FileStat(size=self.size, mtime=time.time(), version=("superseded", self.digest))
        return stat, replaced


class _Progress:
    """When an upload last moved bytes: boto3's transfer callback, called from its
    own threads (a float assignment, safe across threads)."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def __call__(self, amount: int) -> None:
        self.last = time.monotonic()


class _Missing(Exception):
    """The object is not there (404)."""


def _translate(error: Exception) -> Exception:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    if isinstance(error, S3UploadFailedError):
        # upload_file wraps the store's own answer (a 500, a 503 SlowDown) in this.
        return StorageUnavailable(f"the store did not take the upload: {error}")

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
