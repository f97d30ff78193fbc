"""Content hashes of local files, computed once per file version however many
requests ask: remembered in memory, in the persistent index, and while one
computation runs every other request for that version waits for it."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable, Hashable

from storage.base import FileChanged
from storage.bounded import remember
from storage.filesystem_file import rewritten
from storage.hash_index import HashIndex
from storage.spool import HASH_ALGORITHM, HASH_HEX_LENGTH

# Bounds on per-version memory; past them the oldest entries are forgotten.
MAX_REMEMBERED = 200_000


class ContentHashes:
    def __init__(self, index: HashIndex) -> None:
        self.index = index
        self._hashes: dict[Hashable, str] = {}
        self._hashing: dict[Hashable, asyncio.Future[str]] = {}

    def record(self, version: Hashable, digest: str) -> None:
        """A hash computed while the bytes were written: no need to read them again."""
        remember(self._hashes, version, digest, MAX_REMEMBERED)
        self.index.put(version, digest)

    async def get(self, version: Hashable, compute: Callable[[], str], pinned: bool) -> str:
        """The digest of ``version``; ``compute`` (run in a thread) reads it if no one
        knows it. ``pinned``: ``compute`` reads a descriptor held on the version, not
        the path, so it may succeed where a computation from the path failed."""
        known = self._hashes.get(version)
        if known is not None:
            return known
        known = self.index.get(version)
        if known is not None:
            remember(self._hashes, version, known, MAX_REMEMBERED)
            return known
        pending = self._hashing.get(version)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except FileChanged:
                if not pinned:
                    raise
                # That computation read the path, which has moved on; this caller
                # holds the version open and can hash it from its descriptor.
        return await self._compute(version, compute)

    async def _compute(self, version: Hashable, compute: Callable[[], str]) -> str:
        """One computation per version, however many requests wait for it."""
        pending = asyncio.get_running_loop().run_in_executor(None, compute)
        self._hashing[version] = pending
        try:
            digest = await asyncio.shield(pending)
        finally:
            if self._hashing.get(version) is pending:
                del self._hashing[version]
        remember(self._hashes, version, digest, MAX_REMEMBERED)
        return digest


def hash_descriptor(fd: int, version: Hashable, path: str) -> str:
    """The digest of the open file ``fd`` (closed after), which must be ``version``
    from its first byte read to its last: raise FileChanged if it was rewritten."""
    with open(fd, "rb") as file:
        digest = hashlib.file_digest(file, HASH_ALGORITHM).hexdigest()
        # Written to while we read? Then the digest is of no version at all.
        if rewritten(os.fstat(file.fileno()), version):
            raise FileChanged(path)
    return digest[:HASH_HEX_LENGTH]
