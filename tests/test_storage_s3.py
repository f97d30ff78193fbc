"""The S3 backend against moto's server: ``open`` keeps the ``Storage.open``
contract (exactly the version stat'ed, or FileChanged), and a FileChanged
never leaves a stale stat behind in the metadata cache."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from storage.base import FileChanged
from storage.s3 import S3Storage
from tests.helpers.s3 import new_bucket

OLD = b"\xff\xd8\xff\xe0" + b"old bytes " * 40_000  # ~400 KB: more than one chunk
NEW = b"\xff\xd8\xff\xe0" + b"NEW BYTES, longer " * 30_000


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.fixture
def bucket(s3_endpoint):
    return new_bucket(s3_endpoint)


def storage_on(bucket, metadata_ttl: float = 60.0) -> S3Storage:
    """A long metadata_ttl: only a forget can make a stat see a replacement."""
    return S3Storage(
        bucket.name,
        endpoint_url=bucket.endpoint.url,
        region="us-east-1",
        metadata_ttl=metadata_ttl,
        timeout=5,
    )


def test_open_refuses_a_version_replaced_since_its_stat_and_forgets_it(bucket):
    bucket.put("clip.jpg", OLD)
    storage = storage_on(bucket)

    async def scenario():
        old = await storage.stat("clip.jpg")
        assert old is not None and old.size == len(OLD)
        bucket.put("clip.jpg", NEW)  # another tool, behind the cache's back
        with pytest.raises(FileChanged):
            await storage.open("clip.jpg", old)
        new = await storage.stat("clip.jpg")  # not the stale one for 60 s
        assert new is not None and new.version != old.version and new.size == len(NEW)
        opened = await storage.open("clip.jpg", new)
        try:
            return await opened.read(0, new.size)
        finally:
            opened.close()

    try:
        assert run(scenario()) == NEW
    finally:
        storage.close()


def test_open_of_a_deleted_object_raises_and_the_stat_says_it_is_gone(bucket):
    bucket.put("gone.jpg", OLD)
    storage = storage_on(bucket)

    async def scenario():
        old = await storage.stat("gone.jpg")
        bucket.s3.delete_object(Bucket=bucket.name, Key="gone.jpg")
        with pytest.raises(FileChanged):
            await storage.open("gone.jpg", old)
        return await storage.stat("gone.jpg")

    try:
        assert run(scenario()) is None
    finally:
        storage.close()


def test_the_version_opened_is_read_whole_and_a_later_replace_is_a_file_changed(bucket):
    """What ``open`` confirmed is what the first read gets; a read asked of the
    store later meets the replacement, raises, and forgets the stale stat."""
    bucket.put("clip.jpg", OLD)
    storage = storage_on(bucket)

    async def scenario():
        old = await storage.stat("clip.jpg")
        opened = await storage.open("clip.jpg", old)
        try:
            bucket.put("clip.jpg", NEW)
            first = b"".join([bytes(chunk) async for chunk in opened.chunks(0, len(OLD))])
            with pytest.raises(FileChanged):
                await opened.read(10, 20)  # a new GET, If-Match'ed on the old ETag
        finally:
            opened.close()
        return first, await storage.stat("clip.jpg")

    try:
        first, new = run(scenario())
    finally:
        storage.close()
    assert first == OLD
    assert new is not None and new.size == len(NEW)


def test_a_range_further_in_is_read_from_the_version_opened(bucket):
    bucket.put("clip.jpg", OLD)
    storage = storage_on(bucket)

    async def scenario():
        opened = await storage.open("clip.jpg", await storage.stat("clip.jpg"))
        try:
            return await opened.read(300_000, 300_100)
        finally:
            opened.close()

    try:
        assert run(scenario()) == OLD[300_000:300_100]
    finally:
        storage.close()


@pytest.mark.parametrize(
    ("given", "stored"),
    [("image/jpeg", "image/jpeg"), (None, "application/octet-stream")],
)
def test_the_caller_names_the_content_type_of_an_upload(bucket, given, stored):
    """storage/ knows nothing of media types: the upload API says which."""
    storage = storage_on(bucket)

    async def scenario():
        writer = await storage.create("up.jpg", content_type=given)
        await writer.write(OLD)
        return await writer.commit()

    try:
        stat, replaced = run(scenario())
    finally:
        storage.close()
    head = bucket.s3.head_object(Bucket=bucket.name, Key="up.jpg")
    assert head["ContentType"] == stored and not replaced
    assert stat.size == len(OLD)
    assert head["Metadata"]["sha256"] == hashlib.sha256(OLD).hexdigest()[:32]


def test_a_ranged_open_reads_its_range_and_refuses_a_replaced_version(bucket):
    """``open(..., start, stop)``: the If-Match'ed GET asks for the range alone (a
    player's Range costs one request), serves exactly those bytes, and a later
    read elsewhere in the file still gets the same version's bytes."""
    bucket.put("clip.jpg", OLD)
    storage = storage_on(bucket)

    async def scenario():
        stat = await storage.stat("clip.jpg")
        opened = await storage.open("clip.jpg", stat, 300_000, 300_100)
        try:
            part = b"".join([chunk async for chunk in opened.chunks(300_000, 300_100)])
            head = await opened.read(0, 10)
        finally:
            opened.close()
        bucket.put("clip.jpg", NEW)
        with pytest.raises(FileChanged):
            await storage.open("clip.jpg", stat, 5, 10)
        return part, head

    try:
        part, head = run(scenario())
    finally:
        storage.close()
    assert part == OLD[300_000:300_100]
    assert head == OLD[:10]
