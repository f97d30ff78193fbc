"""``Storage.names``: what is directly in a folder, by name, from one directory
read (the filesystem) or every page of a delimited listing (S3, moto's server);
the same answer from both backends, dot-names (the origin's own records)
left out, and every page of an S3 listing read."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from storage.base import FolderNames
from storage.filesystem import FilesystemStorage
from storage.s3 import S3Storage
from tests.helpers.s3 import new_bucket

LAYOUT = {
    "promo.jpg": b"\xff\xd8\xff",
    "b.pdf": b"%PDF-1.4",
    ".hidden.txt": b"x",
    "campaigns/may/clip.mp4": b"mp4",
    "campaigns/june.png": b"png",
    "voice/note.ogg": b"ogg",
    ".media-origin/records/x": b"{}",
}


@pytest.fixture(params=["filesystem", "s3"])
def stored(request, tmp_path):
    """``stored(layout)``: a storage holding those files, keyed by path."""

    def make(layout: dict[str, bytes]):
        if request.param == "filesystem":
            for path, body in layout.items():
                (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / path).write_bytes(body)
            return FilesystemStorage(tmp_path)
        bucket = new_bucket(request.getfixturevalue("s3_endpoint"))
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda item: bucket.put(*item), layout.items()))
        return S3Storage(bucket.name, endpoint_url=bucket.endpoint.url, region="us-east-1")

    return make


def test_a_folder_names_its_files_and_folders_sorted_without_dot_names(stored):
    storage = stored(LAYOUT)
    assert asyncio.run(storage.names("")) == FolderNames(
        ("b.pdf", "promo.jpg"), ("campaigns", "voice")
    )
    assert asyncio.run(storage.names("campaigns")) == FolderNames(("june.png",), ("may",))
    assert asyncio.run(storage.names("campaigns/may")) == FolderNames(("clip.mp4",), ())
    assert asyncio.run(storage.names("nothing/here")) == FolderNames((), ())


def test_list_agrees_with_names_on_the_files(stored):
    storage = stored(LAYOUT)
    listed = asyncio.run(storage.list(""))
    assert [name for name, _ in listed] == list(asyncio.run(storage.names("")).files)
    assert [stat.size for _, stat in listed] == [8, 3]


def test_every_page_of_a_listing_is_read(s3_endpoint):
    """S3 answers at most 1,000 keys a page; the pages after the first are read
    too. Shown with pages of 2 (moto takes about 20 ms a put: 1,001 keys would
    cost 20 s for the same loop), folders and keys spread over several pages."""
    bucket = new_bucket(s3_endpoint)
    keys = [f"many/file-{n}.jpg" for n in range(7)] + [f"many/sub-{n}/x.jpg" for n in range(3)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: bucket.put(key, b"j"), keys))
    storage = S3Storage(bucket.name, endpoint_url=bucket.endpoint.url, region="us-east-1")
    files, folders = asyncio.run(storage.calls.folder("many/", page_size=2))
    assert sorted(files) == [f"file-{n}.jpg" for n in range(7)]
    assert sorted(folders) == [f"sub-{n}" for n in range(3)]
    assert asyncio.run(storage.names("many")).files == tuple(sorted(files))
