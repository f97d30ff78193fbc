"""Scaling out on one bucket: identical validators from every instance, and
store failures answered as 503, never as 404 or a hang."""

import hashlib
import time

import pytest

from tests.helpers.s3 import S3Endpoint, new_bucket
from tests.helpers.servers import start_server, write_config

TOKEN = "s3-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
API = '[api]\ntoken_env = "S3_TEST_TOKEN"\n'


def test_two_instances_on_one_bucket_agree(tmp_path, s3_endpoint):
    bucket = new_bucket(s3_endpoint)
    bucket.put("campaigns/tool.jpg", b"\xff\xd8\xff\xe0put by another tool")
    servers = []
    for name in ("one", "two"):
        directory = tmp_path / name
        directory.mkdir()
        config = write_config(directory, API, bucket=bucket)
        servers.append(
            start_server(config, directory, env={"S3_TEST_TOKEN": TOKEN}, server="granian")
        )
    try:
        one, two = (server.client() for server in servers)
        with one, two:
            pdf = b"%PDF-1.4\n% uploaded through instance one\n%%EOF\n"
            assert one.put("/docs/menu.pdf", content=pdf, headers=AUTH).status_code == 201
            for path in ("/docs/menu.pdf", "/campaigns/tool.jpg"):
                first, second = one.get(path), two.get(path)
                assert first.status_code == second.status_code == 200
                assert first.content == second.content
                assert first.headers["etag"] == second.headers["etag"]
                assert first.headers["last-modified"] == second.headers["last-modified"]
            assert two.get("/docs/menu.pdf").content == pdf
    finally:
        for server in servers:
            server.stop()


def test_a_store_that_goes_away_gives_503_then_recovers(tmp_path):
    endpoint = S3Endpoint()
    endpoint.start()
    try:
        bucket = new_bucket(endpoint)
        bucket.put("a.jpg", b"\xff\xd8\xff\xe0first")
        config = write_config(tmp_path, "", bucket=bucket)
        with start_server(config, tmp_path) as server, server.client() as http:
            assert http.get("/a.jpg").status_code == 200
            endpoint.stop()
            time.sleep(1.2)  # past the metadata cache
            started = time.monotonic()
            for path in ("/a.jpg", "/never-existed.jpg"):
                down = http.get(path)
                assert down.status_code in (503, 504)
                assert "retry-after" in down.headers
                assert down.headers["cache-control"] == "no-store"
            assert time.monotonic() - started < 20  # answered, not hung
            endpoint.start()
            new_bucket_again = type(bucket)(endpoint, bucket.name)  # moto starts empty
            new_bucket_again.put("a.jpg", b"\xff\xd8\xff\xe0back")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                response = http.get("/a.jpg")
                if response.status_code == 200:
                    break
                time.sleep(0.2)
            assert response.status_code == 200 and response.content.endswith(b"back")
            assert http.get("/never-existed.jpg").status_code == 404
    finally:
        endpoint.stop()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[storage]\nbackend = "s3"\n', "needs a bucket"),
        ('[storage]\nbackend = "s3"\nbucket = "No_Such"\n', "not an S3 bucket name"),
        ('[storage]\nbackend = "s3"\nbucket = "abc"\nroot = "x"\n', "filesystem"),
        ('[storage]\nbucket = "abc"\n', 'for backend = "s3" only'),
        ('[storage]\nbackend = "s3"\nbucket = "abc"\ntimeout = -1\n', "seconds"),
    ],
)
def test_s3_config_mistakes(tmp_path, table, message):
    from origin.config import ConfigError, load_config

    path = tmp_path / "config.toml"
    path.write_text(table)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_check_says_it_reads_a_filesystem(tmp_path, s3_endpoint):
    import subprocess
    import sys
    from pathlib import Path

    config = write_config(tmp_path, "", bucket=new_bucket(s3_endpoint))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "media-origin"), "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "filesystem storage" in result.stderr


def test_readyz_on_an_empty_bucket_and_on_a_missing_one(tmp_path, s3_endpoint):
    """/readyz reads the bucket (a one-key listing, then that object's metadata): an
    empty bucket is ready, there being nothing to read; a bucket that is not there
    is not."""
    bucket = new_bucket(s3_endpoint)
    config = write_config(tmp_path, "", bucket=bucket)
    with start_server(config, tmp_path, server="granian") as server, server.client() as http:
        assert (http.get("/readyz").status_code, http.get("/readyz").text) == (200, "ready\n")
        bucket.s3.delete_bucket(Bucket=bucket.name)
        gone = http.get("/readyz")
        assert gone.status_code == 503 and gone.headers["cache-control"] == "no-store"


def big_document(tag: str) -> bytes:
    """Over 64 KiB, so it is streamed from the store, never from the small-body cache;
    a different length per tag, so old headers over new bytes cannot pass."""
    line = f"{tag} {hashlib.sha256(tag.encode()).hexdigest()}\n".encode()
    size = 300_000 + 1_000 * len(tag)
    return (line * (size // len(line) + 1))[:size]


@pytest.mark.parametrize("by", ["another instance", "another tool"])
def test_an_object_replaced_behind_the_metadata_cache_is_served_whole_and_new(
    tmp_path, s3_endpoint, by
):
    """A long metadata_ttl keeps the old stat; the next GET must still be the new
    bytes under their own ETag and length (the store's MD5 for another tool's
    object), never the old headers over a cut body, and what follows no stale stat."""
    bucket = new_bucket(s3_endpoint)
    old, new = big_document("old"), big_document("the new one")
    bucket.put_as_origin("docs/big.txt", old)
    config = tmp_path / "config.toml"
    config.write_text(bucket.storage_table(metadata_ttl=60))
    with start_server(config, tmp_path, server="granian") as server, server.client() as http:
        first = http.get("/docs/big.txt")
        assert first.status_code == 200 and first.content == old
        assert first.headers["etag"] == etag_of(old)
        if by == "another instance":
            bucket.put_as_origin("docs/big.txt", new)
            expected = etag_of(new)
        else:
            bucket.put("docs/big.txt", new)
            expected = f'"{hashlib.md5(new).hexdigest()}"'
        for method in ("GET", "HEAD", "GET"):
            reply = http.request(method, "/docs/big.txt")
            assert reply.status_code == 200, method
            assert (reply.headers["etag"], reply.headers["content-length"]) == (
                expected,
                str(len(new)),
            ), method
            if method == "GET":
                assert reply.content == new


def etag_of(body: bytes) -> str:
    """The strong ETag media-origin derives from the bytes: 128 bits of SHA-256."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'
