"""An upload to S3: spooled to a local file, then put with its hash and mtime."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.base import FileStat
from storage.s3_file import Superseded
from storage.spool import SpoolWriter

if TYPE_CHECKING:
    from storage.s3 import S3Storage


class S3Writer(SpoolWriter):
    """An upload spooled to a local file (the rules check the whole file before
    anything is published), then put with its hash and mtime as metadata; S3
    shows an object only once its PutObject or multipart upload completes."""

    def __init__(
        self, path: str, local_path: Path, file: Any, storage: S3Storage, content_type: str
    ) -> None:
        super().__init__(path, local_path, file)
        self._storage = storage
        self._content_type = content_type

    async def finish(self) -> None:
        if not self._file.closed:
            await self._file.close()

    async def commit(self) -> tuple[FileStat, bool]:
        await self.finish()
        storage = self._storage
        storage.forget(self.path)
        try:
            replaced = await storage.stat(self.path) is not None
            await storage.calls.upload(
                self.local_path,
                storage.calls.key(self.path),
                {
                    "ContentType": self._content_type,
                    "Metadata": {"sha256": self.digest, "mtime": f"{time.time():.3f}"},
                },
            )
            storage.forget(self.path)
            stat = await storage.stat(self.path)
        finally:
            await self.abort()
        if stat is None or storage.digest_of(stat) != self.digest:
            # A concurrent upload replaced ours before the HEAD: describe our own
            # bytes under a version that matches no stored object.
            stat = FileStat(size=self.size, mtime=time.time(), version=Superseded(self.digest))
        return stat, replaced
