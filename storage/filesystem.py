"""A folder on a local disk as storage.

Per request this costs one ``stat`` (a 304 or HEAD) or ``open`` + ``fstat`` +
reads (a GET): no hashing, and no thread hop for data the page cache holds. What is expensive
is done once per file version, keyed by (device, inode, size, mtime_ns,
ctime_ns): any write changes ctime and an atomic replace changes the inode, so
a replaced file is never served with the old validators.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import stat as stat_module
from collections.abc import AsyncGenerator, Hashable
from pathlib import Path

from storage.base import FileChanged, FileStat, StorageConflict, StorageUnavailable
from storage.bounded import remember
from storage.hash_index import HashIndex
from storage.spool import HASH_ALGORITHM, HASH_HEX_LENGTH, SpoolWriter, write_errors
from storage.uploads import UploadArea

# Bodies are read in chunks of this size: large enough that a 16 MB video costs
# 64 reads, small enough that 32 parallel downloads hold 8 MiB of buffers.
CHUNK_SIZE = 256 * 1024
# Bounds on per-version memory; past them the oldest entries are forgotten.
MAX_REMEMBERED = 200_000


# What an absent file looks like to stat/open: a 404. Any other error (EACCES,
# EIO, ESTALE, ...) means the storage is failing, which is a 503, never a 404
# that a CDN or Meta would remember.
# ENXIO: a FIFO opened non-blocking for writing, or a device with nothing behind it.
_ABSENT = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP, errno.EISDIR, errno.ENXIO}
)
# Opened non-blocking: a FIFO (or device) swapped in at a served path must never
# block the event loop in open(); fstat then refuses anything but a regular file.
_OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK


def _version(st: os.stat_result) -> Hashable:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _rewritten(st: os.stat_result, version: Hashable) -> bool:
    """Whether an open file's bytes may no longer be those of ``version``.

    Every write changes the size or the mtime, and the ctime, which no one can
    set back (``utime`` can put an old mtime back after a same-size rewrite, as
    ``rsync --inplace -t`` does). A rename over the file or a delete changes the
    ctime too, with the bytes untouched: then the link count is 0, and the
    reader that holds the old inode goes on reading one whole version.
    """
    _, _, size, mtime_ns, ctime_ns = version  # type: ignore[misc]
    if st.st_size != size or st.st_mtime_ns != mtime_ns:
        return True
    return st.st_ctime_ns != ctime_ns and st.st_nlink > 0


def _failing(path: str, error: OSError) -> StorageUnavailable:
    return StorageUnavailable(f"/{path}: {error.strerror or error}")


def _open_regular(full: str, path: str) -> tuple[int, os.stat_result]:
    """An open descriptor and its fstat, of a regular file only.

    Raises FileChanged when nothing servable is there (absent, or not a regular
    file: the caller stats again and answers 404), StorageUnavailable when the
    storage fails.
    """
    try:
        fd = os.open(full, _OPEN_FLAGS)
    except OSError as error:
        if error.errno in _ABSENT:
            raise FileChanged(path) from None
        raise _failing(path, error) from None
    try:
        st = os.fstat(fd)
    except OSError as error:
        os.close(fd)
        raise _failing(path, error) from None
    if not stat_module.S_ISREG(st.st_mode):
        os.close(fd)
        raise FileChanged(path)
    return fd, st


class FilesystemStorage:
    def __init__(self, root: str | os.PathLike[str], index: HashIndex | None = None) -> None:
        self.root = os.path.realpath(root)
        self.index = index if index is not None else HashIndex.for_root(self.root)
        self.uploads = UploadArea(self.root)
        self.uploads.remove_orphans()  # what a crashed process was writing
        # Paths checked to resolve inside the root, with the version checked.
        self._known: dict[str, FileStat] = {}
        self._hashes: dict[Hashable, str] = {}
        self._hashing: dict[Hashable, asyncio.Future[str]] = {}

    def _full_path(self, path: str) -> str:
        return f"{self.root}/{path}"

    async def stat(self, path: str) -> FileStat | None:
        full = self._full_path(path)
        try:
            st = os.stat(full)
        except ValueError:  # a NUL in the name: nothing can be there
            return None
        except OSError as error:
            if error.errno in _ABSENT:
                return None
            raise _failing(path, error) from None
        if not stat_module.S_ISREG(st.st_mode):
            return None
        version = _version(st)
        known = self._known.get(path)
        if known is not None and known.version == version:
            return known  # the common case: no new object, no containment check
        if not self._inside_root(full):
            return None
        known = FileStat(size=st.st_size, mtime=st.st_mtime, version=version)
        remember(self._known, path, known, MAX_REMEMBERED)
        return known

    def _inside_root(self, full: str) -> bool:
        """Whether symlinks resolve to a served file inside the root.

        Checked once per (path, version): a symlink retargeted elsewhere points
        at another inode, which is a new version and is checked again.
        """
        real = os.path.realpath(full)
        if not real.startswith(self.root + "/"):
            return False
        relative = real[len(self.root) + 1 :]
        return not any(segment.startswith(".") for segment in relative.split("/"))

    async def open(self, path: str, expected: FileStat) -> FilesystemFile:
        fd, st = _open_regular(self._full_path(path), path)
        if _version(st) != expected.version:
            os.close(fd)
            raise FileChanged(path)
        return FilesystemFile(fd, expected)

    async def open_current(self, path: str) -> FilesystemFile | None:
        full = self._full_path(path)
        try:
            fd, st = _open_regular(full, path)
        except FileChanged:
            return None
        if not self._inside_root(full):
            os.close(fd)
            return None
        stat = FileStat(size=st.st_size, mtime=st.st_mtime, version=_version(st))
        return FilesystemFile(fd, stat)

    async def content_hash(
        self, path: str, expected: FileStat, opened: FilesystemFile | None = None
    ) -> str:
        known = self._hashes.get(expected.version)
        if known is not None:
            return known
        known = self.index.get(expected.version)
        if known is not None:
            remember(self._hashes, expected.version, known, MAX_REMEMBERED)
            return known
        pending = self._hashing.get(expected.version)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except FileChanged:
                if opened is None:
                    raise
                # That computation read the path, which has moved on; this caller
                # holds the version open and can hash it from its descriptor.
        return await self._compute_hash(path, expected, opened)

    async def _compute_hash(
        self, path: str, expected: FileStat, opened: FilesystemFile | None
    ) -> str:
        """One computation per version, however many requests wait for it."""
        loop = asyncio.get_running_loop()
        fd = opened.fd if opened is not None else None
        pending = loop.run_in_executor(None, self._hash_file, path, expected, fd)
        self._hashing[expected.version] = pending
        try:
            digest = await asyncio.shield(pending)
        finally:
            if self._hashing.get(expected.version) is pending:
                del self._hashing[expected.version]
        remember(self._hashes, expected.version, digest, MAX_REMEMBERED)
        return digest

    def _hash_file(self, path: str, expected: FileStat, pinned: int | None = None) -> str:
        if pinned is not None:
            fd = os.dup(pinned)  # its own descriptor: the caller's stays open
            os.lseek(fd, 0, os.SEEK_SET)
        else:
            fd, st = _open_regular(self._full_path(path), path)
            if _version(st) != expected.version:
                os.close(fd)
                raise FileChanged(path)
        with open(fd, "rb") as file:
            digest = hashlib.file_digest(file, HASH_ALGORITHM).hexdigest()
            # Written to while we read? Then the digest is of no version at all.
            if _rewritten(os.fstat(file.fileno()), expected.version):
                raise FileChanged(path)
        digest = digest[:HASH_HEX_LENGTH]
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
        remember(self._hashes, version, digest, MAX_REMEMBERED)
        self.index.put(version, digest)

    async def create(self, path: str) -> FilesystemWriter:
        target = self._full_path(path)
        if os.path.isdir(target):
            raise StorageConflict(f"/{path} is a folder")
        with write_errors(f"/{path}"):
            local_path = self.uploads.new_path()
        return await FilesystemWriter.start(path, local_path, storage=self)

    async def delete(self, path: str) -> bool:
        if await self.stat(path) is None:
            return False
        try:
            with write_errors(f"/{path}"):
                os.unlink(self._full_path(path))
        except FileNotFoundError:
            return False
        self._known.pop(path, None)
        self._remove_empty_folders(path)
        return True

    def _remove_empty_folders(self, path: str) -> None:
        """The folders a DELETE left empty go too, up to (never including) the root,
        as an object store shows it: a folder exists while something is in it."""
        parts = path.split("/")[:-1]
        while parts:
            try:
                os.rmdir(self._full_path("/".join(parts)))
            except OSError:
                return  # not empty (or not ours to remove): stop climbing
            parts.pop()

    async def writable(self) -> bool:
        """access(2) answers for this process, and says EROFS for a read-only mount
        even to root."""
        return os.access(self.root, os.W_OK | os.X_OK)

    def close(self) -> None:
        self.uploads.close()

    async def list(self, folder: str) -> list[tuple[str, FileStat]]:
        directory = self._full_path(folder) if folder else self.root
        try:
            with os.scandir(directory) as entries:
                names = sorted(entry.name for entry in entries if _is_file(entry))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as error:  # the folder itself cannot be read: a 503
            raise _failing(folder or ".", error) from None
        found = []
        for name in names:
            if name.startswith("."):
                continue
            try:
                stat = await self.stat(f"{folder}/{name}" if folder else name)
            except StorageUnavailable:
                continue  # a link into a folder that cannot be read: nothing to describe
            if stat is not None:
                found.append((name, stat))
        return found


def _is_file(entry: os.DirEntry[str]) -> bool:
    """is_file() follows a symlink, which may point into a folder that cannot be read."""
    try:
        return entry.is_file()
    except OSError:
        return False


_NOWAIT = getattr(os, "RWF_NOWAIT", None)


def _read_cached(fd: int, size: int, offset: int) -> bytearray | None:
    """The bytes if the page cache holds them all, else None.

    ``preadv2(RWF_NOWAIT)`` never waits for the disk, so the event loop reads
    cached data itself (no thread round trip, ~100 µs saved per chunk) and only
    a cache miss goes to a worker thread: a slow disk never stalls other requests.
    """
    global _NOWAIT
    if _NOWAIT is None:
        return None
    buffer = bytearray(size)
    try:
        read = os.preadv(fd, [buffer], offset, _NOWAIT)
    except BlockingIOError:
        return None
    except OSError as error:
        if error.errno in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            _NOWAIT = None  # the kernel or filesystem cannot: threads from now on
        return None
    return buffer if read == size else None


class FilesystemWriter(SpoolWriter):
    """Bytes go to a file in the upload area, hashed as they pass; ``commit`` renames
    it into place only after fsync, so readers see the old file or the new one,
    whole, and never a part."""

    storage: FilesystemStorage

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
        target = Path(self.storage._full_path(self.path))
        fd = os.open(self.local_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            try:
                with write_errors(f"/{self.path}"):
                    replaced = await asyncio.to_thread(_place, self.local_path, target)
            except (NotADirectoryError, FileExistsError, IsADirectoryError) as error:
                await self.abort()
                raise StorageConflict(f"/{self.path}: {error.strerror}") from None
            except BaseException:
                await self.abort()
                raise
            st = os.fstat(fd)  # after the rename, which changes ctime
        finally:
            os.close(fd)
        stat = FileStat(size=st.st_size, mtime=st.st_mtime, version=_version(st))
        self.storage.record_hash(stat.version, self.digest)
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


class FilesystemFile:
    """An open file descriptor of one known version."""

    __slots__ = ("fd", "stat")

    def __init__(self, fd: int, stat: FileStat) -> None:
        self.fd = fd
        self.stat = stat

    async def read(self, start: int, stop: int) -> bytes:
        """Chunks are bytearrays, which uvicorn and granian take as they take bytes.

        Every read is followed by an fstat: a file rewritten in place (``cp`` over
        it, ``dd conv=notrunc``) keeps its inode, so only its size, mtime or ctime
        tell that these bytes may belong to another version. Then the read fails
        and the server cuts the connection: one whole version, never a mix.
        """
        size = stop - start
        chunk = _read_cached(self.fd, size, start)
        if chunk is None:
            chunk = await asyncio.get_running_loop().run_in_executor(
                None, os.pread, self.fd, size, start
            )
        if len(chunk) != size:
            # Truncated under us: fail, so the server cuts the connection
            # instead of leaving the client waiting for bytes that never come.
            raise FileChanged("file shrank while it was being sent")
        if _rewritten(os.fstat(self.fd), self.stat.version):
            raise FileChanged("file was rewritten while it was being sent")
        return chunk

    async def chunks(self, start: int, stop: int) -> AsyncGenerator[bytes, None]:
        for offset in range(start, stop, CHUNK_SIZE):
            yield await self.read(offset, min(offset + CHUNK_SIZE, stop))

    def close(self) -> None:
        os.close(self.fd)
