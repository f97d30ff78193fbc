"""The filesystem backend: one hash per file version, and never a byte of a
version other than the one the headers describe."""

import asyncio
import hashlib
import os

import pytest

from storage.base import FileChanged
from storage.filesystem import CHUNK_SIZE, FilesystemStorage


class CountingStorage(FilesystemStorage):
    """Counts real hash computations (the hashing itself is untouched)."""

    def __init__(self, root):
        super().__init__(root)
        self.computed = 0

    def _hash_file(self, path, expected, pinned=None):
        self.computed += 1
        return super()._hash_file(path, expected, pinned)


def run(coroutine):
    return asyncio.run(coroutine)


def test_hash_is_computed_once_per_version_however_many_ask(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x" * 3_000_000)
    storage = CountingStorage(tmp_path)

    async def scenario():
        stat = await storage.stat("a.mp4")
        digests = await asyncio.gather(*(storage.content_hash("a.mp4", stat) for _ in range(20)))
        again = await storage.content_hash("a.mp4", await storage.stat("a.mp4"))
        return digests, again

    digests, again = run(scenario())
    assert len(set(digests)) == 1 and again == digests[0]
    assert storage.computed == 1


def test_a_new_version_is_hashed_again(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"one")
    storage = CountingStorage(tmp_path)

    async def digest():
        return await storage.content_hash("a.txt", await storage.stat("a.txt"))

    first = run(digest())
    path.write_bytes(b"two")
    second = run(digest())
    assert first != second and storage.computed == 2


def test_open_refuses_a_version_other_than_the_one_stated(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"one")
    storage = FilesystemStorage(tmp_path)
    stat = run(storage.stat("a.txt"))
    path.write_bytes(b"two")
    with pytest.raises(FileChanged):
        run(storage.open("a.txt", stat))
    with pytest.raises(FileChanged):
        run(storage.content_hash("a.txt", stat))


def test_a_file_truncated_while_sent_raises_instead_of_sending_less(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * (3 * CHUNK_SIZE))
    storage = FilesystemStorage(tmp_path)

    async def scenario():
        opened = await storage.open("a.bin", await storage.stat("a.bin"))
        received = 0
        try:
            async for chunk in opened.chunks(0, 3 * CHUNK_SIZE):
                received += len(chunk)
                os.truncate(path, CHUNK_SIZE)
        finally:
            opened.close()
        return received

    with pytest.raises(FileChanged):
        run(scenario())


@pytest.mark.parametrize("name", ["folder", "missing.txt", "folder/missing.txt"])
def test_only_regular_files_exist(tmp_path, name):
    (tmp_path / "folder").mkdir()
    assert run(FilesystemStorage(tmp_path).stat(name)) is None


def test_data_not_in_the_page_cache_is_read_in_a_thread_all_the_same(tmp_path):
    """A cache miss must not be read in the event loop, and must still be read right."""
    from storage import filesystem_file

    data = os.urandom(3 * CHUNK_SIZE + 123)
    path = tmp_path / "cold.mp4"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # evict it
        cold = filesystem_file.read_cached(fd, CHUNK_SIZE, 0)
    finally:
        os.close(fd)
    if cold is not None:
        pytest.skip("this filesystem keeps the file cached (tmpfs?)")
    storage = FilesystemStorage(tmp_path)

    async def read_all():
        opened = await storage.open("cold.mp4", await storage.stat("cold.mp4"))
        try:
            return b"".join([bytes(chunk) async for chunk in opened.chunks(5, len(data))])
        finally:
            opened.close()

    assert run(read_all()) == data[5:]


def test_hashes_survive_a_restart(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x" * 1_000_000)

    async def digest(storage):
        return await storage.content_hash("a.mp4", await storage.stat("a.mp4"))

    first = CountingStorage(tmp_path)
    known = run(digest(first))
    restarted = CountingStorage(tmp_path)  # a new process would build exactly this
    assert run(digest(restarted)) == known
    assert (first.computed, restarted.computed) == (1, 0)
    assert run(FilesystemStorage(tmp_path).stat(".media-origin/hashes.sqlite3")) is None


def test_a_changed_file_is_not_answered_from_the_index(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"one")
    first = CountingStorage(tmp_path)
    stat = run(first.stat("a.txt"))
    run(first.content_hash("a.txt", stat))
    mtime_ns = os.stat(path).st_mtime_ns
    path.write_bytes(b"two")  # same size, and the mtime put back: only ctime tells
    os.utime(path, ns=(mtime_ns, mtime_ns))
    restarted = CountingStorage(tmp_path)
    changed = run(restarted.content_hash("a.txt", run(restarted.stat("a.txt"))))
    assert restarted.computed == 1
    assert changed != run(first.content_hash("a.txt", stat))


@pytest.mark.parametrize("spoil", ["folder is a file", "index is garbage"])
def test_an_unusable_index_falls_back_to_the_cache_folder(tmp_path, monkeypatch, spoil):
    from storage.hash_index import HashIndex

    root = tmp_path / "media"
    root.mkdir()
    if spoil == "folder is a file":
        (root / ".media-origin").write_text("not a folder")
    else:
        (root / ".media-origin").mkdir()
        (root / ".media-origin" / "hashes.sqlite3").write_bytes(b"garbage" * 1000)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    index = HashIndex.for_root(str(root))
    index.put(("v",), "abc")
    assert index.get(("v",)) == "abc"
    assert list((tmp_path / "cache" / "media-origin").glob("*.sqlite3"))


def test_without_any_index_hashing_still_works(tmp_path):
    from storage.hash_index import HashIndex

    (tmp_path / "a.txt").write_bytes(b"x")
    storage = FilesystemStorage(tmp_path, index=HashIndex(None))
    assert len(run(storage.content_hash("a.txt", run(storage.stat("a.txt"))))) == 32


def test_a_version_pinned_by_open_current_is_read_and_hashed_after_a_replace(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"first")
    storage = FilesystemStorage(tmp_path)

    async def scenario():
        opened = await storage.open_current("a.txt")
        (tmp_path / "b.txt").write_bytes(b"second!")
        os.replace(tmp_path / "b.txt", tmp_path / "a.txt")  # replaced after the open
        try:
            digest = await storage.content_hash("a.txt", opened.stat, opened)
            body = await opened.read(0, opened.stat.size)
        finally:
            opened.close()
        return digest, bytes(body)

    digest, body = run(scenario())
    assert body == b"first"
    assert digest == hashlib.sha256(b"first").hexdigest()[:32]
    assert run(storage.open_current("missing.txt")) is None
