"""The storage interface: the few questions the HTTP layer asks of a backend.

Paths are relative, ``/``-separated and already checked by the origin (no empty,
``.``, ``..`` or dot segments); a backend still refuses anything that would
resolve outside its root.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from storage.records import Records


@dataclass(frozen=True, slots=True)
class FileStat:
    size: int
    mtime: float  # seconds since the epoch
    # Equal versions mean equal bytes. Backends pick what proves it cheaply:
    # the filesystem uses (device, inode, size, mtime_ns, ctime_ns).
    version: Hashable


@dataclass(frozen=True, slots=True)
class FolderNames:
    """What is directly in a folder, by name only: the cheap question a listing of
    10,000 files asks first (one directory read, no stat per file)."""

    files: tuple[str, ...]  # sorted, dot-names left out
    folders: tuple[str, ...]


class StorageUnavailable(Exception):
    """The store is down, refusing, or too slow: the client is not at fault (503/504)."""

    def __init__(self, message: str, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


class StorageFull(Exception):
    """No room is left for an upload (507): the disk, a quota or a file size limit."""


class StorageReadOnly(StorageUnavailable):
    """The storage takes no writes (a read-only mount, or no permission): reads go on."""


class StorageConflict(Exception):
    """The path cannot hold a file: a folder is there, or a file stands where a folder must."""


class FileChanged(Exception):
    """The file is no longer the version the caller stat'ed; ask again."""


class OpenFile(Protocol):
    stat: FileStat

    async def read(self, start: int, stop: int) -> bytes:
        """Bytes ``start`` to ``stop`` (exclusive) at once: for small ranges only."""
        ...

    def chunks(self, start: int, stop: int) -> AsyncGenerator[bytes, None]:
        """Bytes ``start`` to ``stop`` (exclusive), in bounded chunks."""
        ...

    def close(self) -> None: ...


class Writer(Protocol):
    """A file being uploaded: invisible until ``commit``, gone after ``abort``."""

    local_path: Path  # where the bytes so far are, for inspection
    size: int
    digest: str  # content hash of what was written (valid once complete)

    async def write(self, data: bytes) -> None: ...

    async def finish(self) -> None:
        """All bytes written: make them durable (commit does it too)."""
        ...

    async def commit(self) -> tuple[FileStat, bool]:
        """Make the file visible at its path atomically; (its stat, whether it replaced one)."""
        ...

    async def abort(self) -> None: ...


class Storage(Protocol):
    records: Records  # the origin's own small records, never served (storage.records)

    async def stat(self, path: str) -> FileStat | None:
        """The regular file at ``path``, or None when there is none to serve."""
        ...

    async def open(
        self, path: str, expected: FileStat, start: int = 0, stop: int | None = None
    ) -> OpenFile:
        """Open exactly the version ``expected``; raise FileChanged otherwise, before
        anything is read. ``start``/``stop``: the bytes the caller will read first
        (a Range), which a remote backend can ask for in the same request."""
        ...

    async def open_current(self, path: str) -> OpenFile | None:
        """Open whatever version is at ``path`` now (None if no file is there).

        The fallback when ``open`` found the file replaced since its stat: what is
        read is pinned to the version opened, so a reader never loses a race
        against a writer, however often the path is replaced.
        """
        ...

    async def content_hash(
        self, path: str, expected: FileStat, opened: OpenFile | None = None
    ) -> str:
        """Hex digest of the bytes of version ``expected`` (raise FileChanged if
        the file is no longer that version). Computed once per version; from
        ``opened`` when given (a version ``open_current`` pinned)."""
        ...

    async def create(self, path: str, content_type: str | None = None) -> Writer:
        """Start writing the file ``path`` (raise StorageConflict if it cannot be one).

        ``content_type`` is what a store that keeps one per object (S3) keeps; the
        caller names it, storage knowing nothing of media types. None:
        ``application/octet-stream``. The filesystem keeps none and ignores it.
        """
        ...

    async def delete(self, path: str) -> bool:
        """Remove the file; False if there was none."""
        ...

    async def ready(self) -> bool:
        """Whether the storage can be reached (a cheap check, for /readyz)."""
        ...

    async def writable(self) -> bool:
        """Whether uploads can be stored (a cheap check, for /readyz)."""
        ...

    def close(self) -> None:
        """A clean shutdown: leave nothing of this process's own behind."""
        ...

    async def list(self, folder: str) -> list[tuple[str, FileStat]]:
        """The files directly in ``folder`` ("" for the root), by name; dot-files left out."""
        ...

    async def names(self, folder: str) -> FolderNames:
        """The names of the files and folders directly in ``folder``, without a stat
        of each: a file listed may be gone by its stat (ask ``stat``)."""
        ...
