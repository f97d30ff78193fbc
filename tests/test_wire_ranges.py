"""Range requests over the wire (issue 2, point 4).

Every answer is checked exactly: the status (206, 200 or 416), Content-Range,
Content-Length and the bytes themselves, so a server that ignored Range (or
If-Range) fails here instead of passing with its 200.
"""

import httpx
import pytest

from tests.helpers.servers import PATTERN, STANDARD_FILES

SIZE = len(PATTERN)


def assert_part(response: httpx.Response, data: bytes, start: int, stop: int) -> None:
    """A 206 of exactly ``data[start:stop]``."""
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{stop - 1}/{len(data)}"
    assert response.headers["content-length"] == str(stop - start)
    assert response.content == data[start:stop]


def assert_whole(response: httpx.Response, data: bytes) -> None:
    """A 200 of the whole file, with no trace of a part."""
    assert response.status_code == 200
    assert "content-range" not in response.headers
    assert response.headers["content-length"] == str(len(data))
    assert response.content == data


def numbered(words: int) -> bytes:
    """Each 4-byte word is its own index: unlike PATTERN, whose bytes repeat every
    256, a part taken from a wrong offset (say one chunk early) never matches."""
    return b"".join(index.to_bytes(4, "big") for index in range(words))


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
        ("bytes=1-1", 1, 2),
        ("bytes=12345-12400", 12345, 12401),
    ],
)
def test_single_range_is_a_206(client, header, start, stop):
    response = client.get("/pattern.bin", headers={"range": header})
    assert_part(response, PATTERN, start, stop)
    # the representation headers travel with the part
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["etag"] == client.head("/pattern.bin").headers["etag"]
    assert response.headers["cache-control"] == "max-age=86400"


def test_the_bytes_of_a_part_are_the_ones_at_its_offsets(client):
    """PATTERN's byte at offset n is n % 256: spelled out, not only sliced."""
    assert client.get("/pattern.bin", headers={"range": "bytes=0-3"}).content == b"\x00\x01\x02\x03"
    assert client.get("/pattern.bin", headers={"range": "bytes=510-513"}).content == (
        b"\xfe\xff\x00\x01"
    )
    assert client.get("/pattern.bin", headers={"range": "bytes=-2"}).content == b"\xfe\xff"


def test_a_large_range_crosses_chunk_boundaries(serve):
    data = numbered(1 << 19)  # 2 MiB
    server = serve(files={"v.mp4": data})
    with server.client() as http:
        response = http.get("/v.mp4", headers={"range": "bytes=123457-1923456"})
        assert_part(response, data, 123457, 1923457)
        assert_part(
            http.get("/v.mp4", headers={"range": "bytes=-70000"}),
            data,
            len(data) - 70000,
            len(data),
        )


@pytest.mark.parametrize("header", ["bytes=102400-", "bytes=200000-300000", "bytes=-0"])
def test_unsatisfiable_range_is_a_416(client, header):
    response = client.get("/pattern.bin", headers={"range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{SIZE}"
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-length"] == str(len(response.content))
    assert PATTERN[:16] not in response.content


@pytest.mark.parametrize(
    ("header", "twin", "start", "stop"),
    [
        ("bytes=abc", "bytes=0-9", 0, 10),
        ("bytes=5-1", "bytes=1-5", 1, 6),
        ("pages=1-2", "bytes=1-2", 1, 3),
        ("bytes 0-9", "bytes=0-9", 0, 10),
        ("bytes=--1", "bytes=-1", SIZE - 1, SIZE),
        ("bytes=0-1,4-5", "bytes=0-1,2-5", 0, 6),  # disjoint: whole; touching: merged
    ],
)
def test_invalid_or_multiple_ranges_get_the_full_200(client, header, twin, start, stop):
    """Each header next to a valid twin that is a 206, so the 200 is the flaw's doing
    (a server ignoring every Range would fail the twin)."""
    assert_whole(client.get("/pattern.bin", headers={"range": header}), PATTERN)
    assert_part(client.get("/pattern.bin", headers={"range": twin}), PATTERN, start, stop)


def test_range_on_head_is_ignored(client):
    response = client.head("/pattern.bin", headers={"range": "bytes=0-9"})
    assert response.status_code == 200
    assert "content-range" not in response.headers
    assert response.headers["content-length"] == str(SIZE)
    assert response.content == b""
    assert_part(client.get("/pattern.bin", headers={"range": "bytes=0-9"}), PATTERN, 0, 10)


def test_range_on_an_empty_file(client):
    unsatisfiable = client.get("/empty.txt", headers={"range": "bytes=0-0"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == "bytes */0"
    # a suffix of an empty file is the empty file, sent whole
    assert_whole(client.get("/empty.txt", headers={"range": "bytes=-5"}), b"")


class TestIfRange:
    def test_matching_strong_etag_gives_the_range(self, client):
        etag = client.head("/pattern.bin").headers["etag"]
        response = client.get("/pattern.bin", headers={"range": "bytes=0-9", "if-range": etag})
        assert_part(response, PATTERN, 0, 10)

    def test_exact_last_modified_gives_the_range(self, client):
        date = client.head("/pattern.bin").headers["last-modified"]
        response = client.get("/pattern.bin", headers={"range": "bytes=10-19", "if-range": date})
        assert_part(response, PATTERN, 10, 20)

    @pytest.mark.parametrize(
        "if_range",
        ['"not-the-etag"', "Thu, 01 Jan 1970 00:00:00 GMT", "garbage"],
    )
    def test_anything_else_gives_the_whole_file(self, client, if_range):
        response = client.get("/pattern.bin", headers={"range": "bytes=0-9", "if-range": if_range})
        assert_whole(response, PATTERN)
        # without the If-Range, the same Range is a 206
        assert_part(client.get("/pattern.bin", headers={"range": "bytes=0-9"}), PATTERN, 0, 10)

    def test_a_weak_etag_never_satisfies_if_range(self, client):
        note = STANDARD_FILES["weak/note.txt"].encode()
        etag = client.head("/weak/note.txt").headers["etag"]
        assert etag.startswith('W/"')
        # the same Range alone is honoured: the 200 below is If-Range's doing
        assert_part(client.get("/weak/note.txt", headers={"range": "bytes=0-1"}), note, 0, 2)
        response = client.get("/weak/note.txt", headers={"range": "bytes=0-1", "if-range": etag})
        assert_whole(response, note)
