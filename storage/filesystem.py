"""A folder on a local disk as storage.

Per request this costs one ``stat`` (a 304 or HEAD) or ``open`` + ``fstat`` +
reads (a GET): no hashing, and no thread hop for data the page cache holds. What is expensive
is done once per file version, keyed by (device, inode, size, mtime_ns,
ctime_ns): any write changes ctime and an atomic replace changes the inode, so
a replaced file is never served with the old validators.
"""

from __future__ import annotations

import asyncio
import os
import stat as stat_module
from collections.abc import Hashable
from functools import partial
from pathlib import Path

from storage.base import (
    FileChanged,
    FileStat,
    FolderNames,
    StorageConflict,
    StorageUnavailable,
)
from storage.bounded import remember
from storage.filesystem_file import (
    ABSENT,
    CHUNK_SIZE,
    FilesystemFile,
    failing,
    file_version,
    open_regular,
)
from storage.filesystem_hashes import MAX_REMEMBERED, ContentHashes, hash_descriptor
from storage.filesystem_writer import FilesystemWriter, remove_empty_folders
from storage.hash_index import HashIndex
from storage.records import FilesystemRecords
from storage.spool import open_spool, write_errors
from storage.uploads import UploadArea

__all__ = ["CHUNK_SIZE", "FilesystemFile", "FilesystemStorage", "FilesystemWriter"]


class FilesystemStorage:
    def __init__(
        self,
        root: str | os.PathLike[str],
        index: HashIndex | None = None,
        diagnostic: bool = False,
    ) -> None:
        """``diagnostic``: for a command that only looks (``explain``), which must
        leave the root as it found it: no orphan uploads removed (a running server
        may be writing them), no hash index created; hashes are kept in memory."""
        self.root = os.path.realpath(root)
        if index is None:
            index = HashIndex(None) if diagnostic else HashIndex.for_root(self.root)
        self.index = index
        self.uploads = UploadArea(self.root)
        self.records = FilesystemRecords(self.root)
        if not diagnostic:
            self.uploads.remove_orphans()  # what a crashed process was writing
        # Paths checked to resolve inside the root, with the version checked.
        self._known: dict[str, FileStat] = {}
        self.hashes = ContentHashes(self.index)

    def _full_path(self, path: str) -> str:
        return f"{self.root}/{path}"

    async def stat(self, path: str) -> FileStat | None:
        full = self._full_path(path)
        try:
            st = os.stat(full)
        except ValueError:  # a NUL in the name: nothing can be there
            return None
        except OSError as error:
            if error.errno in ABSENT:
                return None
            raise failing(path, error) from None
        if not stat_module.S_ISREG(st.st_mode):
            return None
        version = file_version(st)
        known = self._known.get(path)
        if known is not None and known.version == version:
            return known  # the common case: no new object, no containment check
        if not _inside_root(self.root, full):
            return None
        known = FileStat(size=st.st_size, mtime=st.st_mtime, version=version)
        remember(self._known, path, known, MAX_REMEMBERED)
        return known

    async def open(
        self, path: str, expected: FileStat, start: int = 0, stop: int | None = None
    ) -> FilesystemFile:
        return FilesystemFile(self._open_version(path, expected), expected)

    def _open_version(self, path: str, expected: FileStat) -> int:
        """A descriptor on exactly the version ``expected``, or FileChanged."""
        fd, st = open_regular(self._full_path(path), path)
        if file_version(st) != expected.version:
            os.close(fd)
            raise FileChanged(path)
        return fd

    async def open_current(self, path: str) -> FilesystemFile | None:
        full = self._full_path(path)
        try:
            fd, st = open_regular(full, path)
        except FileChanged:
            return None
        if not _inside_root(self.root, full):
            os.close(fd)
            return None
        stat = FileStat(size=st.st_size, mtime=st.st_mtime, version=file_version(st))
        return FilesystemFile(fd, stat)

    async def content_hash(
        self, path: str, expected: FileStat, opened: FilesystemFile | None = None
    ) -> str:
        fd = opened.fd if opened is not None else None
        compute = partial(self._hash_file, path, expected, fd)
        return await self.hashes.get(expected.version, compute, pinned=opened is not None)

    def _hash_file(self, path: str, expected: FileStat, pinned: int | None = None) -> str:
        """In a worker thread: from ``pinned`` (a descriptor ``open_current`` holds on
        the version) or from the path, if it is still that version."""
        if pinned is not None:
            fd = os.dup(pinned)  # its own descriptor: the caller's stays open
            os.lseek(fd, 0, os.SEEK_SET)
        else:
            fd = self._open_version(path, expected)
        digest = hash_descriptor(fd, expected.version, path)
        self.index.put(expected.version, digest)
        return digest

    async def ready(self) -> bool:
        """Whether the root can really be listed and entered, not merely exists: a root
        that lost its permissions or its mount answers every GET with a 503."""
        try:
            with os.scandir(self.root) as entries:
                next(entries, None)
            os.stat(self.root + "/.")
        except OSError:
            return False
        return True

    def record_hash(self, version: Hashable, digest: str) -> None:
        """A hash computed while the bytes were written: no need to read them again."""
        self.hashes.record(version, digest)

    async def create(self, path: str, content_type: str | None = None) -> FilesystemWriter:
        """``content_type`` is ignored: a file keeps none (its name says it)."""
        target = self._full_path(path)
        if os.path.isdir(target):
            raise StorageConflict(f"/{path} is a folder")
        with write_errors(f"/{path}"):
            local_path = self.uploads.new_path()
        file = await open_spool(path, local_path)
        return FilesystemWriter(path, local_path, file, Path(target), self.record_hash)

    async def delete(self, path: str) -> bool:
        if await self.stat(path) is None:
            return False
        try:
            with write_errors(f"/{path}"):
                os.unlink(self._full_path(path))
        except FileNotFoundError:
            return False
        self._known.pop(path, None)
        remove_empty_folders(self.root, path)
        return True

    async def writable(self) -> bool:
        """access(2) answers for this process, and says EROFS for a read-only mount
        even to root."""
        return os.access(self.root, os.W_OK | os.X_OK)

    def close(self) -> None:
        self.uploads.close()

    async def list(self, folder: str) -> list[tuple[str, FileStat]]:
        found = []
        for name in _folder_names(self._full_path(folder) if folder else self.root, folder).files:
            try:
                stat = await self.stat(f"{folder}/{name}" if folder else name)
            except StorageUnavailable:
                continue  # a link into a folder that cannot be read: nothing to describe
            if stat is not None:
                found.append((name, stat))
        return found

    async def names(self, folder: str) -> FolderNames:
        directory = self._full_path(folder) if folder else self.root
        return await asyncio.to_thread(_folder_names, directory, folder)


def _folder_names(directory: str, folder: str) -> FolderNames:
    """The files (regular) and folders in a directory, not hidden, sorted: one
    directory read, with the entry types it returns (a stat only for a symlink)."""
    files, folders = [], []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if _is_file(entry):
                    files.append(entry.name)
                elif _is_folder(entry):
                    folders.append(entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return FolderNames((), ())
    except OSError as error:  # the folder itself cannot be read: a 503
        raise failing(folder or ".", error) from None
    return FolderNames(tuple(sorted(files)), tuple(sorted(folders)))


def _inside_root(root: str, full: str) -> bool:
    """Whether symlinks resolve to a served file inside the root.

    Checked once per (path, version): a symlink retargeted elsewhere points
    at another inode, which is a new version and is checked again.
    """
    real = os.path.realpath(full)
    if not real.startswith(root + "/"):
        return False
    relative = real[len(root) + 1 :]
    return not any(segment.startswith(".") for segment in relative.split("/"))


def _is_file(entry: os.DirEntry[str]) -> bool:
    """is_file() follows a symlink, which may point into a folder that cannot be read."""
    try:
        return entry.is_file()
    except OSError:
        return False


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """A real folder only: a symlinked one may lead out of the root."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False
