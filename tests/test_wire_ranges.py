"""Range requests over the wire (issue 2, point 4)."""

import pytest

from tests.helpers.servers import PATTERN

SIZE = len(PATTERN)


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        ("bytes=0-9", 0, 10),
        ("bytes=0-0", 0, 1),
        ("bytes=100000-", 100000, SIZE),
        ("bytes=-1", SIZE - 1, SIZE),
        ("bytes=-300", SIZE - 300, SIZE),
        ("bytes=1000-999999999", 1000, SIZE),
        ("bytes=0-99,50-199", 0, 200),  # overlapping ranges are merged into one
        ("bytes=0-", 0, SIZE),
        ("bytes=300000-400000,0-9", 0, 10),  # the unsatisfiable part is dropped
    ],
)
def test_single_range_is_a_206(client, header, start, stop):
    response = client.get("/pattern.bin", headers={"range": header})
    assert response.status_code == 206
    assert response.content == PATTERN[start:stop]
    assert response.headers["content-range"] == f"bytes {start}-{stop - 1}/{SIZE}"
    assert response.headers["content-length"] == str(stop - start)
    # the representation headers travel with the part
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["etag"] == client.head("/pattern.bin").headers["etag"]
    assert response.headers["cache-control"] == "max-age=86400"


def test_a_large_range_crosses_chunk_boundaries(serve):
    data = bytes(range(256)) * 8192  # 2 MiB
    server = serve(files={"v.mp4": data})
    with server.client() as http:
        response = http.get("/v.mp4", headers={"range": "bytes=123457-1923456"})
    assert response.status_code == 206
    assert response.content == data[123457:1923457]


@pytest.mark.parametrize("header", ["bytes=102400-", "bytes=200000-300000", "bytes=-0"])
def test_unsatisfiable_range_is_a_416(client, header):
    response = client.get("/pattern.bin", headers={"range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{SIZE}"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "header",
    ["bytes=abc", "bytes=5-1", "pages=1-2", "bytes 0-9", "bytes=--1", "bytes=0-1,4-5"],
)
def test_invalid_or_multiple_ranges_get_the_full_200(client, header):
    response = client.get("/pattern.bin", headers={"range": header})
    assert response.status_code == 200
    assert response.content == PATTERN
    assert "content-range" not in response.headers


def test_range_on_head_is_ignored(client):
    response = client.head("/pattern.bin", headers={"range": "bytes=0-9"})
    assert response.status_code == 200
    assert response.headers["content-length"] == str(SIZE)


def test_range_on_an_empty_file(client):
    assert client.get("/empty.txt", headers={"range": "bytes=0-0"}).status_code == 416
    assert client.get("/empty.txt", headers={"range": "bytes=-5"}).status_code == 200


class TestIfRange:
    def test_matching_strong_etag_gives_the_range(self, client):
        etag = client.head("/pattern.bin").headers["etag"]
        response = client.get("/pattern.bin", headers={"range": "bytes=0-9", "if-range": etag})
        assert response.status_code == 206
        assert response.content == PATTERN[:10]

    def test_exact_last_modified_gives_the_range(self, client):
        date = client.head("/pattern.bin").headers["last-modified"]
        response = client.get("/pattern.bin", headers={"range": "bytes=0-9", "if-range": date})
        assert response.status_code == 206

    @pytest.mark.parametrize(
        "if_range",
        ['"not-the-etag"', "Thu, 01 Jan 1970 00:00:00 GMT", "garbage"],
    )
    def test_anything_else_gives_the_whole_file(self, client, if_range):
        response = client.get("/pattern.bin", headers={"range": "bytes=0-9", "if-range": if_range})
        assert response.status_code == 200
        assert response.content == PATTERN

    def test_a_weak_etag_never_satisfies_if_range(self, client):
        etag = client.head("/weak/note.txt").headers["etag"]
        assert etag.startswith('W/"')
        response = client.get("/weak/note.txt", headers={"range": "bytes=0-1", "if-range": etag})
        assert response.status_code == 200
