"""GET and HEAD of stored files over a real socket (issue 2, point 3)."""

import threading
import time

import httpx
import pytest

from tests.helpers.servers import PATTERN, STANDARD_FILES


def test_get_sends_the_bytes_and_the_representation_headers(client):
    response = client.get("/hello.txt")
    assert response.status_code == 200
    assert response.content == b"hello, world\n"
    assert response.headers["content-type"] == "text/plain"
    assert response.headers["content-length"] == "13"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "max-age=86400"


def test_head_sends_the_same_headers_without_a_body(client):
    get = client.get("/pattern.bin")
    head = client.head("/pattern.bin")
    assert head.status_code == 200
    assert head.content == b""
    drop = {"date", "x-request-id"}
    assert {k: v for k, v in head.headers.items() if k not in drop} == {
        k: v for k, v in get.headers.items() if k not in drop
    }
    assert head.headers["content-length"] == str(len(PATTERN))


def test_nested_folders_are_served_at_their_relative_path(client):
    response = client.get("/campaigns/2026/black-friday.mp4")
    assert response.status_code == 200
    assert response.content == STANDARD_FILES["campaigns/2026/black-friday.mp4"]
    assert response.headers["content-length"] == str(len(response.content))


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/audio/voice.ogg", "audio/ogg; codecs=opus"),
        ("/video/clip.3gp", "video/3gpp"),
        ("/stickers/hi.webp", "image/webp"),
        ("/audio/track.m4a", "audio/mp4"),
        ("/docs/sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("/campaigns/promo.jpg", "image/jpeg"),
        ("/docs/data.json", "application/json"),
        ("/docs/unknown.zzz", "application/octet-stream"),
    ],
)
def test_content_type_follows_the_whatsapp_table_first(client, path, content_type):
    assert client.head(path).headers["content-type"] == content_type


def test_query_string_never_changes_the_file(client):
    plain = client.get("/hello.txt")
    for query in ("?abc123", "?v=1&x=../../etc/passwd", "?", "?%00"):
        busted = client.get("/hello.txt" + query)
        assert busted.status_code == 200
        assert busted.content == plain.content
        assert busted.headers["etag"] == plain.headers["etag"]


def test_empty_file(client):
    response = client.get("/empty.txt")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "0"


def test_a_large_file_streams_with_flat_memory(serve, tmp_path):
    """100 MB served while the server's RSS grows by far less than the file."""
    server = serve()
    size = 100 * 1024 * 1024
    with (server.root / "big.mp4").open("wb") as big:
        big.truncate(size)  # sparse: quick to make, read as zeros
    with server.client() as http:
        http.get("/hello.txt")  # warm up the process before measuring
        before = server.rss_kib()
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], server.rss_kib())
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        received = 0
        try:
            with http.stream("GET", "/big.mp4") as response:
                assert response.headers["content-length"] == str(size)
                for chunk in response.iter_bytes(1024 * 1024):
                    received += len(chunk)
                    time.sleep(0.0005)  # a slow reader, so the server must not buffer ahead
        finally:
            done.set()
            sampler.join()
    assert received == size
    growth_mib = (peak[0] - before) / 1024
    assert growth_mib < 32, f"server RSS grew by {growth_mib:.1f} MiB for a 100 MiB body"


def test_a_client_that_goes_away_mid_download_does_not_hurt_the_server(serve):
    server = serve()
    with (server.root / "big.bin").open("wb") as big:
        big.truncate(64 * 1024 * 1024)
    for _ in range(5):
        with server.client() as http, http.stream("GET", "/big.bin") as response:
            next(response.iter_raw(65536))
    with server.client() as http:
        last = http.get("/big.bin", headers={"range": "bytes=-1"})
    size = 64 * 1024 * 1024
    assert last.status_code == 206
    assert last.headers["content-range"] == f"bytes {size - 1}-{size - 1}/{size}"
    assert last.headers["content-length"] == "1"
    assert last.content == b"\x00"
    assert server.process.poll() is None


def test_concurrent_first_requests_agree_on_the_etag(serve):
    server = serve(files={"new.pdf": b"%PDF" + b"x" * 5_000_000})
    results: list[str] = []

    def fetch() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            results.append(http.head("/new.pdf").headers["etag"])

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1
