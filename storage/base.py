"""The storage interface: the few questions the HTTP layer asks of a backend.

Paths are relative, ``/``-separated and already checked by the origin (no empty,
``.``, ``..`` or dot segments); a backend still refuses anything that would
resolve outside its root.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Hashable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class FileStat:
    size: int
    mtime: float  # seconds since the epoch
    # Equal versions mean equal bytes. Backends pick what proves it cheaply:
    # the filesystem uses (device, inode, size, mtime_ns, ctime_ns).
    version: Hashable


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


class Storage(Protocol):
    async def stat(self, path: str) -> FileStat | None:
        """The regular file at ``path``, or None when there is none to serve."""
        ...

    async def open(self, path: str, expected: FileStat) -> OpenFile:
        """Open exactly the version ``expected``; raise FileChanged otherwise."""
        ...

    async def content_hash(self, path: str, expected: FileStat) -> str:
        """Hex digest of the bytes of version ``expected`` (raise FileChanged if
        the file is no longer that version). Computed once per version."""
        ...
