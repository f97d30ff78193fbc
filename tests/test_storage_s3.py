"""The S3 backend against moto's server."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from storage.s3 import S3Storage
from tests.helpers.s3 import new_bucket

OLD = b"\xff\xd8\xff\xe0" + b"old bytes " * 40_000  # ~400 KB: more than one chunk


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
