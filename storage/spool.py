"""An upload's bytes on their way: written to a local file and hashed as they
pass, so that the digest costs no second read. Backends add how the file is
made visible (``commit``)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiofiles

from storage.base import StorageFull, StorageReadOnly

HASH_ALGORITHM = "sha256"
HASH_HEX_LENGTH = 32  # 128 bits, the length of an S3 ETag

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


@contextlib.contextmanager
def write_errors(what: str) -> Iterator[None]:
    """Name the two storage failures an uploader can act on: no room left, or no
    writes taken. Any other OSError stays what it is."""
    try:
        yield
    except OSError as error:
        if error.errno in _FULL:
            raise StorageFull(f"no space left to store {what}") from None
        if error.errno in _READ_ONLY:
            raise StorageReadOnly(f"storage is read-only: {what} cannot be written") from None
        raise


async def open_spool(path: str, local_path: Path) -> Any:
    """The local file an upload of ``path`` is written to, opened for writing."""
    with write_errors(f"/{path}"):
        return await aiofiles.open(local_path, "wb")


class SpoolWriter:
    """What both backends' writers share; each is given what its ``commit`` needs
    by its constructor."""

    def __init__(self, path: str, local_path: Path, file: Any) -> None:
        """``file``: ``local_path`` opened by ``open_spool``."""
        self.path = path
        self.local_path = local_path
        self.size = 0
        self._file = file
        self._hash = hashlib.new(HASH_ALGORITHM)

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()[:HASH_HEX_LENGTH]

    async def write(self, data: bytes) -> None:
        with write_errors(f"/{self.path}"):
            await self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    async def abort(self) -> None:
        with contextlib.suppress(OSError):
            await self._file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.local_path)
