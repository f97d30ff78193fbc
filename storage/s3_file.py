"""Reads of one known version of an object, and what proves a version."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from storage.base import FileChanged, FileStat
from storage.s3_calls import Missing, S3Calls

CHUNK_SIZE = 256 * 1024
# A range of a body already streaming that starts further in is asked for anew
# (If-Match'ed). open_current's body is the only GET of its version that cannot
# lose to another upload, so skipping up to 16 MiB beats the rare lost race; the
# body open() kept is only a saved round trip, worth no more than a chunk skipped.
PINNED_SKIP_LIMIT = 16 * 1024 * 1024
KEPT_SKIP_LIMIT = CHUNK_SIZE


@dataclass(frozen=True, slots=True)
class S3Version:
    """Equal versions mean equal bytes: the store's ETag, upload time and version id."""

    etag: str
    last_modified: float
    version_id: str | None


@dataclass(frozen=True, slots=True)
class Superseded:
    """The version of an upload replaced by another before its own HEAD: it matches
    no stored object, so nothing cached for the path can carry its digest."""

    digest: str


class S3File:
    """Reads of one known version: every GET carries If-Match on its store ETag, and
    a FileChanged forgets the path's cached stat, so that the retry asks the store."""

    def __init__(
        self,
        calls: S3Calls,
        key: str,
        stat: FileStat,
        forget: Callable[[], None],
        body: Any = None,
        skip_limit: int = PINNED_SKIP_LIMIT,
        kept_range: tuple[int, int] | None = None,
    ) -> None:
        """``body``: the unread body of the whole object, from the GET of ``open``
        (If-Match'ed) or ``open_current`` (unconditional); the first read uses it
        if it starts within ``skip_limit`` bytes. With ``kept_range``, the body is
        of that range only, and serves a first read of exactly that range."""
        self.calls = calls
        self.key = key
        self.stat = stat
        self._forget = forget
        self._body = body
        self._reading: Future | None = None  # the body read a pool thread is in
        self._unread = body is not None
        self._skip_limit = skip_limit
        self._kept_range = kept_range

    def _changed(self, why: str) -> FileChanged:
        self._forget()
        return FileChanged(f"{self.key}: {why}")

    async def _get(self, start: int, stop: int) -> Any:
        if self._unread:
            self._unread = False
            if self._kept_range is not None:
                if (start, stop) == self._kept_range:
                    return self._body
            elif start <= self._skip_limit:
                # That GET streams the whole object: read past what the range leaves
                # out rather than ask again, which another upload could win.
                while start > 0:
                    skipped = await self._read(self._body, min(CHUNK_SIZE, start))
                    if not skipped:
                        raise self._changed("the body ended early")
                    start -= len(skipped)
                return self._body
        try:
            response = await self.calls.call(
                "get_object",
                Key=self.key,
                Range=f"bytes={start}-{stop - 1}",
                IfMatch=self.stat.version.etag,  # type: ignore[attr-defined]
            )
        except Missing:
            raise self._changed("replaced since its stat") from None
        self._release()
        self._body = response["Body"]
        return self._body

    async def _read(self, body: Any, amount: int | None = None) -> bytes:
        """One read of the body in the pool, given up after ``timeout`` without a byte."""
        self._reading = self.calls.submit(body.read, amount)
        return await self.calls.wait(self._reading)

    async def read(self, start: int, stop: int) -> bytes:
        data = await self._read(await self._get(start, stop), stop - start)
        if len(data) != stop - start:
            raise self._changed(f"{len(data)} bytes of {stop - start}")
        return data

    async def chunks(self, start: int, stop: int) -> AsyncGenerator[bytes, None]:
        body = await self._get(start, stop)
        remaining = stop - start
        while remaining > 0:
            chunk = await self._read(body, min(CHUNK_SIZE, remaining))
            if not chunk:
                raise self._changed("the body ended early")
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


def _shut_down(body: Any) -> None:
    """Shut the socket under a botocore StreamingBody down (urllib3 2's response
    keeps its connection while the body is being read); a no-op if it is gone."""
    connection = getattr(getattr(body, "_raw_stream", None), "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
