"""Records on both backends: written whole, read back, and created only once —
of many writers racing for one name (threads on a disk, instances on a bucket
through moto's server), exactly one wins and every reader sees its bytes."""

import asyncio

import pytest

from storage.records import FilesystemRecords
from storage.s3 import S3Storage
from tests.helpers.s3 import new_bucket


@pytest.fixture(params=["filesystem", "s3"])
def records(request, tmp_path):
    if request.param == "filesystem":
        return lambda: FilesystemRecords(tmp_path)
    bucket = new_bucket(request.getfixturevalue("s3_endpoint"))

    def on_bucket():
        return S3Storage(
            bucket.name, endpoint_url=bucket.endpoint.url, region="us-east-1", timeout=5
        ).records

    return on_bucket


def test_a_record_is_written_read_and_deleted(records):
    async def scenario():
        store = records()
        assert await store.read("a/b.json") is None
        await store.write("a/b.json", b'{"x": 1}')
        assert await store.read("a/b.json") == b'{"x": 1}'
        await store.delete("a/b.json")
        return await store.read("a/b.json")

    assert asyncio.run(scenario()) is None


def test_of_writers_racing_to_create_one_name_exactly_one_wins(records):
    async def scenario():
        stores = [records() for _ in range(8)]  # eight instances (or threads) at once
        won = await asyncio.gather(
            *(
                store.create("ids/k.json", f'{{"writer": {n}}}'.encode())
                for n, store in enumerate(stores)
            )
        )
        return won, await stores[0].read("ids/k.json")

    won, stored = asyncio.run(scenario())
    assert won.count(True) == 1
    assert stored == f'{{"writer": {won.index(True)}}}'.encode()


def test_create_never_replaces(records):
    async def scenario():
        store = records()
        first = await store.create("k.json", b"1")
        second = await store.create("k.json", b"2")
        return first, second, await store.read("k.json")

    assert asyncio.run(scenario()) == (True, False, b"1")


def test_names_lists_a_folders_records_at_any_depth(records):
    async def scenario():
        store = records()
        for name in ("ids/a/1.json", "ids/b/2.json", "jobs/x.json"):
            await store.write(name, b"{}")
        return await store.names("ids"), await store.names("none")

    assert asyncio.run(scenario()) == (["ids/a/1.json", "ids/b/2.json"], [])


def test_a_file_where_the_folder_should_be_is_an_error_not_a_lost_race(tmp_path):
    """A 'False' would tell the webhook the status was kept by someone else: it
    would answer 200 and Meta would never deliver the status again."""
    records = FilesystemRecords(tmp_path)
    (tmp_path / ".media-origin/whatsapp").mkdir(parents=True)
    (tmp_path / ".media-origin/whatsapp/statuses").write_text("not a folder")
    with pytest.raises(OSError):
        asyncio.run(records.create("whatsapp/statuses/a.json", b"{}"))
