"""An upload to a local folder: spooled in the upload area, then renamed into place."""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from storage.base import FileStat, StorageConflict
from storage.filesystem_file import file_version
from storage.spool import SpoolWriter, write_errors


class FilesystemWriter(SpoolWriter):
    """Bytes go to a file in the upload area, hashed as they pass; ``commit`` renames
    it into place only after fsync, so readers see the old file or the new one,
    whole, and never a part."""

    def __init__(
        self,
        path: str,
        local_path: Path,
        file: Any,
        target: Path,
        record_hash: Callable[[Hashable, str], None],
    ) -> None:
        """``target``: where the file goes; ``record_hash``: told the digest of the
        version committed, which then need not be read again."""
        super().__init__(path, local_path, file)
        self._target = target
        self._record_hash = record_hash

    async def finish(self) -> None:
        """Flush and fsync: the bytes are on disk before anyone can see them."""
        if not self._file.closed:
            with write_errors(f"/{self.path}"):
                await self._file.flush()
                await asyncio.to_thread(os.fsync, self._file.fileno())
                await self._file.close()

    async def commit(self) -> tuple[FileStat, bool]:
        """Rename into place; the answer describes the version *this* upload wrote.

        The stat comes from a descriptor held on the uploaded inode across the
        rename, never from the path afterwards: by then a concurrent upload may
        have replaced it, and its bytes would be recorded under our digest.
        """
        await self.finish()
        fd = os.open(self.local_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            try:
                with write_errors(f"/{self.path}"):
                    replaced = await asyncio.to_thread(_place, self.local_path, self._target)
            except (NotADirectoryError, FileExistsError, IsADirectoryError) as error:
                await self.abort()
                raise StorageConflict(f"/{self.path}: {error.strerror}") from None
            except BaseException:
                await self.abort()
                raise
            st = os.fstat(fd)  # after the rename, which changes ctime
        finally:
            os.close(fd)
        stat = FileStat(size=st.st_size, mtime=st.st_mtime, version=file_version(st))
        self._record_hash(stat.version, self.digest)
        return stat, replaced


def _place(source: Path, target: Path) -> bool:
    """Rename into place (making folders as needed); whether a file was replaced."""
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "a folder is there", str(target))
    replaced = target.is_file()
    for attempt in range(3):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
            break
        except FileNotFoundError:
            # A DELETE removed the folder, now empty, between our mkdir and rename.
            if attempt == 2:
                raise
    directory = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
    return replaced


def remove_empty_folders(root: str, path: str) -> None:
    """The folders a DELETE of ``path`` left empty go too, up to (never including)
    ``root``, as an object store shows it: a folder exists while something is in it."""
    parts = path.split("/")[:-1]
    while parts:
        try:
            os.rmdir(f"{root}/{'/'.join(parts)}")
        except OSError:
            return  # not empty (or not ours to remove): stop climbing
        parts.pop()
