"""Reading one version of a local file: opened safely, read without blocking the
event loop on cached data, and checked after every read for a rewrite in place.
What proves a version is here too, since reads and stats must agree on it."""

from __future__ import annotations

import asyncio
import errno
import os
import stat as stat_module
from collections.abc import AsyncGenerator, Hashable

from storage.base import FileChanged, FileStat, StorageUnavailable

# Bodies are read in chunks of this size: large enough that a 16 MB video costs
# 64 reads, small enough that 32 parallel downloads hold 8 MiB of buffers.
CHUNK_SIZE = 256 * 1024


# What an absent file looks like to stat/open: a 404. Any other error (EACCES,
# EIO, ESTALE, ...) means the storage is failing, which is a 503, never a 404
# that a CDN or Meta would remember.
# ENXIO: a FIFO opened non-blocking for writing, or a device with nothing behind it.
ABSENT = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP, errno.EISDIR, errno.ENXIO}
)
# Opened non-blocking: a FIFO (or device) swapped in at a served path must never
# block the event loop in open(); fstat then refuses anything but a regular file.
_OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK


def file_version(st: os.stat_result) -> Hashable:
    """(device, inode, size, mtime_ns, ctime_ns): any write changes ctime, a replace the inode."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def rewritten(st: os.stat_result, version: Hashable) -> bool:
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


def failing(path: str, error: OSError) -> StorageUnavailable:
    return StorageUnavailable(f"/{path}: {error.strerror or error}")


def open_regular(full: str, path: str) -> tuple[int, os.stat_result]:
    """An open descriptor and its fstat, of a regular file only.

    Raises FileChanged when nothing servable is there (absent, or not a regular
    file: the caller stats again and answers 404), StorageUnavailable when the
    storage fails.
    """
    try:
        fd = os.open(full, _OPEN_FLAGS)
    except OSError as error:
        if error.errno in ABSENT:
            raise FileChanged(path) from None
        raise failing(path, error) from None
    try:
        st = os.fstat(fd)
    except OSError as error:
        os.close(fd)
        raise failing(path, error) from None
    if not stat_module.S_ISREG(st.st_mode):
        os.close(fd)
        raise FileChanged(path)
    return fd, st


_NOWAIT = getattr(os, "RWF_NOWAIT", None)


def read_cached(fd: int, size: int, offset: int) -> bytearray | None:
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
        chunk = read_cached(self.fd, size, start)
        if chunk is None:
            chunk = await asyncio.get_running_loop().run_in_executor(
                None, os.pread, self.fd, size, start
            )
        if len(chunk) != size:
            # Truncated under us: fail, so the server cuts the connection
            # instead of leaving the client waiting for bytes that never come.
            raise FileChanged("file shrank while it was being sent")
        if rewritten(os.fstat(self.fd), self.stat.version):
            raise FileChanged("file was rewritten while it was being sent")
        return chunk

    async def chunks(self, start: int, stop: int) -> AsyncGenerator[bytes, None]:
        for offset in range(start, stop, CHUNK_SIZE):
            yield await self.read(offset, min(offset + CHUNK_SIZE, stop))

    def close(self) -> None:
        os.close(self.fd)
