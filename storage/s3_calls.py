"""boto3 in a thread pool, every call bounded by a deadline as the client sees
it: the one place that talks to the store, and turns its failures into the
storage errors the HTTP layer answers (a missing object, a 503, a 504)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from storage.base import StorageUnavailable

MULTIPART_THRESHOLD = 16 * 1024 * 1024
POOL_THREADS = 64  # store calls in flight at once; the rest wait (inside their deadline)
# Attempts per call, the first included: a quick 5xx or SlowDown is worth another
# try while the deadline lasts; a silent store is not (its first attempt uses it all).
MAX_ATTEMPTS = 2
MAX_CONNECT_SECONDS = 5.0
MAX_LISTING_PAGES = 1_000  # a million keys directly in one folder
_UNAVAILABLE_CODES = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"}


class Missing(Exception):
    """The object is not there (404), or not the version asked for (412)."""


class TransferProgress:
    """When an upload last moved bytes: boto3's transfer callback, called from its
    own threads (a float assignment, safe across threads)."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def __call__(self, amount: int) -> None:
        self.last = time.monotonic()


class S3Calls:
    """One bucket (and key prefix) of one store, reached through boto3 in a pool."""

    def __init__(
        self, bucket: str, prefix: str, endpoint_url: str | None, region: str | None, timeout: float
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
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

    def key(self, path: str) -> str:
        return self.prefix + path

    async def call(self, operation: str, **kwargs: Any) -> Any:
        """``client.<operation>(Bucket=..., **kwargs)`` in the pool, given up after
        ``timeout`` seconds however many attempts botocore is making; store failures
        become StorageUnavailable, a missing object Missing."""
        method = getattr(self.client, operation)
        return await self.wait(self.submit(partial(method, Bucket=self.bucket, **kwargs)))

    async def folder(self, prefix: str, page_size: int = 1000) -> tuple[list[str], list[str]]:
        """(the names of the keys, of the folders) directly under ``prefix``: every
        page of a ``/``-delimited listing (1,000 keys a page, S3's most)."""
        files: list[str] = []
        folders: list[str] = []
        asked: dict[str, Any] = {"Prefix": prefix, "Delimiter": "/", "MaxKeys": page_size}
        for _ in range(MAX_LISTING_PAGES):
            listing = await self.call("list_objects_v2", **asked)
            files += [entry["Key"][len(prefix) :] for entry in listing.get("Contents", [])]
            folders += [
                common["Prefix"][len(prefix) :].rstrip("/")
                for common in listing.get("CommonPrefixes", [])
            ]
            if not listing.get("IsTruncated"):
                break
            asked["ContinuationToken"] = listing["NextContinuationToken"]
        return files, folders

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        return self._executor.submit(function, *args)

    async def upload(self, local_path: Path, key: str, extra_args: dict[str, Any]) -> None:
        """Put a local file (multipart when large). Bounded by progress, not in all: a
        100 MB upload may rightly take longer than the timeout; a store that stops
        taking bytes, or answering once it has them all, is given up after
        ``timeout`` seconds of that."""
        from boto3.s3.transfer import TransferConfig

        progress = TransferProgress()
        upload = partial(
            self.client.upload_file,
            Filename=str(local_path),
            Bucket=self.bucket,
            Key=key,
            ExtraArgs=extra_args,
            Config=TransferConfig(multipart_threshold=MULTIPART_THRESHOLD),
            Callback=progress,
        )
        await self.wait(self.submit(upload), progress)

    async def wait(self, future: Future, progress: TransferProgress | None = None) -> Any:
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
                    raise self.timed_out()
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

    def timed_out(self) -> StorageUnavailable:
        return StorageUnavailable(
            f"the store did not answer within {self.timeout:g} s", timeout=True
        )


def _translate(error: Exception) -> Exception:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import (
        ClientError,
        ConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(error, S3UploadFailedError):
        # upload_file wraps the store's own answer (a 500, a 503 SlowDown) in this.
        return StorageUnavailable(f"the store did not take the upload: {error}")

    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in ("404", "NoSuchKey", "NotFound") or status == 404:
            return Missing()
        if code in ("412", "PreconditionFailed") or status == 412:
            return Missing()  # the version changed under us: read again
        if code in _UNAVAILABLE_CODES or status >= 500:
            return StorageUnavailable(f"the store answered {status} {code}")
        return StorageUnavailable(f"the store refused the request: {status} {code}")
    if isinstance(error, ReadTimeoutError):
        return StorageUnavailable("the store did not answer in time", timeout=True)
    if isinstance(error, ConnectionError):
        return StorageUnavailable(f"the store cannot be reached: {error}")
    if isinstance(error, NoCredentialsError):
        # A setup mistake, not a bug: every request is a 503 that says what to set.
        return StorageUnavailable(
            "no credentials for the S3 store: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or an instance role)"
        )
    return error
