"""An upload's bytes on their way: written to a local file and hashed as they
pass, so that the digest costs no second read. Backends add how the file is
made visible (``commit``)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import aiofiles

HASH_ALGORITHM = "sha256"
HASH_HEX_LENGTH = 32  # 128 bits, the length of an S3 ETag


class SpoolWriter:
    def __init__(self, path: str, local_path: Path, file) -> None:
        self.path = path
        self.local_path = local_path
        self.size = 0
        self._file = file
        self._hash = hashlib.new(HASH_ALGORITHM)

    @classmethod
    async def start(cls, path: str, local_path: Path, **extra):
        writer = cls(path, local_path, await aiofiles.open(local_path, "wb"))
        for name, value in extra.items():
            setattr(writer, name, value)
        return writer

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()[:HASH_HEX_LENGTH]

    async def write(self, data: bytes) -> None:
        await self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    async def abort(self) -> None:
        with contextlib.suppress(OSError):
            await self._file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.local_path)
